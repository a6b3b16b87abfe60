package model

import (
	"testing"
	"time"
)

func TestStatsBuckets(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 8000, time.UTC)
	tests := []struct {
		since     time.Time
		interval  StatsInterval
		wantStart time.Time
		wantN     int
	}{
		{now, StatsIntervalMinute, time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC), 1},
		{now.Add(-90 * time.Second), StatsIntervalMinute, time.Date(2025, 3, 4, 5, 4, 0, 0, time.UTC), 3},
		{now.Add(-1439 * time.Minute), StatsIntervalMinute, time.Date(2025, 3, 3, 5, 7, 0, 0, time.UTC), 1440},
		{now.Add(-time.Hour), StatsIntervalHour, time.Date(2025, 3, 4, 4, 0, 0, 0, time.UTC), 2},
		{now.Add(-1439 * time.Hour), StatsIntervalHour, time.Date(2025, 1, 3, 6, 0, 0, 0, time.UTC), 1440},
		// Another zone: the buckets are UTC's.
		{time.Date(2025, 3, 4, 10, 36, 30, 0, time.FixedZone("IST", 5*3600+1800)), StatsIntervalHour, time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC), 1},
	}
	for _, tt := range tests {
		start, n, err := StatsBuckets(tt.since, now, tt.interval)
		if err != nil || !start.Equal(tt.wantStart) || n != tt.wantN {
			t.Errorf("StatsBuckets(%v, %s) = %v, %d, %v; want %v, %d, nil", tt.since, tt.interval, start, n, err, tt.wantStart, tt.wantN)
		}
	}

	refused := []struct {
		since    time.Time
		interval StatsInterval
	}{
		{now.Add(time.Minute), StatsIntervalMinute},
		{now.Add(-1440 * time.Minute), StatsIntervalMinute},
		{now.Add(-1440 * time.Hour), StatsIntervalHour},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), StatsIntervalHour}, // further back than a Duration reaches
	}
	for _, tt := range refused {
		_, _, err := StatsBuckets(tt.since, now, tt.interval)
		if e, ok := err.(*Error); !ok || e.Code != CodeBadUserInput || e.Field != "since" {
			t.Errorf("StatsBuckets(%v, %s) = %v; want BAD_USER_INPUT on since", tt.since, tt.interval, err)
		}
	}
}
