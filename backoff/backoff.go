// Package backoff computes how long to wait before trying again: a retry
// schedule with jitter for deliveries, and exponential pauses for every loop
// that retries an operation (a claim, a write, a reconnection). Both are pure
// functions of the attempt number, so callers can store or test the result.
package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// Schedule is a retry policy: a list of delays with random jitter.
type Schedule struct {
	// Steps[n-1] is the delay after the n-th failed attempt.
	Steps []time.Duration
	// Jitter scales each delay by a random factor in [1-Jitter, 1+Jitter]:
	// 0.2 means ±20%. It is clamped to [0, 1].
	Jitter float64
	// Rand returns a number in [0, 1). Nil means math/rand/v2's Float64.
	Rand func() float64
}

// Next returns the delay before the next attempt after failedAttempts failed
// ones, and false when the schedule is exhausted. Before any attempt has
// failed (failedAttempts < 1) the delay is 0. Next is safe for concurrent
// use when Rand is.
func (s Schedule) Next(failedAttempts int) (time.Duration, bool) {
	if failedAttempts < 1 {
		return 0, true
	}
	if failedAttempts > len(s.Steps) {
		return 0, false
	}
	d := s.Steps[failedAttempts-1]
	jitter := min(max(s.Jitter, 0), 1)
	if jitter == 0 || d <= 0 {
		return d, true
	}
	random := s.Rand
	if random == nil {
		random = rand.Float64
	}
	scaled := float64(d) * (1 + jitter*(2*random()-1))
	if scaled >= math.MaxInt64 {
		return math.MaxInt64, true
	}
	return time.Duration(scaled), true
}

// Max returns the longest step, 0 for an empty schedule.
func (s Schedule) Max() time.Duration {
	var m time.Duration
	for _, d := range s.Steps {
		m = max(m, d)
	}
	return m
}

// Exponential returns the pause before retry n (from 1): base, doubled for
// each retry before it, and never more than limit.
func Exponential(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		if d > limit/2 {
			return limit // doubling would pass it, or overflow
		}
		d *= 2
	}
	return min(d, limit)
}
