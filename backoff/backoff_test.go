package backoff

import (
	"math"
	"testing"
	"time"
)

var defaultSteps = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}

// fixedRand returns a Rand that always returns v.
func fixedRand(v float64) func() float64 { return func() float64 { return v } }

func TestSchedule_Next(t *testing.T) {
	schedule := []time.Duration{10 * time.Second, time.Minute, time.Hour}
	tests := []struct {
		name   string
		b      Schedule
		failed int
		want   time.Duration
		wantOK bool
	}{
		{"NothingFailedYet", Schedule{Steps: schedule}, 0, 0, true},
		{"Negative", Schedule{Steps: schedule}, -1, 0, true},
		{"First", Schedule{Steps: schedule}, 1, 10 * time.Second, true},
		{"Second", Schedule{Steps: schedule}, 2, time.Minute, true},
		{"Last", Schedule{Steps: schedule}, 3, time.Hour, true},
		{"Exhausted", Schedule{Steps: schedule}, 4, 0, false},
		{"LongExhausted", Schedule{Steps: schedule}, 100, 0, false},
		{"EmptySchedule", Schedule{}, 1, 0, false},
		{"JitterLowest", Schedule{Steps: schedule, Jitter: 0.2, Rand: fixedRand(0)}, 2, 48 * time.Second, true},
		{"JitterMiddle", Schedule{Steps: schedule, Jitter: 0.2, Rand: fixedRand(0.5)}, 2, time.Minute, true},
		{"JitterHigh", Schedule{Steps: schedule, Jitter: 0.2, Rand: fixedRand(0.75)}, 2, 66 * time.Second, true},
		{"JitterExhausted", Schedule{Steps: schedule, Jitter: 0.2, Rand: fixedRand(0.75)}, 4, 0, false},
		{"NegativeJitterIsNone", Schedule{Steps: schedule, Jitter: -0.5, Rand: fixedRand(0)}, 1, 10 * time.Second, true},
		{"JitterClampedToOne", Schedule{Steps: schedule, Jitter: 3, Rand: fixedRand(0)}, 1, 0, true},
		{"Overflow", Schedule{Steps: []time.Duration{math.MaxInt64}, Jitter: 1, Rand: fixedRand(0.999)}, 1, math.MaxInt64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.b.Next(tt.failed)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Next(%d) = %v, %v; want %v, %v", tt.failed, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSchedule_NextDefaultRandStaysInRange(t *testing.T) {
	b := Schedule{Steps: defaultSteps, Jitter: 0.2}
	for n := 1; n <= len(defaultSteps); n++ {
		base := defaultSteps[n-1]
		lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
		for range 200 {
			got, ok := b.Next(n)
			if !ok || got < lo || got > hi {
				t.Fatalf("Next(%d) = %v, %v; want a delay in [%v, %v], true", n, got, ok, lo, hi)
			}
		}
	}
	if got, ok := b.Next(len(defaultSteps) + 1); ok {
		t.Errorf("Next(%d) = %v, true; want false", len(defaultSteps)+1, got)
	}
}

func TestSchedule_Max(t *testing.T) {
	if got := (Schedule{Steps: []time.Duration{time.Second, time.Hour, time.Minute}}).Max(); got != time.Hour {
		t.Errorf("Max() = %v; want 1h", got)
	}
	if got := (Schedule{}).Max(); got != 0 {
		t.Errorf("Max() of an empty schedule = %v; want 0", got)
	}
}

func TestExponential(t *testing.T) {
	tests := []struct {
		n           int
		base, limit time.Duration
		want        time.Duration
	}{
		{0, 100 * time.Millisecond, 5 * time.Second, 100 * time.Millisecond},
		{1, 100 * time.Millisecond, 5 * time.Second, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 5 * time.Second, 200 * time.Millisecond},
		{4, 100 * time.Millisecond, 5 * time.Second, 800 * time.Millisecond},
		{6, 100 * time.Millisecond, 5 * time.Second, 3200 * time.Millisecond},
		{7, 100 * time.Millisecond, 5 * time.Second, 5 * time.Second},
		{1000, 100 * time.Millisecond, 5 * time.Second, 5 * time.Second},
		{70, time.Second, math.MaxInt64, math.MaxInt64},
		{3, time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Exponential(tt.n, tt.base, tt.limit); got != tt.want {
			t.Errorf("Exponential(%d, %v, %v) = %v; want %v", tt.n, tt.base, tt.limit, got, tt.want)
		}
	}
}
