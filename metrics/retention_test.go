package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
)

type oldestAt struct{ t *time.Time }

func (o oldestAt) OldestEvent(context.Context) (*time.Time, error) { return o.t, nil }

func scrape(tb testing.TB, m *Metrics) string {
	tb.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestRetentionMetrics: the deletion counters exist at 0 from the start and
// add up what each batch deleted; the oldest event's age is read at each
// scrape, 0 without events.
func TestRetentionMetrics(t *testing.T) {
	m := New(nil, slog.New(slog.DiscardHandler))
	src := &oldestAt{}
	m.WatchOldestEvent(src, slog.New(slog.DiscardHandler))
	for _, line := range []string{
		`hookline_retention_deleted_total{kind="attempts"} 0`,
		`hookline_retention_deleted_total{kind="deliveries"} 0`,
		`hookline_retention_deleted_total{kind="events"} 0`,
		"hookline_oldest_event_age_seconds 0",
	} {
		if got := scrape(t, m); !strings.Contains(got, line+"\n") {
			t.Errorf("before any sweep, the metrics lack %q", line)
		}
	}
	m.ObserveSweep(model.Swept{Events: 2, Deliveries: 5, Attempts: 9})
	m.ObserveSweep(model.Swept{Deliveries: 1, Attempts: 1})
	hourAgo := time.Now().Add(-time.Hour)
	src.t = &hourAgo
	got := scrape(t, m)
	for _, line := range []string{
		`hookline_retention_deleted_total{kind="attempts"} 10`,
		`hookline_retention_deleted_total{kind="deliveries"} 6`,
		`hookline_retention_deleted_total{kind="events"} 2`,
		"hookline_oldest_event_age_seconds 3600",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("after two batches, the metrics lack %q", line)
		}
	}
}
