package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// attemptAt describes one attempt to record: when it started, how it
// ended and how long it took.
type attemptAt struct {
	at       time.Duration // after the test's start
	ok       bool
	duration int
}

// recordAttempts records one attempt per entry, each of its own delivery to
// w, as the engine would.
func recordAttempts(tb testing.TB, st *store.Store, w *model.Webhook, start time.Time, attempts []attemptAt) {
	tb.Helper()
	var ds []*model.Delivery
	for _, d := range leased(tb, st, w, len(attempts), "stats") {
		if d.WebhookID == w.ID { // leased publishes to every webhook of acme
			ds = append(ds, d)
		}
	}
	batch := make([]model.AttemptRecord, len(attempts))
	for i, a := range attempts {
		batch[i] = record(ds[i], w, start.Add(time.Hour))
		batch[i].Attempt.StartedAt = start.Add(a.at)
		batch[i].Attempt.DurationMs = a.duration
		if a.ok {
			batch[i].Status, batch[i].NextAttemptAt, batch[i].Attempt.Outcome = model.DeliveryStatusSucceeded, nil, model.AttemptOutcomeSuccess
		}
	}
	if _, err := st.RecordAttempts(context.Background(), batch); err != nil {
		tb.Fatalf("record attempts: %v", err)
	}
}

func statsString(stats []*model.AttemptStats) string {
	var b strings.Builder
	for _, s := range stats {
		d := "null"
		if s.DurationMs != nil {
			d = fmt.Sprint(*s.DurationMs)
		}
		fmt.Fprintf(&b, "%s %d/%d %s; ", s.Start.UTC().Format("15:04:05"), s.Succeeded, s.Failed, d)
	}
	return b.String()
}

// TestWebhookStats: a webhook's attempts are counted in the bucket they
// started in, the bounds are exact to the microsecond, empty buckets are
// there with zeros, and the mean duration is rounded.
func TestWebhookStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w, other := newHook(t, st), newHook(t, st)
		start := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)
		recordAttempts(t, st, w, start, []attemptAt{
			{-time.Microsecond, true, 1000}, // before the first bucket
			{10 * time.Second, true, 100},
			{50 * time.Second, false, 300},
			{3*time.Minute - time.Microsecond, true, 7},
			{3 * time.Minute, true, 1},
			{3*time.Minute + 59*time.Second, true, 2},
			{3*time.Minute + 30*time.Second, false, 4},
			{5 * time.Minute, false, 9}, // after the last bucket
		})
		recordAttempts(t, st, other, start, []attemptAt{{10 * time.Second, false, 50}})

		t.Run("Minutes", func(t *testing.T) {
			got, err := st.WebhookStats(ctx, "acme", w.ID, start, time.Minute, 5)
			if err != nil {
				t.Fatal(err)
			}
			want := "05:00:00 1/1 200; 05:01:00 0/0 null; 05:02:00 1/0 7; 05:03:00 2/1 2; 05:04:00 0/0 null; "
			if s := statsString(got); s != want {
				t.Errorf("WebhookStats by minute =\n%s\nwant\n%s", s, want)
			}
		})
		t.Run("Hours", func(t *testing.T) {
			got, err := st.WebhookStats(ctx, "acme", w.ID, start.Add(-time.Hour), time.Hour, 2)
			if err != nil {
				t.Fatal(err)
			}
			// (1000) | (100+300+7+1+2+4+9)/7 = 60.4
			want := "04:00:00 1/0 1000; 05:00:00 4/3 60; "
			if s := statsString(got); s != want {
				t.Errorf("WebhookStats by hour =\n%s\nwant\n%s", s, want)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			for _, c := range []struct{ owner, id string }{{"globex", w.ID}, {"acme", model.NewID(model.PrefixWebhook)}, {"acme", "nope"}} {
				_, err := st.WebhookStats(ctx, c.owner, c.id, start, time.Minute, 5)
				if code := model.ErrorCode(err); code != model.CodeNotFound {
					t.Errorf("WebhookStats(%s, %s) = %v (%s); want NOT_FOUND", c.owner, c.id, err, code)
				}
			}
		})
	})
}

// TestWebhookStatsUsesItsIndex: the statistics read a range of
// idx_attempts_webhook_started, never the whole attempts table.
func TestWebhookStatsUsesItsIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		start := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
		var hooks []*model.Webhook
		for range 4 {
			hooks = append(hooks, newHook(t, st))
		}
		for _, w := range hooks {
			attempts := make([]attemptAt, 50)
			for i := range attempts {
				attempts[i] = attemptAt{time.Duration(i) * 73 * time.Second, i%3 != 0, i}
			}
			recordAttempts(t, st, w, start, attempts)
		}
		plan, err := st.ExplainWebhookStats(ctx, hooks[1].ID, start, time.Minute, 60)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("plan:\n%s", strings.Join(plan, "\n"))
		joined := strings.Join(plan, "\n")
		if strings.HasPrefix(t.Name(), "TestWebhookStatsUsesItsIndex/mysql") {
			if !strings.Contains(joined, "key=idx_attempts_webhook_started ") || !strings.Contains(joined, "type=range") {
				t.Errorf("MySQL plan does not read a range of idx_attempts_webhook_started:\n%s", joined)
			}
			return
		}
		if !strings.Contains(joined, "USING COVERING INDEX idx_attempts_webhook_started (webhook_id=? AND started_at>? AND started_at<?)") {
			t.Errorf("SQLite plan does not search idx_attempts_webhook_started alone:\n%s", joined)
		}
	})
}
