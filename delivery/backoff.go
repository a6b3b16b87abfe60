package delivery

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSchedule is the delay before each retry: the first retry comes 5
// seconds after the first failed attempt, the last one about 28 hours after
// it. A delivery that fails 8 times is dead.
var DefaultSchedule = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// ParseSchedule parses a comma-separated list of Go durations, such as
// "5s, 5m, 30m", into a retry schedule. Spaces around items are ignored.
// Every item must be positive and there must be at least one; the error names
// the first bad item.
func ParseSchedule(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("parse schedule: empty")
	}
	items := strings.Split(s, ",")
	schedule := make([]time.Duration, 0, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("parse schedule: item %d is empty", i+1)
		}
		d, err := time.ParseDuration(item)
		if err != nil {
			return nil, fmt.Errorf("parse schedule: item %d %q: %w", i+1, item, err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("parse schedule: item %d %q: must be positive", i+1, item)
		}
		schedule = append(schedule, d)
	}
	return schedule, nil
}

// Backoff is a retry policy: a schedule of delays with random jitter. It is a
// pure function of the number of failed attempts, so the time of the next
// attempt can be stored and survives restarts.
type Backoff struct {
	// Schedule[n-1] is the delay after the n-th failed attempt.
	Schedule []time.Duration
	// Jitter scales each delay by a random factor in [1-Jitter, 1+Jitter]:
	// 0.2 means ±20%. It is clamped to [0, 1].
	Jitter float64
	// Rand returns a number in [0, 1). Nil means math/rand/v2's Float64.
	Rand func() float64
}

// Next returns the delay before the next attempt after failedAttempts failed
// ones, and false when the schedule is exhausted and the delivery is dead.
// Before any attempt has failed (failedAttempts < 1) the delay is 0.
// Next is safe for concurrent use when Rand is.
func (b Backoff) Next(failedAttempts int) (time.Duration, bool) {
	if failedAttempts < 1 {
		return 0, true
	}
	if failedAttempts > len(b.Schedule) {
		return 0, false
	}
	d := b.Schedule[failedAttempts-1]
	jitter := min(max(b.Jitter, 0), 1)
	if jitter == 0 || d <= 0 {
		return d, true
	}
	random := b.Rand
	if random == nil {
		random = rand.Float64
	}
	scaled := float64(d) * (1 + jitter*(2*random()-1))
	if scaled >= math.MaxInt64 {
		return math.MaxInt64, true
	}
	return time.Duration(scaled), true
}

// RetryAfter parses the value of a Retry-After response header, either
// delta-seconds or an HTTP date, into a delay from now. A date in the past or
// a negative number gives 0; when limit > 0 the delay is capped at limit. It
// returns false when the header is empty or unparseable.
func RetryAfter(header string, now time.Time, limit time.Duration) (time.Duration, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(header, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case secs <= 0:
			d = 0
		case secs > int64(math.MaxInt64/time.Second):
			d = math.MaxInt64
		default:
			d = time.Duration(secs) * time.Second
		}
	} else if t, err := http.ParseTime(header); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	if limit > 0 && d > limit {
		d = limit
	}
	return d, true
}
