package main

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

func TestReceiverAnswers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Timeout = 300 * time.Millisecond
		cfg.Schedule = []time.Duration{10 * time.Millisecond, 1500 * time.Millisecond}
		ts := newTestServerWith(t, newURL(t), cfg)
		var redirected atomic.Int32
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			switch r.URL.Path {
			case "/gone":
				return http.StatusGone
			case "/redirect":
				w.Header().Set("Location", "/target")
				return http.StatusFound
			case "/target":
				redirected.Add(1)
				return http.StatusOK
			case "/busy":
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			case "/slow":
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return http.StatusOK
			}
			return http.StatusOK
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		send := func(path string) (webhookJSON, string) {
			t.Helper()
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + path, "events": []string{"t." + strings.Trim(path, "/")}})
			ev := c.publish(t, "t."+strings.Trim(path, "/"), map[string]any{}, "")
			return w, ev.Deliveries.Edges[0].Node.ID
		}

		t.Run("410DisablesWebhook", func(t *testing.T) {
			w, id := send("/gone")
			d := c.waitStatus(t, id, "DEAD")
			if len(d.Attempts) != 1 {
				t.Errorf("attempts = %d; want 1 (no retry after 410)", len(d.Attempts))
			}
			var out struct {
				Webhook struct {
					Enabled        bool
					DisabledReason *string
				}
			}
			c.mustDo(t, `query($id: ID!) { webhook(id: $id) { enabled disabledReason } }`, map[string]any{"id": w.ID}, &out)
			if out.Webhook.Enabled || out.Webhook.DisabledReason == nil || !strings.Contains(*out.Webhook.DisabledReason, "410") {
				t.Errorf("webhook after 410 = %+v; want disabled with a reason naming 410", out.Webhook)
			}
			// Later events no longer go to it.
			ev := c.publish(t, "t.gone", map[string]any{}, "")
			if ev.Deliveries.TotalCount != 0 {
				t.Errorf("deliveries to a disabled webhook = %d; want 0", ev.Deliveries.TotalCount)
			}
		})

		t.Run("RedirectIsAFailure", func(t *testing.T) {
			_, id := send("/redirect")
			eventually(t, 5*time.Second, "first attempt", func() bool { return c.delivery(t, id).AttemptCount >= 1 })
			d := c.delivery(t, id)
			a := d.Attempts[0]
			if a.Outcome != "FAILURE" || a.StatusCode == nil || *a.StatusCode != 302 || a.Error == nil || !strings.Contains(*a.Error, "redirect") {
				t.Errorf("attempt = %+v; want a FAILURE with 302", a)
			}
			if n := redirected.Load(); n != 0 {
				t.Errorf("redirect target got %d requests; want 0", n)
			}
		})

		t.Run("RetryAfter", func(t *testing.T) {
			_, id := send("/busy")
			d := c.waitStatus(t, id, "SUCCEEDED")
			first := d.Attempts[0]
			if first.NextRetryAt == nil {
				t.Fatalf("first attempt nextRetryAt = nil")
			}
			if wait := first.NextRetryAt.Sub(first.StartedAt); wait < 900*time.Millisecond || wait > 1600*time.Millisecond {
				t.Errorf("retry after %v; want about 1s from Retry-After (the schedule says 10ms)", wait)
			}
		})

		t.Run("Timeout", func(t *testing.T) {
			_, id := send("/slow")
			eventually(t, 5*time.Second, "first attempt", func() bool { return c.delivery(t, id).AttemptCount >= 1 })
			a := c.delivery(t, id).Attempts[0]
			if a.Outcome != "FAILURE" || a.StatusCode != nil || a.Error == nil {
				t.Fatalf("attempt = %+v; want a FAILURE without status", a)
			}
			if a.Error == nil || !(strings.Contains(*a.Error, "deadline") || strings.Contains(*a.Error, "timeout") || strings.Contains(*a.Error, "Timeout")) {
				t.Errorf("error = %q; want it to say the request timed out", *a.Error)
			}
		})
	})
}

func TestPrivateTargetsRefused(t *testing.T) {
	cfg := testDeliveryConfig()
	cfg.AllowPrivateTargets = false
	ts := newTestServerWith(t, "sqlite://:memory:", cfg)
	rc := newReceiver(t, nil)
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	port := rc.URL[strings.LastIndex(rc.URL, ":"):]
	for _, url := range []string{rc.URL + "/ip", "http://localhost" + port + "/name", "http://169.254.169.254/latest/meta-data"} {
		w, _ := c.createWebhook(t, map[string]any{"url": url, "events": []string{"*"}})
		ev := c.publish(t, "probe", map[string]any{"webhook": w.ID}, "")
		var id string
		for _, e := range ev.Deliveries.Edges {
			if e.Node.WebhookID == w.ID {
				id = e.Node.ID
			}
		}
		eventually(t, 5*time.Second, "attempt to "+url, func() bool { return c.delivery(t, id).AttemptCount >= 1 })
		a := c.delivery(t, id).Attempts[0]
		if a.Outcome != "FAILURE" || a.Error == nil || !strings.Contains(*a.Error, "not allowed") {
			t.Errorf("attempt to %s = %+v; want a FAILURE saying the address is not allowed", url, a)
		}
		c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": w.ID}, nil)
	}
	if n := rc.count(""); n != 0 {
		t.Errorf("receiver on loopback got %d requests; want 0", n)
	}
}

func TestIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		acme.createWebhook(t, map[string]any{"url": rc.URL + "/a", "events": []string{"*"}})
		first := acme.publish(t, "order.created", map[string]any{"n": 1}, "order-1")
		again := acme.publish(t, "order.created", map[string]any{"n": 2}, "order-1")
		if again.ID != first.ID || again.Deliveries.TotalCount != 1 {
			t.Errorf("second publish = %s with %d deliveries; want the first event %s with 1", again.ID, again.Deliveries.TotalCount, first.ID)
		}
		if first.IdempotencyKey == nil || *first.IdempotencyKey != "order-1" {
			t.Errorf("idempotencyKey = %v; want order-1", first.IdempotencyKey)
		}
		other := globex.publish(t, "order.created", map[string]any{"n": 1}, "order-1")
		if other.ID == first.ID {
			t.Error("another owner's publish with the same key returned the first owner's event")
		}
		fresh := acme.publish(t, "order.created", map[string]any{"n": 3}, "order-2")
		if fresh.ID == first.ID {
			t.Error("a different key returned the first event")
		}
		eventually(t, 5*time.Second, "two deliveries", func() bool { return rc.count("/a") == 2 })
	})
}

func TestRedeliverAndReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc, healthy := newSwitchedReceiver(t, http.StatusBadGateway)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/r", "events": []string{"*"}})
		since := time.Now().Add(-time.Minute)
		var ids []string
		for i := range 3 {
			ev := c.publish(t, "order.created", map[string]any{"n": i}, "")
			ids = append(ids, ev.Deliveries.Edges[0].Node.ID)
		}
		for _, id := range ids {
			c.waitStatus(t, id, "DEAD")
		}
		healthy.Store(true)

		var out struct{ Redeliver deliveryJSON }
		c.mustDo(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { id status } }`, map[string]any{"id": ids[0]}, &out)
		if out.Redeliver.Status != "RETRYING" {
			t.Errorf("redeliver status = %s; want RETRYING", out.Redeliver.Status)
		}
		d := c.waitStatus(t, ids[0], "SUCCEEDED")
		if d.AttemptCount != 5 {
			t.Errorf("attempts after redeliver = %d; want 5", d.AttemptCount)
		}

		var replay struct{ ReplayFailedDeliveries int }
		c.mustDo(t, `mutation($id: ID!, $since: Time!) { replayFailedDeliveries(webhookId: $id, since: $since) }`,
			map[string]any{"id": w.ID, "since": since.Format(time.RFC3339Nano)}, &replay)
		if replay.ReplayFailedDeliveries != 2 {
			t.Errorf("replayFailedDeliveries = %d; want 2", replay.ReplayFailedDeliveries)
		}
		for _, id := range ids[1:] {
			c.waitStatus(t, id, "SUCCEEDED")
		}
		// A succeeded delivery can be sent once more too.
		c.mustDo(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, map[string]any{"id": ids[0]}, nil)
		eventually(t, 5*time.Second, "the extra attempt", func() bool { return c.delivery(t, ids[0]).AttemptCount == 6 })

		other := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		resp := other.do(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, map[string]any{"id": ids[0]})
		wantError(t, resp, model.CodeNotFound, "")
	})
}

func TestHealthAndAutoDisable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{time.Millisecond}
		cfg.DisableAfter = time.Millisecond
		ts := newTestServerWith(t, newURL(t), cfg)
		rc, healthy := newSwitchedReceiver(t, http.StatusInternalServerError)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/h", "events": []string{"*"}})
		health := func() (string, int, bool, *string) {
			var out struct {
				Webhook struct {
					Health              string
					ConsecutiveFailures int
					Enabled             bool
					DisabledReason      *string
				}
			}
			c.mustDo(t, `query($id: ID!) { webhook(id: $id) { health consecutiveFailures enabled disabledReason } }`, map[string]any{"id": w.ID}, &out)
			return out.Webhook.Health, out.Webhook.ConsecutiveFailures, out.Webhook.Enabled, out.Webhook.DisabledReason
		}
		if h, _, _, _ := health(); h != "UNKNOWN" {
			t.Errorf("health before any delivery = %s; want UNKNOWN", h)
		}
		// One event fails twice (two attempts): not yet unhealthy.
		ev := c.publish(t, "e", map[string]any{}, "")
		c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "DEAD")
		if h, n, _, _ := health(); h != "UNKNOWN" || n != 2 {
			t.Errorf("after 2 failures: health %s, failures %d; want UNKNOWN, 2", h, n)
		}
		ev = c.publish(t, "e", map[string]any{}, "")
		c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "DEAD")
		if h, n, _, _ := health(); h != "UNHEALTHY" || n != 4 {
			t.Errorf("after 4 failures: health %s, failures %d; want UNHEALTHY, 4", h, n)
		}
		healthy.Store(true)
		ev = c.publish(t, "e", map[string]any{}, "")
		c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
		if h, n, _, _ := health(); h != "HEALTHY" || n != 0 {
			t.Errorf("after a success: health %s, failures %d; want HEALTHY, 0", h, n)
		}
		healthy.Store(false)
		for i := 0; i < 5; i++ { // 10 failed attempts, all older than DisableAfter
			ev = c.publish(t, "e", map[string]any{}, "")
			c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "DEAD")
		}
		h, n, enabled, reason := health()
		if enabled || reason == nil || n < model.MinFailuresToDisable {
			t.Errorf("after %d failures: enabled %v, reason %v, health %s; want disabled automatically", n, enabled, reason, h)
		}
	})
}

func TestPingWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			if r.URL.Path == "/down" {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		up, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/up", "events": []string{"order.created"}})
		down, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"order.created"}})
		type pingJSON struct {
			WebhookID  string
			Health     string
			StatusCode *int
			DurationMs int
			Error      *string
		}
		ping := func(id string) pingJSON {
			var out struct{ PingWebhook pingJSON }
			c.mustDo(t, `mutation($id: ID!) { pingWebhook(id: $id) { webhookId health statusCode durationMs error } }`, map[string]any{"id": id}, &out)
			return out.PingWebhook
		}
		if p := ping(up.ID); p.WebhookID != up.ID || p.Health != "HEALTHY" || p.StatusCode == nil || *p.StatusCode != 204 || p.Error != nil {
			t.Errorf("ping of a live receiver = %+v", p)
		}
		if p := ping(down.ID); p.StatusCode == nil || *p.StatusCode != 503 || p.Error == nil {
			t.Errorf("ping of a failing receiver = %+v", p)
		}
		reqs := rc.requests("/up")
		if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"type":"webhook.ping"`) {
			t.Fatalf("ping requests = %d; want 1 webhook.ping", len(reqs))
		}
		// The ping is on record as a delivery with its attempt, and not retried.
		var out struct {
			Webhook struct {
				Deliveries struct{ Edges []struct{ Node deliveryJSON } }
			}
		}
		c.mustDo(t, `query($id: ID!) { webhook(id: $id) { deliveries { edges { node { `+deliveryFields+` } } } } }`, map[string]any{"id": down.ID}, &out)
		if e := out.Webhook.Deliveries.Edges; len(e) != 1 || e[0].Node.Status != "DEAD" || len(e[0].Node.Attempts) != 1 {
			t.Errorf("ping deliveries = %+v; want one DEAD delivery with one attempt", e)
		}
		resp := ts.newKey(t, "globex", model.ApiKeyRoleMember).do(t, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": up.ID})
		wantError(t, resp, model.CodeNotFound, "")
	})
}

func TestPublishEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/batch", "events": []string{"batch.a", "batch.b"}})
		first := c.publish(t, "batch.a", map[string]any{"n": 0}, "key-0")

		const q = `mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id type idempotencyKey deliveries { totalCount } } }`
		var out struct {
			PublishEvents []eventJSON
		}
		c.mustDo(t, q, map[string]any{"in": []map[string]any{
			{"type": "batch.a", "payload": map[string]any{"n": 1}},
			{"type": "batch.b", "payload": map[string]any{"n": 2}},
			{"type": "batch.a", "payload": map[string]any{"n": 3}, "idempotencyKey": "key-0"},
			{"type": "batch.none", "payload": map[string]any{"n": 4}},
		}}, &out)
		got := out.PublishEvents
		if len(got) != 4 || got[0].Type != "batch.a" || got[1].Type != "batch.b" || got[3].Type != "batch.none" {
			t.Fatalf("publishEvents = %+v; want the four events in order", got)
		}
		if got[2].ID != first.ID {
			t.Errorf("event with a used idempotency key = %s; want the first event %s", got[2].ID, first.ID)
		}
		if got[0].Deliveries.TotalCount != 1 || got[3].Deliveries.TotalCount != 0 {
			t.Errorf("deliveries = %d, %d; want 1 and 0", got[0].Deliveries.TotalCount, got[3].Deliveries.TotalCount)
		}
		eventually(t, 5*time.Second, "three deliveries", func() bool { return rc.count("/batch") == 3 })

		resp := c.do(t, q, map[string]any{"in": []map[string]any{
			{"type": "batch.a", "payload": map[string]any{"n": 5}},
			{"type": "batch.a", "payload": "not an object"},
		}})
		wantError(t, resp, model.CodeBadUserInput, "inputs[1].payload")
		resp = c.do(t, q, map[string]any{"in": []map[string]any{}})
		wantError(t, resp, model.CodeBadUserInput, "inputs")
		var count struct{ Events struct{ TotalCount int } }
		c.mustDo(t, `{ events { totalCount } }`, nil, &count)
		if count.Events.TotalCount != 4 {
			t.Errorf("events stored = %d; want 4 (a refused batch stores nothing)", count.Events.TotalCount)
		}
	})
}
