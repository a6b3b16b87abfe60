package main

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// eventCreatedAt returns the stored createdAt of the caller's event id.
func (c *client) eventCreatedAt(tb testing.TB, id string) time.Time {
	tb.Helper()
	var out struct {
		Event *struct{ CreatedAt time.Time }
	}
	c.mustDo(tb, `query($id: ID!) { event(id: $id) { createdAt } }`, map[string]any{"id": id}, &out)
	if out.Event == nil {
		tb.Fatalf("event %s not found", id)
	}
	return out.Event.CreatedAt
}

// deliveryCount returns how many deliveries the caller can see.
func (c *client) deliveryCount(tb testing.TB) int {
	tb.Helper()
	var out struct{ Deliveries struct{ TotalCount int } }
	c.mustDo(tb, `{ deliveries(first: 1) { totalCount } }`, nil, &out)
	return out.Deliveries.TotalCount
}

// TestIdempotencyWindowExpires publishes twice with one key (the same event,
// no new delivery), moves the first event's stored created_at back 23 hours
// (still the same event) and then 25 hours (a new event with its own
// delivery): the key deduplicates for 24 hours, not for ever.
func TestIdempotencyWindowExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := newURL(t)
		if url == "sqlite://:memory:" {
			url = "sqlite://" + filepath.Join(t.TempDir(), "hookline.db")
		}
		ts := newTestServer(t, url)
		db := rawDB(t, url)
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/idem", "events": []string{"*"}})

		first := c.publish(t, "order.created", map[string]any{"n": 1}, "order-7")
		if first.Deliveries.TotalCount != 1 {
			t.Fatalf("first publish made %d deliveries; want 1", first.Deliveries.TotalCount)
		}
		again := c.publish(t, "order.created", map[string]any{"n": 2}, "order-7")
		if again.ID != first.ID {
			t.Fatalf("second publish within the window = %s; want the first event %s", again.ID, first.ID)
		}
		if n := c.deliveryCount(t); n != 1 {
			t.Fatalf("deliveries after a duplicate publish = %d; want 1", n)
		}
		eventually(t, 5*time.Second, "the first event's request", func() bool { return rc.count("/idem") == 1 })

		// moveBack sets the first event's stored created_at to age ago and
		// checks that the API reads it back so.
		moveBack := func(t *testing.T, age time.Duration) {
			t.Helper()
			at := time.Now().UTC().Add(-age).Truncate(time.Millisecond)
			res, err := db.Exec("UPDATE events SET created_at = ? WHERE id = ?", at, first.ID)
			if err != nil {
				t.Fatalf("move created_at back: %v", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("UPDATE events changed %d rows; want 1", n)
			}
			if got := c.eventCreatedAt(t, first.ID); !got.Equal(at) {
				t.Fatalf("createdAt after the UPDATE = %v; want %v", got, at)
			}
		}

		moveBack(t, 23*time.Hour)
		within := c.publish(t, "order.created", map[string]any{"n": 3}, "order-7")
		if within.ID != first.ID {
			t.Errorf("publish 23h after the first = %s; want the first event %s", within.ID, first.ID)
		}
		if n := c.deliveryCount(t); n != 1 {
			t.Errorf("deliveries after a publish 23h later = %d; want 1", n)
		}

		moveBack(t, 25*time.Hour)
		after := c.publish(t, "order.created", map[string]any{"n": 4}, "order-7")
		if after.ID == first.ID {
			t.Fatalf("publish 25h after the first returned the first event %s; want a new event", first.ID)
		}
		if after.IdempotencyKey == nil || *after.IdempotencyKey != "order-7" {
			t.Errorf("new event idempotencyKey = %v; want order-7", after.IdempotencyKey)
		}
		if after.Deliveries.TotalCount != 1 {
			t.Errorf("new event has %d deliveries; want 1", after.Deliveries.TotalCount)
		}
		if n := c.deliveryCount(t); n != 2 {
			t.Errorf("deliveries after the window = %d; want 2", n)
		}
		eventually(t, 5*time.Second, "the new event's request", func() bool { return rc.count("/idem") == 2 })
		// The key now belongs to the new event.
		if again := c.publish(t, "order.created", map[string]any{"n": 5}, "order-7"); again.ID != after.ID {
			t.Errorf("publish after the renewal = %s; want the new event %s", again.ID, after.ID)
		}
	})
}

// TestReplaySince replays from the stored createdAt of a delivery between
// two groups of DEAD deliveries: exactly the later group is re-queued (since
// is inclusive), the older one stays DEAD and a SUCCEEDED delivery in the
// window is left alone.
func TestReplaySince(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t)) // 4 attempts, then DEAD
		rc, healthy := newSwitchedReceiver(t, http.StatusBadGateway)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/replay", "events": []string{"*"}})

		// publishUntil publishes one event to w and waits for its delivery
		// to reach status.
		publishUntil := func(status string) string {
			t.Helper()
			ev := c.publish(t, "order.created", map[string]any{}, "")
			if len(ev.Deliveries.Edges) != 1 {
				t.Fatalf("event made %d deliveries; want 1", len(ev.Deliveries.Edges))
			}
			id := ev.Deliveries.Edges[0].Node.ID
			c.waitStatus(t, id, status)
			return id
		}
		old := []string{publishUntil("DEAD"), publishUntil("DEAD")}
		recent := []string{publishUntil("DEAD")}
		healthy.Store(true)
		succeeded := publishUntil("SUCCEEDED")
		healthy.Store(false)
		recent = append(recent, publishUntil("DEAD"))

		var created struct {
			Delivery struct{ CreatedAt time.Time }
		}
		c.mustDo(t, `query($id: ID!) { delivery(id: $id) { createdAt } }`, map[string]any{"id": recent[0]}, &created)
		since := created.Delivery.CreatedAt
		var last struct {
			Delivery struct{ CreatedAt time.Time }
		}
		c.mustDo(t, `query($id: ID!) { delivery(id: $id) { createdAt } }`, map[string]any{"id": old[1]}, &last)
		if !last.Delivery.CreatedAt.Before(since) {
			t.Fatalf("older group created %v, not before the boundary %v", last.Delivery.CreatedAt, since)
		}

		healthy.Store(true)
		var replay struct{ ReplayFailedDeliveries int }
		c.mustDo(t, `mutation($id: ID!, $since: Time!) { replayFailedDeliveries(webhookId: $id, since: $since) }`,
			map[string]any{"id": w.ID, "since": since.Format(time.RFC3339Nano)}, &replay)
		if replay.ReplayFailedDeliveries != len(recent) {
			t.Errorf("replayFailedDeliveries(since %v) = %d; want %d", since, replay.ReplayFailedDeliveries, len(recent))
		}
		// Checked before the replayed ones are sent: a re-queued delivery
		// is RETRYING or SUCCEEDED at once, never DEAD.
		for _, id := range old {
			if d := c.delivery(t, id); d.Status != "DEAD" || d.AttemptCount != 4 {
				t.Errorf("delivery %s before since = %s after %d attempts; want DEAD after 4 (not replayed)", id, d.Status, d.AttemptCount)
			}
		}
		for _, id := range recent {
			if d := c.waitStatus(t, id, "SUCCEEDED"); d.AttemptCount != 5 {
				t.Errorf("replayed delivery %s attempts = %d; want 5", id, d.AttemptCount)
			}
		}
		if d := c.delivery(t, succeeded); d.Status != "SUCCEEDED" || d.AttemptCount != 1 {
			t.Errorf("succeeded delivery after the replay = %s with %d attempts; want SUCCEEDED with 1", d.Status, d.AttemptCount)
		}
		for _, id := range old {
			if d := c.delivery(t, id); d.Status != "DEAD" || d.AttemptCount != 4 {
				t.Errorf("delivery %s before since, after the replay = %s with %d attempts; want DEAD with 4", id, d.Status, d.AttemptCount)
			}
		}
	})
}

// TestWorkersCapTotal: with two workers and a high per-webhook cap, a
// receiver that holds every request sees at most two at once across three
// webhooks, and every delivery still arrives as requests are released one by
// one.
func TestWorkersCapTotal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Workers = 2
		cfg.MaxInflightPerWebhook = 50
		cfg.Timeout = 30 * time.Second // held requests must not time out and retry
		ts := newTestServerWith(t, newURL(t), cfg)
		var (
			inflight, peak atomic.Int32
			release        = make(chan struct{}) // one value lets one request answer
			stop           = make(chan struct{}) // closed: every request answers
			stopOnce       sync.Once
		)
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			now := inflight.Add(1)
			defer inflight.Add(-1)
			for old := peak.Load(); now > old && !peak.CompareAndSwap(old, now); old = peak.Load() {
			}
			select {
			case <-release:
			case <-stop:
			case <-r.Context().Done():
			}
			return http.StatusOK
		})
		// After the receiver's own cleanup, so that its Close does not wait
		// for held requests.
		t.Cleanup(func() { stopOnce.Do(func() { close(stop) }) })
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		const hooks, perHook = 3, 4
		for i := range hooks {
			c.createWebhook(t, map[string]any{"url": rc.URL + "/h" + strconv.Itoa(i), "events": []string{"*"}})
		}
		for i := range perHook {
			c.publish(t, "e", map[string]any{"i": i}, "")
		}
		const total = hooks * perHook
		for answered := range total {
			if left := total - answered; left >= 2 {
				eventually(t, 10*time.Second, "two requests in flight", func() bool { return inflight.Load() >= 2 })
			}
			if p := peak.Load(); p > 2 {
				t.Fatalf("%d concurrent requests with %d answered; want at most 2 (Workers)", p, answered)
			}
			select {
			case release <- struct{}{}:
			case <-time.After(10 * time.Second):
				t.Fatalf("no request to release after %d answered (in flight %d)", answered, inflight.Load())
			}
		}
		eventually(t, 10*time.Second, "every request answered", func() bool { return rc.count("") == total && inflight.Load() == 0 })
		if p := peak.Load(); p != 2 {
			t.Errorf("peak concurrent requests = %d; want 2 (Workers)", p)
		}
		seen := map[string]int{}
		for _, r := range rc.requests("") {
			seen[r.Path]++
		}
		for i := range hooks {
			if n := seen["/h"+strconv.Itoa(i)]; n != perHook {
				t.Errorf("/h%d received %d requests; want %d", i, n, perHook)
			}
		}
	})
}

// TestDeliveryRecordFields reads the fields no other test queries:
// Webhook.lastDeliveryAt (null until an attempt, then the latest attempt's
// time), Delivery.lastAttempt (the latest of two attempts),
// DeliveryAttempt.responseHeaders (each attempt's own response header),
// DeliveryAttempt.eventId and DeliveryAttempt.delivery.
func TestDeliveryRecordFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			w.Header().Set("X-Receiver-Trace", "answer-"+strconv.Itoa(n))
			if n == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusAccepted
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/rec", "events": []string{"*"}})

		lastDeliveryAt := func() *time.Time {
			t.Helper()
			var out struct {
				Webhook *struct{ LastDeliveryAt *time.Time }
			}
			c.mustDo(t, `query($id: ID!) { webhook(id: $id) { lastDeliveryAt } }`, map[string]any{"id": w.ID}, &out)
			if out.Webhook == nil {
				t.Fatalf("webhook %s not found", w.ID)
			}
			return out.Webhook.LastDeliveryAt
		}
		if got := lastDeliveryAt(); got != nil {
			t.Errorf("lastDeliveryAt before any attempt = %v; want null", got)
		}

		ev := c.publish(t, "order.created", map[string]any{"n": 1}, "")
		id := ev.Deliveries.Edges[0].Node.ID
		c.waitStatus(t, id, "SUCCEEDED")

		type attempt struct {
			ID              string
			AttemptNumber   int
			EventID         string
			WebhookID       string
			EventType       string
			StartedAt       time.Time
			Delivery        struct{ ID string }
			ResponseHeaders []model.Header
		}
		var out struct {
			Delivery struct {
				LastAttempt *attempt
				Attempts    []attempt
			}
		}
		const fields = `id attemptNumber eventId webhookId eventType startedAt delivery { id } responseHeaders { name value }`
		c.mustDo(t, `query($id: ID!) { delivery(id: $id) { lastAttempt { `+fields+` } attempts { `+fields+` } } }`,
			map[string]any{"id": id}, &out)
		atts := out.Delivery.Attempts
		if len(atts) != 2 {
			t.Fatalf("attempts = %+v; want 2", atts)
		}
		if la := out.Delivery.LastAttempt; la == nil || la.ID != atts[1].ID || la.AttemptNumber != 2 {
			t.Errorf("lastAttempt = %+v; want attempt 2 %s", la, atts[1].ID)
		}
		for i, a := range atts {
			if a.EventID != ev.ID || a.Delivery.ID != id || a.WebhookID != w.ID || a.EventType != "order.created" {
				t.Errorf("attempt %d eventId %s, delivery %s, webhookId %s, eventType %s; want %s, %s, %s, order.created",
					i+1, a.EventID, a.Delivery.ID, a.WebhookID, a.EventType, ev.ID, id, w.ID)
			}
			want := "answer-" + strconv.Itoa(i+1)
			found := false
			for _, h := range a.ResponseHeaders {
				found = found || (strings.EqualFold(h.Name, "X-Receiver-Trace") && h.Value == want)
			}
			if !found {
				t.Errorf("attempt %d responseHeaders = %v; want X-Receiver-Trace: %s", i+1, a.ResponseHeaders, want)
			}
		}

		got := lastDeliveryAt()
		if got == nil {
			t.Fatal("lastDeliveryAt after two attempts = null; want a time")
		}
		if got.Before(atts[1].StartedAt) || got.After(time.Now().Add(time.Second)) {
			t.Errorf("lastDeliveryAt = %v; want at or after the last attempt's start %v and not in the future", got, atts[1].StartedAt)
		}
	})
}
