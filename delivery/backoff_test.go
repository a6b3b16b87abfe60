package delivery

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in   string
		want []time.Duration
	}{
		{"5s", []time.Duration{5 * time.Second}},
		{"5s,5m,30m", []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute}},
		{" 1m30s , 2h ,\t500ms ", []time.Duration{90 * time.Second, 2 * time.Hour, 500 * time.Millisecond}},
		{"5s, 5m, 30m, 2h, 5h, 10h, 10h", DefaultSchedule},
	}
	for _, tt := range tests {
		got, err := ParseSchedule(tt.in)
		if err != nil {
			t.Errorf("ParseSchedule(%q) error: %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseSchedule(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseSchedule_Errors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // a part of the message
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"5s,", "item 2 is empty"},
		{",5s", "item 1 is empty"},
		{"5s,,5m", "item 2 is empty"},
		{"5s,soon", `item 2 "soon"`},
		{"5", `item 1 "5"`},
		{"5s,0s", `item 2 "0s": must be positive`},
		{"5s,5m,-1m", `item 3 "-1m": must be positive`},
	}
	for _, tt := range tests {
		got, err := ParseSchedule(tt.in)
		if err == nil {
			t.Errorf("ParseSchedule(%q) = %v, nil; want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseSchedule(%q) error = %q; want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

// fixedRand returns a Rand that always returns v.
func fixedRand(v float64) func() float64 { return func() float64 { return v } }

func TestBackoff_Next(t *testing.T) {
	schedule := []time.Duration{10 * time.Second, time.Minute, time.Hour}
	tests := []struct {
		name   string
		b      Backoff
		failed int
		want   time.Duration
		wantOK bool
	}{
		{"NothingFailedYet", Backoff{Schedule: schedule}, 0, 0, true},
		{"Negative", Backoff{Schedule: schedule}, -1, 0, true},
		{"First", Backoff{Schedule: schedule}, 1, 10 * time.Second, true},
		{"Second", Backoff{Schedule: schedule}, 2, time.Minute, true},
		{"Last", Backoff{Schedule: schedule}, 3, time.Hour, true},
		{"Exhausted", Backoff{Schedule: schedule}, 4, 0, false},
		{"LongExhausted", Backoff{Schedule: schedule}, 100, 0, false},
		{"EmptySchedule", Backoff{}, 1, 0, false},
		{"JitterLowest", Backoff{Schedule: schedule, Jitter: 0.2, Rand: fixedRand(0)}, 2, 48 * time.Second, true},
		{"JitterMiddle", Backoff{Schedule: schedule, Jitter: 0.2, Rand: fixedRand(0.5)}, 2, time.Minute, true},
		{"JitterHigh", Backoff{Schedule: schedule, Jitter: 0.2, Rand: fixedRand(0.75)}, 2, 66 * time.Second, true},
		{"JitterExhausted", Backoff{Schedule: schedule, Jitter: 0.2, Rand: fixedRand(0.75)}, 4, 0, false},
		{"NegativeJitterIsNone", Backoff{Schedule: schedule, Jitter: -0.5, Rand: fixedRand(0)}, 1, 10 * time.Second, true},
		{"JitterClampedToOne", Backoff{Schedule: schedule, Jitter: 3, Rand: fixedRand(0)}, 1, 0, true},
		{"Overflow", Backoff{Schedule: []time.Duration{math.MaxInt64}, Jitter: 1, Rand: fixedRand(0.999)}, 1, math.MaxInt64, true},
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

func TestBackoff_NextDefaultRandStaysInRange(t *testing.T) {
	b := Backoff{Schedule: DefaultSchedule, Jitter: 0.2}
	for n := 1; n <= len(DefaultSchedule); n++ {
		base := DefaultSchedule[n-1]
		lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
		for range 200 {
			got, ok := b.Next(n)
			if !ok || got < lo || got > hi {
				t.Fatalf("Next(%d) = %v, %v; want a delay in [%v, %v], true", n, got, ok, lo, hi)
			}
		}
	}
	if got, ok := b.Next(len(DefaultSchedule) + 1); ok {
		t.Errorf("Next(%d) = %v, true; want false", len(DefaultSchedule)+1, got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header string
		limit  time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"Empty", "", time.Hour, 0, false},
		{"Blank", "   ", time.Hour, 0, false},
		{"Seconds", "120", time.Hour, 2 * time.Minute, true},
		{"SecondsTrimmed", " 30 ", time.Hour, 30 * time.Second, true},
		{"Zero", "0", time.Hour, 0, true},
		{"Negative", "-5", time.Hour, 0, true},
		{"Capped", "7200", time.Hour, time.Hour, true},
		{"NoLimit", "7200", 0, 2 * time.Hour, true},
		{"HugeNumber", "99999999999999999999999", time.Hour, time.Hour, true},
		{"HugeNumberNoLimit", "9223372036854775807", 0, math.MaxInt64, true},
		{"HugeNegative", "-99999999999999999999999", time.Hour, 0, true},
		{"Date", date(90 * time.Second), time.Hour, 90 * time.Second, true},
		{"DateRFC850", now.Add(time.Minute).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Hour, time.Minute, true},
		{"DateANSIC", now.Add(time.Minute).Format(time.ANSIC), time.Hour, time.Minute, true},
		{"DatePast", date(-time.Hour), time.Hour, 0, true},
		{"DateCapped", date(48 * time.Hour), time.Hour, time.Hour, true},
		{"Fraction", "1.5", time.Hour, 0, false},
		{"Duration", "5s", time.Hour, 0, false},
		{"Garbage", "soon", time.Hour, 0, false},
		{"ISODate", "2024-05-06T07:09:09Z", time.Hour, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RetryAfter(tt.header, now, tt.limit)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%q, now, %v) = %v, %v; want %v, %v", tt.header, tt.limit, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
