package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// webhookState is what health bookkeeping shows of a webhook.
type webhookState struct {
	Health              string
	ConsecutiveFailures int
	Enabled             bool
	DisabledReason      *string
}

func (s webhookState) String() string {
	reason := "<nil>"
	if s.DisabledReason != nil {
		reason = fmt.Sprintf("%q", *s.DisabledReason)
	}
	return fmt.Sprintf("{health %s, consecutiveFailures %d, enabled %v, disabledReason %s}", s.Health, s.ConsecutiveFailures, s.Enabled, reason)
}

// webhookState fetches the webhook's health, failure count and enablement.
func (c *client) webhookState(tb testing.TB, id string) webhookState {
	tb.Helper()
	var out struct{ Webhook *webhookState }
	c.mustDo(tb, `query($id: ID!) { webhook(id: $id) { health consecutiveFailures enabled disabledReason } }`, map[string]any{"id": id}, &out)
	if out.Webhook == nil {
		tb.Fatalf("webhook %s not found", id)
	}
	return *out.Webhook
}

// publishDead publishes an event that must make one delivery, to the
// failing webhook id, and waits until the delivery is DEAD: all its
// attempts failed and none is cancelled.
func (c *client) publishDead(tb testing.TB, webhookID string) {
	tb.Helper()
	ev := c.publish(tb, "e", map[string]any{}, "")
	if len(ev.Deliveries.Edges) != 1 {
		tb.Fatalf("event made %d deliveries; want 1 (webhook now %v)", len(ev.Deliveries.Edges), c.webhookState(tb, webhookID))
	}
	id := ev.Deliveries.Edges[0].Node.ID
	var d deliveryJSON
	eventually(tb, 10*time.Second, "delivery "+id+" to finish", func() bool {
		d = c.delivery(tb, id)
		return d.Status == "DEAD" || d.Status == "SUCCEEDED" || d.Status == "CANCELLED"
	})
	if d.Status != "DEAD" {
		tb.Fatalf("delivery %s after %d attempts; want DEAD (webhook now %v)", d.Status, d.AttemptCount, c.webhookState(tb, webhookID))
	}
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
			s := c.webhookState(t, w.ID)
			return s.Health, s.ConsecutiveFailures, s.Enabled, s.DisabledReason
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

func TestHealthThreshold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{time.Millisecond} // two attempts per event
		ts := newTestServerWith(t, newURL(t), cfg)
		rc, healthy := newSwitchedReceiver(t, http.StatusInternalServerError)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/h", "events": []string{"*"}})
		want := func(when, health string, failures int) {
			t.Helper()
			if s := c.webhookState(t, w.ID); s.Health != health || s.ConsecutiveFailures != failures {
				t.Errorf("%s: health %s, consecutiveFailures %d; want %s, %d", when, s.Health, s.ConsecutiveFailures, health, failures)
			}
		}

		c.publishDead(t, w.ID)
		if s := c.webhookState(t, w.ID); s.Health == "UNHEALTHY" || s.ConsecutiveFailures != 2 {
			t.Errorf("after 2 failed attempts: health %s, consecutiveFailures %d; want not UNHEALTHY, 2", s.Health, s.ConsecutiveFailures)
		}
		if h := c.ping(t, w.ID); h != "UNHEALTHY" {
			t.Errorf("ping health after the 3rd failed attempt = %s; want UNHEALTHY", h)
		}
		want("after 3 failed attempts", "UNHEALTHY", 3)

		healthy.Store(true)
		ev := c.publish(t, "e", map[string]any{}, "")
		c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
		want("after a success", "HEALTHY", 0)

		// The count is of consecutive failures: it starts again after a success.
		healthy.Store(false)
		c.ping(t, w.ID)
		c.ping(t, w.ID)
		want("after a success and 2 failed attempts", "HEALTHY", 2)
		c.ping(t, w.ID)
		want("after a success and 3 failed attempts", "UNHEALTHY", 3)
	})
}

func TestAutoDisableNeedsTimeAndFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		failing := func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError }

		t.Run("LongDisableAfterKeepsEnabled", func(t *testing.T) {
			cfg := testDeliveryConfig()
			cfg.Schedule = []time.Duration{time.Millisecond} // two attempts per event
			cfg.DisableAfter = time.Hour
			ts := newTestServerWith(t, newURL(t), cfg)
			rc := newReceiver(t, failing)
			c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"*"}})
			for range 6 {
				c.publishDead(t, w.ID)
			}
			s := c.webhookState(t, w.ID)
			if !s.Enabled || s.DisabledReason != nil || s.ConsecutiveFailures != 12 {
				t.Fatalf("after 12 failures within DisableAfter: enabled %v, reason %v, failures %d; want enabled, no reason, 12",
					s.Enabled, s.DisabledReason, s.ConsecutiveFailures)
			}

			// Control: once the failing run is older than DisableAfter, the
			// next failure disables it.
			at := time.Now().Add(-2 * time.Hour).UTC()
			updateStored(t, ts, w.ID, func(w *model.Webhook) error {
				if w.FailingSince == nil {
					return errors.New("failingSince not set after 12 failures")
				}
				w.FailingSince = &at
				return nil
			}, func(w *model.Webhook) bool {
				return w.FailingSince != nil && w.FailingSince.Sub(at).Abs() < time.Second
			})
			ev := c.publish(t, "e", map[string]any{}, "")
			if ev.Deliveries.TotalCount != 1 {
				t.Fatalf("deliveries = %d; want 1 to the still enabled webhook", ev.Deliveries.TotalCount)
			}
			eventually(t, 5*time.Second, "the webhook to be disabled", func() bool { return !c.webhookState(t, w.ID).Enabled })
			if s := c.webhookState(t, w.ID); s.DisabledReason == nil {
				t.Errorf("disabled without a reason: %v", s)
			}
		})

		t.Run("TenFailuresNeeded", func(t *testing.T) {
			cfg := testDeliveryConfig()
			cfg.Schedule = []time.Duration{time.Millisecond, time.Millisecond} // three attempts per event
			cfg.DisableAfter = time.Millisecond
			ts := newTestServerWith(t, newURL(t), cfg)
			rc := newReceiver(t, failing)
			c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"*"}})
			for range 3 {
				c.publishDead(t, w.ID)
			}
			if s := c.webhookState(t, w.ID); !s.Enabled || s.ConsecutiveFailures != 9 {
				t.Fatalf("after 9 failures past DisableAfter: enabled %v, failures %d; want enabled, 9", s.Enabled, s.ConsecutiveFailures)
			}
			ev := c.publish(t, "e", map[string]any{}, "")
			d := c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "CANCELLED")
			s := c.webhookState(t, w.ID)
			if s.Enabled || s.DisabledReason == nil || s.ConsecutiveFailures != 10 || d.AttemptCount != 1 {
				t.Errorf("after the 10th failure: enabled %v, reason %v, failures %d, attempts of the last delivery %d; want disabled with a reason at exactly 10, 1",
					s.Enabled, s.DisabledReason, s.ConsecutiveFailures, d.AttemptCount)
			}
		})
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
		c.mustDo(t, `query($id: ID!) { webhook(id: $id) { deliveries(first: 2) { edges { node { `+deliveryFields+` } } } } }`, map[string]any{"id": down.ID}, &out)
		if e := out.Webhook.Deliveries.Edges; len(e) != 1 || e[0].Node.Status != "DEAD" || len(e[0].Node.Attempts) != 1 {
			t.Errorf("ping deliveries = %+v; want one DEAD delivery with one attempt", e)
		}
		resp := ts.newKey(t, "globex", model.ApiKeyRoleMember).do(t, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": up.ID})
		wantError(t, resp, model.CodeNotFound, "")
	})
}
