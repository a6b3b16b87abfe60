package model

import (
	"io"
	"strconv"
	"time"
)

// StatsInterval is the width of the buckets a webhook's attempts are
// counted in.
type StatsInterval string

const (
	StatsIntervalMinute StatsInterval = "MINUTE"
	StatsIntervalHour   StatsInterval = "HOUR"
)

// IsValid reports whether i is one of the known intervals.
func (i StatsInterval) IsValid() bool { return i == StatsIntervalMinute || i == StatsIntervalHour }

// Duration returns the width of a bucket; MINUTE for an unknown interval.
func (i StatsInterval) Duration() time.Duration {
	if i == StatsIntervalHour {
		return time.Hour
	}
	return time.Minute
}

func (i StatsInterval) String() string { return string(i) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (i *StatsInterval) UnmarshalGQL(v any) error { return unmarshalEnum(v, i, "StatsInterval") }

// MarshalGQL implements graphql.Marshaler.
func (i StatsInterval) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(i))) }

// AttemptStats counts the attempts to deliver to a webhook that started in
// one bucket of time.
type AttemptStats struct {
	// Start is the bucket's start; it ends where the next one starts.
	Start     time.Time
	Succeeded int
	Failed    int
	// DurationMs is the mean duration of the bucket's attempts in
	// milliseconds, rounded; nil when there were none.
	DurationMs *int
}

// MaxStatsBuckets is the most buckets one request for statistics spans: a
// day of minutes.
const MaxStatsBuckets = 24 * 60

// StatsBuckets returns the buckets of interval that span since to now: the
// start of the first, which holds since (since truncated to the interval,
// in UTC), and how many there are up to the one holding now. A since in the
// future, or more than MaxStatsBuckets buckets back, is BAD_USER_INPUT on
// since.
func StatsBuckets(since, now time.Time, interval StatsInterval) (start time.Time, n int, err error) {
	width := interval.Duration()
	start = since.UTC().Truncate(width)
	last := now.UTC().Truncate(width)
	if start.After(last) {
		return time.Time{}, 0, InvalidField("since", "is in the future")
	}
	// Sub saturates: a since centuries back is refused too.
	if last.Sub(start) >= MaxStatsBuckets*width {
		return time.Time{}, 0, InvalidField("since", "reaches back more than %d %s buckets; ask for a later since or a wider interval", MaxStatsBuckets, interval)
	}
	return start, int(last.Sub(start)/width) + 1, nil
}
