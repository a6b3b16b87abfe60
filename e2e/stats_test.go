package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
)

const webhookStatsQuery = `query($id: ID!, $since: Time!, $interval: StatsInterval) {
	webhookStats(id: $id, since: $since, interval: $interval) { start succeeded failed durationMs } }`

type statsJSON struct {
	Start      time.Time
	Succeeded  int
	Failed     int
	DurationMs *int
}

// TestWebhookStats: webhookStats counts a webhook's real attempts in
// buckets from since to now, empty ones included, for its owner only.
func TestWebhookStats(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			return http.StatusInternalServerError // one failure, retried
		}
		return http.StatusNoContent
	})
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/stats", "events": []string{"*"}})
	for i := range 2 {
		ev := c.publish(t, "order.created", map[string]any{"n": i}, "")
		c.waitStatus(t, onlyDelivery(t, ev), "SUCCEEDED")
	}

	stats := func(t *testing.T, since time.Time, interval string) (before, after time.Time, got []statsJSON) {
		t.Helper()
		var out struct{ WebhookStats []statsJSON }
		vars := map[string]any{"id": w.ID, "since": since.Format(time.RFC3339Nano)}
		if interval != "" {
			vars["interval"] = interval
		}
		before = time.Now()
		c.mustDo(t, webhookStatsQuery, vars, &out)
		return before, time.Now(), out.WebhookStats
	}
	// check holds the buckets to their shape and totals: width apart from
	// since truncated, up to the one holding now, every attempt counted once.
	check := func(t *testing.T, since, before, after time.Time, width time.Duration, got []statsJSON) {
		t.Helper()
		start := since.UTC().Truncate(width)
		minN := int(before.UTC().Truncate(width).Sub(start)/width) + 1
		maxN := int(after.UTC().Truncate(width).Sub(start)/width) + 1
		if len(got) < minN || len(got) > maxN {
			t.Fatalf("%d buckets; want %d (from %v to now)", len(got), minN, start)
		}
		var succeeded, failed, empty int
		for i, b := range got {
			if want := start.Add(time.Duration(i) * width); !b.Start.Equal(want) {
				t.Errorf("bucket %d starts at %v; want %v", i, b.Start, want)
			}
			succeeded += b.Succeeded
			failed += b.Failed
			switch {
			case b.Succeeded+b.Failed == 0 && b.DurationMs != nil:
				t.Errorf("bucket %d has no attempts but durationMs %d; want null", i, *b.DurationMs)
			case b.Succeeded+b.Failed == 0:
				empty++
			case b.DurationMs == nil || *b.DurationMs < 0:
				t.Errorf("bucket %d has attempts but durationMs %v; want their mean", i, deref(b.DurationMs))
			}
		}
		if succeeded != 2 || failed != 1 {
			t.Errorf("buckets count %d succeeded, %d failed; want 2, 1", succeeded, failed)
		}
		if len(got) > 2 && empty == 0 {
			t.Errorf("%d buckets for attempts within a second, none empty; want the empty buckets too", len(got))
		}
	}

	t.Run("Minutes", func(t *testing.T) {
		since := time.Now().Add(-5 * time.Minute)
		before, after, got := stats(t, since, "") // MINUTE by default
		check(t, since, before, after, time.Minute, got)
	})
	t.Run("Hours", func(t *testing.T) {
		since := time.Now().Add(-50 * time.Hour)
		before, after, got := stats(t, since, "HOUR")
		check(t, since, before, after, time.Hour, got)
	})
	t.Run("ADayOfMinutes", func(t *testing.T) {
		since := time.Now().Add(-1438 * time.Minute) // 1,439 or 1,440 buckets
		before, after, got := stats(t, since, "MINUTE")
		check(t, since, before, after, time.Minute, got)
	})
	t.Run("ErrTooFarBack", func(t *testing.T) {
		for _, c := range []struct {
			back     time.Duration
			interval string
		}{{25 * time.Hour, "MINUTE"}, {61 * 24 * time.Hour, "HOUR"}} {
			vars := map[string]any{"id": w.ID, "since": time.Now().Add(-c.back).Format(time.RFC3339), "interval": c.interval}
			wantError(t, ts.admin.actingAs("acme").do(t, webhookStatsQuery, vars), model.CodeBadUserInput, "since")
		}
	})
	t.Run("ErrFuture", func(t *testing.T) {
		vars := map[string]any{"id": w.ID, "since": time.Now().Add(time.Hour).Format(time.RFC3339)}
		wantError(t, c.do(t, webhookStatsQuery, vars), model.CodeBadUserInput, "since")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		since := time.Now().Add(-time.Minute).Format(time.RFC3339)
		wantError(t, globex.do(t, webhookStatsQuery, map[string]any{"id": w.ID, "since": since}), model.CodeNotFound, "")
		wantError(t, c.do(t, webhookStatsQuery, map[string]any{"id": model.NewID(model.PrefixWebhook), "since": since}), model.CodeNotFound, "")
	})
	t.Run("ErrComplexity", func(t *testing.T) {
		// A day of minutes is priced as 1,440 buckets: four of them at once
		// are over the limit.
		since := time.Now().Add(-1438 * time.Minute).Format(time.RFC3339)
		var q strings.Builder
		q.WriteString("query($id: ID!) {")
		for i := range 4 {
			fmt.Fprintf(&q, ` s%d: webhookStats(id: $id, since: %q) { start succeeded failed durationMs }`, i, since)
		}
		q.WriteString(" }")
		resp := c.do(t, q.String(), map[string]any{"id": w.ID})
		if len(resp.Errors) == 0 || !strings.Contains(strings.ToLower(resp.Errors[0].Message), "complexity") {
			t.Errorf("four days of minutes at once: errors %+v; want a complexity error", resp.Errors)
		}
	})
}
