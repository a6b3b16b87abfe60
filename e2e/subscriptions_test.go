package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

const webhookUpdatedQuery = `subscription($id: ID) { webhookUpdated(id: $id) { id description health enabled disabledReason consecutiveFailures } }`

type webhookData struct {
	WebhookUpdated struct {
		ID, Description, Health string
		Enabled                 bool
		DisabledReason          *string
		ConsecutiveFailures     int
	}
}

// onlyMatching receives sub's messages until one for which last holds, and
// returns it. Every message before it must satisfy match: late messages of
// liven's triggers do; one the filter should have dropped does not.
func onlyMatching[T any](tb testing.TB, sub *subscription, what string, match, last func(T) bool) T {
	tb.Helper()
	for {
		var raw json.RawMessage
		sub.receive(tb, &raw)
		var m T
		if err := json.Unmarshal(raw, &m); err != nil {
			tb.Fatalf("decode subscription data %s: %v", raw, err)
		}
		if last(m) {
			return m
		}
		if !match(m) {
			tb.Fatalf("%s received %s, which its filter does not accept", what, raw)
		}
	}
}

// awaitDeliveries reads a deliveryUpdated subscription until each of the
// deliveries ids has arrived with status, in any order.
func awaitDeliveries(tb testing.TB, sub *subscription, status string, ids ...string) {
	tb.Helper()
	pending := map[string]bool{}
	for _, id := range ids {
		pending[id] = true
	}
	for len(pending) > 0 {
		var m deliveryMsg
		sub.receive(tb, &m)
		if m.DeliveryUpdated.Status == status {
			delete(pending, m.DeliveryUpdated.ID)
		}
	}
}

func (c *client) setDescription(tb testing.TB, id, description string) {
	tb.Helper()
	c.mustDo(tb, `mutation($id: ID!, $d: String!) { updateWebhook(id: $id, input: {description: $d}) { id } }`,
		map[string]any{"id": id, "d": description}, nil)
}

// isDelivery returns a test for the message of delivery id with status.
func isDelivery(id, status string) func(deliveryMsg) bool {
	return func(d deliveryMsg) bool { return d.DeliveryUpdated.ID == id && d.DeliveryUpdated.Status == status }
}

// eventDeliveries returns the IDs of the event's deliveries by webhook ID.
func eventDeliveries(tb testing.TB, ev eventJSON, want int) map[string]string {
	tb.Helper()
	if len(ev.Deliveries.Edges) != want {
		tb.Fatalf("event %s has %d deliveries; want %d", ev.ID, len(ev.Deliveries.Edges), want)
	}
	out := map[string]string{}
	for _, e := range ev.Deliveries.Edges {
		out[e.Node.WebhookID] = e.Node.ID
	}
	return out
}

func TestSubscriptionsMirrorAttempts(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if strings.HasPrefix(r.URL.Path, "/flaky") && n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	probeHook, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"probe.only"}})

	for _, proto := range subscriptionProtocols {
		t.Run(proto, func(t *testing.T) {
			typ := "order." + strings.ReplaceAll(proto, "-", "_")
			w, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/flaky-" + proto, "events": []string{typ}})
			attempts := subscribe(t, ts.URL, proto, acme.key, attemptQuery, nil)
			successes := subscribe(t, ts.URL, proto, acme.key, attemptQuery, map[string]any{"f": map[string]any{"outcome": "SUCCESS"}})
			deliveries := subscribe(t, ts.URL, proto, acme.key, deliveryQuery, nil)
			liven(t, attempts, probeHook.ID, func() { acme.ping(t, probeHook.ID) })
			liven(t, successes, probeHook.ID, func() { acme.ping(t, probeHook.ID) })
			liven(t, deliveries, probeHook.ID, func() { acme.ping(t, probeHook.ID) })

			ev := acme.publish(t, typ, map[string]any{"awb": "125"}, "")
			dlv := ev.Deliveries.Edges[0].Node.ID
			acme.waitStatus(t, dlv, "SUCCEEDED")

			wantOutcomes := []string{"FAILURE", "FAILURE", "SUCCESS"}
			wantCodes := []int{500, 500, 200}
			for i := range 3 {
				var m attemptMsg
				attempts.receiveSkipping(t, probeHook.ID, &m)
				a := m.DeliveryAttempts
				if a.AttemptNumber != i+1 || a.Outcome != wantOutcomes[i] || a.StatusCode == nil || *a.StatusCode != wantCodes[i] || a.EventType != typ || a.WebhookID != w.ID {
					t.Errorf("attempt message %d = %+v; want attempt %d %s %d", i+1, a, i+1, wantOutcomes[i], wantCodes[i])
				}
			}
			var m attemptMsg
			successes.receiveSkipping(t, probeHook.ID, &m)
			if a := m.DeliveryAttempts; a.AttemptNumber != 3 || a.Outcome != "SUCCESS" {
				t.Errorf("filtered (outcome SUCCESS) message = %+v; want attempt 3 only", a)
			}
			// Created, then one message per attempt: every attempt changes
			// attemptCount, even when the status stays RETRYING.
			for i, want := range []string{"PENDING", "RETRYING", "RETRYING", "SUCCEEDED"} {
				var d deliveryMsg
				deliveries.receiveSkipping(t, probeHook.ID, &d)
				if got := d.DeliveryUpdated; got.ID != dlv || got.Status != want || got.AttemptCount != i {
					t.Errorf("delivery message %d = %+v; want %s %s after %d attempts", i, got, dlv, want, i)
				}
			}
			// Nothing more: only probes follow until the final one.
			acme.publish(t, "probe.only", map[string]any{"final": true}, "")
			var final attemptMsg
			for {
				attempts.receiveSkipping(t, "", &final)
				if final.DeliveryAttempts.WebhookID == w.ID {
					t.Errorf("extra attempt message: %+v", final.DeliveryAttempts)
				}
				if final.DeliveryAttempts.EventType == "probe.only" {
					break
				}
			}
		})
	}
}

// The filter tests share a shape. A filtered subscription and an unfiltered
// one are made live with changes the filter accepts. Then a change the
// filter rejects is made, and seen on the unfiltered subscription (so it
// has passed the broker), before a change the filter accepts: up to the
// accepted change, the filtered subscription must receive nothing its
// filter rejects.

func TestSubscriptionAttemptFilters(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, nil)

	t.Run("WebhookID", func(t *testing.T) {
		c := ts.newKey(t, "attempts-by-webhook", model.ApiKeyRoleMember)
		mine, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/mine", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"mine"}}})
		other, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/other", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"other"}}})
		all := subscribe(t, ts.URL, protoTransportWS, c.key, attemptQuery, nil)
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, attemptQuery, map[string]any{"f": map[string]any{"webhookId": mine.ID}})
		pingMine := func() { c.ping(t, mine.ID) }
		liven(t, all, "", pingMine)
		liven(t, sub, "", pingMine)

		// Same event type, other webhook.
		n := c.publish(t, "order.created", map[string]any{"to": "other"}, "")
		if ds := eventDeliveries(t, n, 1); ds[other.ID] == "" {
			t.Fatalf("non-matching event's deliveries = %v; want one to %s", ds, other.ID)
		}
		until(t, all, n.ID, "")
		m := c.publish(t, "order.created", map[string]any{"to": "mine"}, "")

		got := onlyMatching(t, sub, "deliveryAttempts(filter: {webhookId})",
			func(a attemptMsg) bool { return a.DeliveryAttempts.WebhookID == mine.ID },
			func(a attemptMsg) bool { return a.DeliveryAttempts.EventID == m.ID }).DeliveryAttempts
		if got.WebhookID != mine.ID || got.AttemptNumber != 1 || got.Outcome != "SUCCESS" || got.EventType != "order.created" {
			t.Errorf("matching attempt = %+v; want attempt 1 to %s, SUCCESS", got, mine.ID)
		}
	})

	t.Run("EventType", func(t *testing.T) {
		c := ts.newKey(t, "attempts-by-type", model.ApiKeyRoleMember)
		hook, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/any", "events": []string{"*"}})
		all := subscribe(t, ts.URL, protoLegacyWS, c.key, attemptQuery, nil)
		sub := subscribe(t, ts.URL, protoLegacyWS, c.key, attemptQuery, map[string]any{"f": map[string]any{"eventType": "order.paid"}})
		publishPaid := func() { c.publish(t, "order.paid", map[string]any{"probe": true}, "") }
		liven(t, all, "", publishPaid)
		liven(t, sub, "", publishPaid)

		// Same webhook, other event type.
		n := c.publish(t, "order.refunded", map[string]any{}, "")
		onlyDelivery(t, n)
		until(t, all, n.ID, "")
		m := c.publish(t, "order.paid", map[string]any{}, "")

		got := onlyMatching(t, sub, "deliveryAttempts(filter: {eventType: order.paid})",
			func(a attemptMsg) bool { return a.DeliveryAttempts.EventType == "order.paid" },
			func(a attemptMsg) bool { return a.DeliveryAttempts.EventID == m.ID }).DeliveryAttempts
		if got.EventType != "order.paid" || got.WebhookID != hook.ID || got.Outcome != "SUCCESS" {
			t.Errorf("matching attempt = %+v; want the order.paid attempt to %s", got, hook.ID)
		}
	})
}

func TestSubscriptionDeliveryFilters(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:") // schedule 10ms, 20ms, 30ms
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if r.URL.Path == "/down" {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})

	t.Run("WebhookID", func(t *testing.T) {
		c := ts.newKey(t, "deliveries-by-webhook", model.ApiKeyRoleMember)
		mine, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/mine", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"mine"}}})
		other, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/other", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"other"}}})
		all := subscribe(t, ts.URL, protoTransportWS, c.key, deliveryQuery, nil)
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, deliveryQuery, map[string]any{"f": map[string]any{"webhookId": mine.ID}})
		pingMine := func() { c.ping(t, mine.ID) } // a SUCCEEDED ping delivery
		liven(t, all, "", pingMine)
		liven(t, sub, "", pingMine)

		// Same event type, other webhook: PENDING, SUCCEEDED.
		n := c.publish(t, "order.created", map[string]any{"to": "other"}, "")
		if ds := eventDeliveries(t, n, 1); ds[other.ID] == "" {
			t.Fatalf("non-matching event's deliveries = %v; want one to %s", ds, other.ID)
		}
		awaitDeliveries(t, all, "SUCCEEDED", onlyDelivery(t, n))
		md := onlyDelivery(t, c.publish(t, "order.created", map[string]any{"to": "mine"}, ""))

		match := func(d deliveryMsg) bool { return d.DeliveryUpdated.WebhookID == mine.ID }
		got := onlyMatching(t, sub, "deliveryUpdated(filter: {webhookId})", match,
			isDelivery(md, "SUCCEEDED"))
		if !match(got) {
			t.Errorf("matching delivery = %+v; want webhook %s", got.DeliveryUpdated, mine.ID)
		}
	})

	t.Run("EventID", func(t *testing.T) {
		c := ts.newKey(t, "deliveries-by-event", model.ApiKeyRoleMember)
		a, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/a", "events": []string{"order.created"}})
		b, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/b", "events": []string{"order.created"}})
		e := c.publish(t, "order.created", map[string]any{"n": 1}, "")
		ds := eventDeliveries(t, e, 2)
		da, db := ds[a.ID], ds[b.ID]
		c.waitStatus(t, da, "SUCCEEDED")
		c.waitStatus(t, db, "SUCCEEDED")
		all := subscribe(t, ts.URL, protoSSE, c.key, deliveryQuery, nil)
		sub := subscribe(t, ts.URL, protoSSE, c.key, deliveryQuery, map[string]any{"f": map[string]any{"eventId": e.ID}})
		redeliverB := func() {
			c.redeliver(t, db)
			c.waitStatus(t, db, "SUCCEEDED")
		}
		liven(t, all, "", redeliverB)
		liven(t, sub, "", redeliverB)

		// The same webhooks, another event.
		n := eventDeliveries(t, c.publish(t, "order.created", map[string]any{"n": 2}, ""), 2)
		awaitDeliveries(t, all, "SUCCEEDED", n[a.ID], n[b.ID])
		c.redeliver(t, da)

		got := onlyMatching(t, sub, "deliveryUpdated(filter: {eventId})",
			func(d deliveryMsg) bool { return d.DeliveryUpdated.ID == da || d.DeliveryUpdated.ID == db },
			isDelivery(da, "SUCCEEDED"))
		if got.DeliveryUpdated.AttemptCount != 2 {
			t.Errorf("redelivered delivery = %+v; want SUCCEEDED after 2 attempts", got.DeliveryUpdated)
		}
	})

	t.Run("Status", func(t *testing.T) {
		c := ts.newKey(t, "deliveries-by-status", model.ApiKeyRoleMember)
		up, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/up", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"up"}}})
		c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"down"}}})
		all := subscribe(t, ts.URL, protoTransportWS, c.key, deliveryQuery, nil)
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, deliveryQuery, map[string]any{"f": map[string]any{"status": "SUCCEEDED"}})
		pingUp := func() { c.ping(t, up.ID) } // a SUCCEEDED ping delivery
		liven(t, all, "", pingUp)
		liven(t, sub, "", pingUp)

		// PENDING, RETRYING, DEAD: none of them SUCCEEDED.
		nd := onlyDelivery(t, c.publish(t, "order.created", map[string]any{"to": "down"}, ""))
		awaitDeliveries(t, all, "DEAD", nd)
		// PENDING, then SUCCEEDED.
		md := onlyDelivery(t, c.publish(t, "order.created", map[string]any{"to": "up"}, ""))

		onlyMatching(t, sub, "deliveryUpdated(filter: {status: SUCCEEDED})",
			func(d deliveryMsg) bool { return d.DeliveryUpdated.Status == "SUCCEEDED" },
			isDelivery(md, "SUCCEEDED"))
	})
}

// TestSubscriptionDeliveryDead: deliveryUpdated reports every attempt (the
// status stays RETRYING, attemptCount moves), and DEAD at the end of the
// retry schedule, and nothing more.
func TestSubscriptionDeliveryDead(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:") // schedule 10ms, 20ms, 30ms: 4 attempts
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if r.URL.Path == "/down" {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	for _, proto := range subscriptionProtocols {
		t.Run(proto, func(t *testing.T) {
			c := ts.newKey(t, "dead-"+proto, model.ApiKeyRoleMember)
			hook, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"order.created"}})
			probeHook, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"none"}})
			barrier, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/barrier", "events": []string{"none"}})
			sub := subscribe(t, ts.URL, proto, c.key, deliveryQuery, nil)
			liven(t, sub, probeHook.ID, func() { c.ping(t, probeHook.ID) })

			ev := c.publish(t, "order.created", map[string]any{}, "")
			id := onlyDelivery(t, ev)
			// PENDING, a message per attempt, DEAD last, in that order:
			// PENDING is told before a worker can report the first attempt.
			for i, want := range []string{"PENDING", "RETRYING", "RETRYING", "RETRYING", "DEAD"} {
				var m deliveryMsg
				sub.receiveSkipping(t, probeHook.ID, &m)
				d := m.DeliveryUpdated
				if d.ID != id || d.WebhookID != hook.ID || d.Status != want || d.AttemptCount != i {
					t.Fatalf("deliveryUpdated message = %+v; want %s of %s after %d attempts", d, want, id, i)
				}
				if want == "DEAD" && (d.AttemptCount != 4 || d.NextAttemptAt != nil) {
					next := "null"
					if d.NextAttemptAt != nil {
						next = *d.NextAttemptAt
					}
					t.Errorf("DEAD message: attemptCount %d, nextAttemptAt %s; want 4 and null", d.AttemptCount, next)
				}
			}
			if d := c.delivery(t, id); d.Status != "DEAD" {
				t.Errorf("stored status = %s; want DEAD", d.Status)
			}
			c.ping(t, barrier.ID)
			if extra := until(t, sub, barrier.ID, probeHook.ID); len(extra) != 0 {
				t.Errorf("messages after DEAD: %s", extra)
			}
		})
	}
}

// TestSubscriptionWebhookUpdated: webhookUpdated(id:) reports the webhook's
// health changes and its automatic disabling, and nothing of another
// webhook.
func TestSubscriptionWebhookUpdated(t *testing.T) {
	cfg := testDeliveryConfig()
	cfg.Schedule = nil
	for range 12 {
		cfg.Schedule = append(cfg.Schedule, 5*time.Millisecond)
	}
	cfg.DisableAfter = time.Millisecond // then MinFailuresToDisable decides
	ts := newTestServerWith(t, "sqlite://:memory:", cfg)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		switch {
		case r.URL.Path == "/h" && n == 4:
			return http.StatusOK // after three failures; every later request fails
		case r.URL.Path == "/h", r.URL.Path == "/g":
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	h, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/h", "events": []string{"order.created"}})
	g, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/g", "events": []string{"other.type"}})
	if h.Health != "UNKNOWN" {
		t.Fatalf("new webhook health = %s; want UNKNOWN", h.Health)
	}
	sub := subscribe(t, ts.URL, protoTransportWS, c.key, webhookUpdatedQuery, map[string]any{"id": h.ID})
	i := 0
	liven(t, sub, "", func() {
		i++
		c.setDescription(t, h.ID, fmt.Sprintf("live-%d", i))
	})
	// Every later message carries this description: read up to it, so that
	// no late liveness message remains.
	c.setDescription(t, h.ID, "ready")
	for {
		var m webhookData
		sub.receive(t, &m)
		if m.WebhookUpdated.Description == "ready" {
			break
		}
	}

	// The other webhook is edited and turns UNHEALTHY first; the
	// mutations notify before they answer.
	c.setDescription(t, g.ID, "not h")
	for range 3 {
		c.ping(t, g.ID)
	}
	if got := c.getWebhook(t, g.ID); got.Health != "UNHEALTHY" {
		t.Fatalf("other webhook health after 3 failed pings = %s; want UNHEALTHY", got.Health)
	}

	type state struct {
		health   string
		enabled  bool
		failures int
	}
	next := func(want state) webhookData {
		t.Helper()
		var m webhookData
		sub.receive(t, &m)
		w := m.WebhookUpdated
		if got := (state{w.Health, w.Enabled, w.ConsecutiveFailures}); w.ID != h.ID || got != want {
			t.Fatalf("webhookUpdated(id: %s) message = %+v; want %+v of that webhook (the other is %s)", h.ID, w, want, g.ID)
		}
		return m
	}
	// Attempts 1-3 fail, 4 succeeds.
	c.publish(t, "order.created", map[string]any{"n": 1}, "")
	next(state{"UNHEALTHY", true, 3})
	next(state{"HEALTHY", true, 0})
	// Then every attempt fails: UNHEALTHY again, disabled at the tenth.
	ev := c.publish(t, "order.created", map[string]any{"n": 2}, "")
	next(state{"UNHEALTHY", true, 3})
	m := next(state{"UNHEALTHY", false, model.MinFailuresToDisable})
	reason := m.WebhookUpdated.DisabledReason
	if reason == nil || !strings.Contains(*reason, "disabled automatically") {
		t.Errorf("disabledReason = %v; want it to say the webhook was disabled automatically", reason)
	}
	var stored struct {
		Webhook struct {
			Enabled        bool
			DisabledReason *string
		}
	}
	c.mustDo(t, `query($id: ID!) { webhook(id: $id) { enabled disabledReason } }`, map[string]any{"id": h.ID}, &stored)
	if stored.Webhook.Enabled || stored.Webhook.DisabledReason == nil || reason == nil || *stored.Webhook.DisabledReason != *reason {
		t.Errorf("stored webhook = %+v; want disabled with the reason of the message", stored.Webhook)
	}
	if n := len(c.delivery(t, onlyDelivery(t, ev)).Attempts); n != model.MinFailuresToDisable {
		t.Errorf("second delivery made %d attempts before the webhook was disabled; want %d", n, model.MinFailuresToDisable)
	}
}

// TestCancellationsReachSubscribers: when a webhook is disabled by hand,
// deleted, or disabled automatically (410 Gone), each of its unfinished
// deliveries becomes CANCELLED and deliveryUpdated says so.
func TestCancellationsReachSubscribers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{time.Hour} // failed deliveries wait: RETRYING
		ts := newTestServerWith(t, newURL(t), cfg)
		var gone atomic.Bool
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			switch {
			case strings.HasPrefix(r.URL.Path, "/probe"):
				return http.StatusOK
			case gone.Load():
				return http.StatusGone
			}
			return http.StatusInternalServerError
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		probeHook, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"probe.only"}})
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, deliveryQuery, nil)
		liven(t, sub, probeHook.ID, func() { c.ping(t, probeHook.ID) })

		// retrying creates a webhook with n deliveries waiting for a retry
		// and drains their messages so far.
		retrying := func(name string, n int) (string, []string) {
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/" + name, "events": []string{name}})
			var ids []string
			for range n {
				ev := c.publish(t, name, map[string]any{}, "")
				id := ev.Deliveries.Edges[0].Node.ID
				c.waitStatus(t, id, "RETRYING")
				ids = append(ids, id)
			}
			for seen := 0; seen < 2*n; seen++ { // PENDING and RETRYING of each
				var d deliveryMsg
				sub.receiveSkipping(t, probeHook.ID, &d)
			}
			return w.ID, ids
		}
		// wantCancelled reads messages until every id was reported
		// CANCELLED; messages about ignore are skipped.
		wantCancelled := func(webhookID string, ids []string, ignore string) {
			t.Helper()
			var got []string
			for len(got) < len(ids) {
				var d deliveryMsg
				sub.receiveSkipping(t, probeHook.ID, &d)
				m := d.DeliveryUpdated
				if m.ID == ignore {
					continue
				}
				if m.Status != "CANCELLED" || m.WebhookID != webhookID || !slices.Contains(ids, m.ID) {
					t.Fatalf("delivery message = %+v; want CANCELLED for one of %v of webhook %s", m, ids, webhookID)
				}
				got = append(got, m.ID)
			}
			for _, id := range ids {
				if d := c.delivery(t, id); d.Status != "CANCELLED" {
					t.Errorf("delivery %s is %s; want CANCELLED", id, d.Status)
				}
			}
		}

		t.Run("Disabled", func(t *testing.T) {
			hook, ids := retrying("disabled", 3)
			c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": hook}, nil)
			wantCancelled(hook, ids, "")
		})
		t.Run("Deleted", func(t *testing.T) {
			hook, ids := retrying("deleted", 2)
			c.mustDo(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": hook}, nil)
			wantCancelled(hook, ids, "")
		})
		t.Run("Gone", func(t *testing.T) {
			hook, ids := retrying("gone", 3)
			gone.Store(true)
			c.redeliver(t, ids[0])
			// The redelivered one ends its own way (its attempt got 410);
			// the other two are cancelled with the webhook.
			wantCancelled(hook, ids[1:], ids[0])
		})
	})
}

func TestSubscriptionAuth(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	ctx := context.Background()

	for name, payload := range map[string]any{
		"Missing":    map[string]any{},
		"WrongKey":   map[string]any{"Authorization": "Bearer hkl_wrong"},
		"NotABearer": map[string]any{"Authorization": ts.admin.key},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := dialWebsocket(ctx, ts.URL, protoTransportWS, payload)
			if code := websocket.CloseStatus(err); code != 4403 {
				t.Errorf("graphql-transport-ws: err = %v (close status %d); want close code 4403", err, code)
			}
			_, err = dialWebsocket(ctx, ts.URL, protoLegacyWS, payload)
			var ce *connectionError
			if !errors.As(err, &ce) {
				t.Errorf("graphql-ws: err = %v; want connection_error", err)
			}
		})
	}
	t.Run("AcceptedSpellings", func(t *testing.T) {
		for _, payload := range []map[string]any{
			{"Authorization": "Bearer " + ts.admin.key},
			{"authorization": "Bearer " + ts.admin.key},
			{"headers": map[string]any{"Authorization": "Bearer " + ts.admin.key}},
		} {
			conn, err := dialWebsocket(ctx, ts.URL, protoTransportWS, payload)
			if err != nil {
				t.Errorf("connection_init %v: %v", payload, err)
				continue
			}
			conn.Close(websocket.StatusNormalClosure, "")
		}
	})
	t.Run("SSE", func(t *testing.T) {
		_, err := trySubscribe(ts.URL, protoSSE, "hkl_wrong", attemptQuery, nil)
		var se *httpStatusError
		if !errors.As(err, &se) || se.code != http.StatusUnauthorized {
			t.Errorf("SSE with a wrong key: %v; want 401", err)
		}
	})
}

// TestStuckSubscriberDoesNotSlowDelivery: a websocket subscriber that never
// reads does not hold up deliveries: thousands of attempts are all made,
// the subscriber is dropped with SLOW_SUBSCRIBER, and the server's heap
// stays bounded meanwhile. (BenchmarkPublishToReceipt/…/subscriber=stuck
// measures the throughput against subscriber=none.)
func TestStuckSubscriberDoesNotSlowDelivery(t *testing.T) {
	// The stuck client answers no pings while the events are delivered; on
	// a slow machine that takes longer than the usual ping timeout, which
	// would close it as dead before it reads the SLOW_SUBSCRIBER error.
	cfg := httpapi.DefaultConfig()
	cfg.PingInterval = 5 * time.Minute
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	rc := newReceiver(t, nil)
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	c.createWebhook(t, map[string]any{"url": rc.URL + "/fast", "events": []string{"*"}})
	stopHeap := sampleHeap(t)
	conn := stuckSubscriber(t, ts.URL, c.key)

	const events = 2000
	publishPadded(t, c, events)
	eventually(t, 60*time.Second, fmt.Sprintf("%d deliveries", events), func() bool { return rc.count("/fast") == events })
	start, peak := stopHeap()
	// Each attempt message carries about 9 KiB (request and response bodies);
	// the subscription holds at most its buffer of them.
	if grew := int64(peak) - int64(start); grew > 64<<20 {
		t.Errorf("heap in use peaked %d MiB above the start with a stuck subscriber; want less than 64 MiB", grew>>20)
	}

	// Reading now: what was buffered, then the error that ended it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got int
	for {
		m, err := readWS(ctx, conn)
		if err != nil {
			t.Fatalf("after %d messages: %v; want a SLOW_SUBSCRIBER error", got, err)
		}
		if m.Type == "error" {
			if !strings.Contains(string(m.Payload), "SLOW_SUBSCRIBER") {
				t.Errorf("error message %s; want SLOW_SUBSCRIBER", m.Payload)
			}
			break
		}
		got++
	}
	if got >= events {
		t.Errorf("stuck subscriber got all %d messages; want it dropped well before", got)
	}
	t.Logf("%d messages before SLOW_SUBSCRIBER; heap in use %d MiB at the start, peak %d MiB", got, start>>20, peak>>20)
}

// publishPadded publishes events events of about 4 KiB each, 100 a call.
func publishPadded(tb testing.TB, c *client, events int) {
	tb.Helper()
	const perCall = 100
	pad := strings.Repeat("x", 4096)
	for i := 0; i < events; i += perCall {
		inputs := make([]map[string]any, perCall)
		for j := range inputs {
			inputs[j] = map[string]any{"type": "bulk", "payload": map[string]any{"i": i + j, "pad": pad}}
		}
		c.mustDo(tb, `mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id } }`, map[string]any{"in": inputs}, nil)
	}
}

// TestStuckSSESubscriberTold: a subscriber over SSE that stops reading is
// dropped too, and the last event of its stream says why.
func TestStuckSSESubscriberTold(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, nil)
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	c.createWebhook(t, map[string]any{"url": rc.URL + "/fast", "events": []string{"*"}})
	body, _ := json.Marshal(map[string]any{"query": `subscription { deliveryAttempts { id requestBody responseBody requestHeaders { name value } } }`})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE subscribe: status %d", resp.StatusCode)
	}

	const events = 2000
	publishPadded(t, c, events)
	eventually(t, 60*time.Second, fmt.Sprintf("%d deliveries", events), func() bool { return rc.count("/fast") == events })

	// Reading now: what was buffered, then the event that ended it.
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var messages int
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data:") {
			if line == "event: complete" {
				t.Fatalf("stream completed after %d messages without saying why", messages)
			}
			continue
		}
		if strings.Contains(line, "SLOW_SUBSCRIBER") {
			if messages >= events {
				t.Errorf("SLOW_SUBSCRIBER after all %d messages; want it well before", messages)
			}
			return
		}
		messages++
	}
	t.Fatalf("stream ended after %d messages (%v) without SLOW_SUBSCRIBER", messages, sc.Err())
}

// TestSubscriptionsAcrossProcesses: with Redis, a subscriber connected to
// process A sees the attempts process B makes.
func TestSubscriptionsAcrossProcesses(t *testing.T) {
	redisURL := os.Getenv("HOOKLINE_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("HOOKLINE_TEST_REDIS_URL not set")
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	channel := feed.WithRedisChannel("hookline:test:" + hex.EncodeToString(suffix))
	newFeed := func() feed.Feed {
		b, err := feed.NewRedis(context.Background(), redisURL, slog.New(slog.DiscardHandler), channel)
		if err != nil {
			t.Fatalf("HOOKLINE_TEST_REDIS_URL is set but Redis is unreachable: %v", err)
		}
		return b
	}
	dbURL := "sqlite://" + t.TempDir() + "/shared.db"
	a := newTestServerOpts(t, testOptions{url: dbURL, delivery: testDeliveryConfig(), feed: newFeed(), noEngine: true})
	newTestServerOpts(t, testOptions{url: dbURL, delivery: testDeliveryConfig(), feed: newFeed()})

	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if r.URL.Path == "/flaky" && n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	c := a.newKey(t, "acme", model.ApiKeyRoleMember)
	w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/flaky", "events": []string{"cross"}})
	probeHook, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"none"}})
	wantOutcomes := map[string][]string{protoTransportWS: {"FAILURE", "SUCCESS"}, protoLegacyWS: {"SUCCESS"}, protoSSE: {"SUCCESS"}}
	for _, proto := range []string{protoTransportWS, protoLegacyWS, protoSSE} {
		sub := subscribe(t, a.URL, proto, c.key, attemptQuery, nil)
		deliveries := subscribe(t, a.URL, proto, c.key, deliveryQuery, nil)
		// Pings run in process A and reach its subscribers through Redis too.
		liven(t, sub, probeHook.ID, func() { c.ping(t, probeHook.ID) })
		liven(t, deliveries, probeHook.ID, func() { c.ping(t, probeHook.ID) })
		ev := c.publish(t, "cross", map[string]any{"proto": proto}, "")
		for i, want := range wantOutcomes[proto] {
			var m attemptMsg
			sub.receiveSkipping(t, probeHook.ID, &m)
			if m.DeliveryAttempts.WebhookID != w.ID || m.DeliveryAttempts.Outcome != want {
				t.Errorf("%s: attempt %d = %+v; want %s", proto, i+1, m.DeliveryAttempts, want)
			}
		}
		// Until this process's broker has passed SUCCEEDED on, a late
		// message of this round could reach the next round's subscriptions.
		for {
			var d deliveryMsg
			deliveries.receiveSkipping(t, probeHook.ID, &d)
			if d.DeliveryUpdated.WebhookID != w.ID || d.DeliveryUpdated.ID != ev.Deliveries.Edges[0].Node.ID {
				t.Fatalf("%s: delivery message = %+v", proto, d.DeliveryUpdated)
			}
			if d.DeliveryUpdated.Status == "SUCCEEDED" {
				break
			}
		}
	}
}

func TestWebsocketOrigins(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.AllowedOrigins = []string{"app.example.com"}
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	dial := func(origin string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{}
		h.Set("Origin", origin)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{protoTransportWS}, HTTPHeader: h})
		if err == nil {
			conn.Close(websocket.StatusNormalClosure, "")
		}
		return err
	}
	if err := dial("https://app.example.com"); err != nil {
		t.Errorf("allowed origin refused: %v", err)
	}
	if err := dial("https://evil.example.net"); err == nil {
		t.Error("a websocket from an origin not in HOOKLINE_ALLOWED_ORIGINS was accepted")
	}
}

// TestWebsocketAnyOriginByDefault: without HOOKLINE_ALLOWED_ORIGINS (or
// with "*"), a websocket from a foreign origin connects, for API keys are
// bearer tokens and not cookies. It runs the hookline binary, which reads
// the variable.
func TestWebsocketAnyOriginByDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookline processes: skipped with -short")
	}
	const adminKey = "any-origin-admin-key-0123456789"
	for name, value := range map[string]string{"Unset": "", "Star": "*"} {
		t.Run(name, func(t *testing.T) {
			p := startProcess(t, "HOOKLINE_ALLOWED_ORIGINS="+value, "HOOKLINE_ADMIN_KEY="+adminKey,
				"HOOKLINE_DATABASE_URL=sqlite://"+t.TempDir()+"/origins.db")
			baseURL := "http://" + p.addr
			for _, proto := range []string{protoTransportWS, protoLegacyWS} {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				h := http.Header{}
				h.Set("Origin", "https://evil.example.net")
				conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/graphql",
					&websocket.DialOptions{Subprotocols: []string{proto}, HTTPHeader: h})
				if err != nil {
					status := 0
					if resp != nil {
						status = resp.StatusCode
					}
					t.Errorf("%s upgrade with Origin https://evil.example.net: %v (HTTP %d); want accepted", proto, err, status)
					continue
				}
				init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + adminKey})
				if err := writeWS(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
					t.Fatal(err)
				}
				m, err := readWS(ctx, conn)
				if err != nil || m.Type != "connection_ack" {
					t.Errorf("%s: after connection_init got %+v, %v; want connection_ack", proto, m, err)
				}
				conn.Close(websocket.StatusNormalClosure, "")
			}
		})
	}
}

// TestKeepAlive: an idle websocket gets keep-alives every 15 s: "ping" on
// graphql-transport-ws, "ka" on the legacy protocol (which also sends one
// right after connection_ack, so the periodic one is the second).
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, "sqlite://:memory:")
	type keepAlive struct {
		msg string
		nth int
	}
	for proto, want := range map[string]keepAlive{protoTransportWS: {"ping", 1}, protoLegacyWS: {"ka", 2}} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, err := dialWebsocket(ctx, ts.URL, proto, map[string]string{"Authorization": "Bearer " + ts.admin.key})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			start := time.Now()
			for seen := 0; ; {
				m, err := readWS(ctx, conn)
				if err != nil {
					t.Fatalf("%d %q within %v, want %d: %v", seen, want.msg, time.Since(start).Round(time.Second), want.nth, err)
				}
				if m.Type == want.msg {
					if seen++; seen == want.nth {
						t.Logf("%q number %d after %v", want.msg, seen, time.Since(start).Round(time.Millisecond))
						return
					}
				}
			}
		})
	}
}
