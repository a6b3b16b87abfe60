package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/model"
)

// The selections use fields the message itself carries: a field that reads
// the database (Delivery.event) could still be resolving on a websocket
// that outlives its test, as httptest.Server.Close does not wait for
// hijacked connections.
const (
	filteredAttemptQuery  = `subscription($f: AttemptFilter) { deliveryAttempts(filter: $f) { attemptNumber outcome eventType eventId webhookId } }`
	filteredDeliveryQuery = `subscription($f: DeliveryFilter) { deliveryUpdated(filter: $f) { id status webhookId attemptCount nextAttemptAt } }`
	webhookUpdatedQuery   = `subscription($id: ID) { webhookUpdated(id: $id) { id description health enabled disabledReason consecutiveFailures } }`
)

type attemptData struct {
	DeliveryAttempts struct {
		AttemptNumber                          int
		Outcome, EventType, EventID, WebhookID string
	}
}

type deliveryData struct {
	DeliveryUpdated struct {
		ID, Status, WebhookID string
		AttemptCount          int
		NextAttemptAt         *string
	}
}

type webhookData struct {
	WebhookUpdated struct {
		ID, Description, Health string
		Enabled                 bool
		DisabledReason          *string
		ConsecutiveFailures     int
	}
}

// liven calls trigger, which must cause a message that sub accepts, until a
// message arrives: then sub exists in the broker, and nothing published
// afterwards can miss it.
func liven(tb testing.TB, sub *subscription, trigger func()) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		trigger()
		select {
		case <-sub.next:
			return
		case errs := <-sub.errors:
			tb.Fatalf("subscription error: %+v", errs)
		case <-sub.done:
			tb.Fatal("subscription ended")
		case <-time.After(300 * time.Millisecond):
		}
	}
	tb.Fatal("subscription did not go live within 10s")
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

// awaitAttempt reads a deliveryAttempts subscription until an attempt of
// event eventID arrives.
func awaitAttempt(tb testing.TB, sub *subscription, eventID string) {
	tb.Helper()
	for {
		var m attemptData
		sub.receive(tb, &m)
		if m.DeliveryAttempts.EventID == eventID {
			return
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
		var m deliveryData
		sub.receive(tb, &m)
		if m.DeliveryUpdated.Status == status {
			delete(pending, m.DeliveryUpdated.ID)
		}
	}
}

// ping pings the webhook (one attempt, never retried) and returns the
// health it reports.
func (c *client) ping(tb testing.TB, id string) string {
	tb.Helper()
	var out struct{ PingWebhook struct{ Health string } }
	c.mustDo(tb, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": id}, &out)
	return out.PingWebhook.Health
}

func (c *client) setDescription(tb testing.TB, id, description string) {
	tb.Helper()
	c.mustDo(tb, `mutation($id: ID!, $d: String!) { updateWebhook(id: $id, input: {description: $d}) { id } }`,
		map[string]any{"id": id, "d": description}, nil)
}

func (c *client) redeliver(tb testing.TB, id string) {
	tb.Helper()
	c.mustDo(tb, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, map[string]any{"id": id}, nil)
}

// isDelivery returns a test for the message of delivery id with status.
func isDelivery(id, status string) func(deliveryData) bool {
	return func(d deliveryData) bool { return d.DeliveryUpdated.ID == id && d.DeliveryUpdated.Status == status }
}

// onlyDelivery returns the ID of the event's one delivery.
func onlyDelivery(tb testing.TB, ev eventJSON) string {
	tb.Helper()
	if len(ev.Deliveries.Edges) != 1 {
		tb.Fatalf("event %s has %d deliveries; want 1", ev.ID, len(ev.Deliveries.Edges))
	}
	return ev.Deliveries.Edges[0].Node.ID
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
		all := subscribe(t, ts.URL, protoTransportWS, c.key, filteredAttemptQuery, nil)
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, filteredAttemptQuery, map[string]any{"f": map[string]any{"webhookId": mine.ID}})
		pingMine := func() { c.ping(t, mine.ID) }
		liven(t, all, pingMine)
		liven(t, sub, pingMine)

		// Same event type, other webhook.
		n := c.publish(t, "order.created", map[string]any{"to": "other"}, "")
		if ds := eventDeliveries(t, n, 1); ds[other.ID] == "" {
			t.Fatalf("non-matching event's deliveries = %v; want one to %s", ds, other.ID)
		}
		awaitAttempt(t, all, n.ID)
		m := c.publish(t, "order.created", map[string]any{"to": "mine"}, "")

		got := onlyMatching(t, sub, "deliveryAttempts(filter: {webhookId})",
			func(a attemptData) bool { return a.DeliveryAttempts.WebhookID == mine.ID },
			func(a attemptData) bool { return a.DeliveryAttempts.EventID == m.ID }).DeliveryAttempts
		if got.WebhookID != mine.ID || got.AttemptNumber != 1 || got.Outcome != "SUCCESS" || got.EventType != "order.created" {
			t.Errorf("matching attempt = %+v; want attempt 1 to %s, SUCCESS", got, mine.ID)
		}
	})

	t.Run("EventType", func(t *testing.T) {
		c := ts.newKey(t, "attempts-by-type", model.ApiKeyRoleMember)
		hook, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/any", "events": []string{"*"}})
		all := subscribe(t, ts.URL, protoLegacyWS, c.key, filteredAttemptQuery, nil)
		sub := subscribe(t, ts.URL, protoLegacyWS, c.key, filteredAttemptQuery, map[string]any{"f": map[string]any{"eventType": "order.paid"}})
		publishPaid := func() { c.publish(t, "order.paid", map[string]any{"probe": true}, "") }
		liven(t, all, publishPaid)
		liven(t, sub, publishPaid)

		// Same webhook, other event type.
		n := c.publish(t, "order.refunded", map[string]any{}, "")
		onlyDelivery(t, n)
		awaitAttempt(t, all, n.ID)
		m := c.publish(t, "order.paid", map[string]any{}, "")

		got := onlyMatching(t, sub, "deliveryAttempts(filter: {eventType: order.paid})",
			func(a attemptData) bool { return a.DeliveryAttempts.EventType == "order.paid" },
			func(a attemptData) bool { return a.DeliveryAttempts.EventID == m.ID }).DeliveryAttempts
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
		all := subscribe(t, ts.URL, protoTransportWS, c.key, filteredDeliveryQuery, nil)
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, filteredDeliveryQuery, map[string]any{"f": map[string]any{"webhookId": mine.ID}})
		pingMine := func() { c.ping(t, mine.ID) } // a SUCCEEDED ping delivery
		liven(t, all, pingMine)
		liven(t, sub, pingMine)

		// Same event type, other webhook: PENDING, SUCCEEDED.
		n := c.publish(t, "order.created", map[string]any{"to": "other"}, "")
		if ds := eventDeliveries(t, n, 1); ds[other.ID] == "" {
			t.Fatalf("non-matching event's deliveries = %v; want one to %s", ds, other.ID)
		}
		awaitDeliveries(t, all, "SUCCEEDED", onlyDelivery(t, n))
		md := onlyDelivery(t, c.publish(t, "order.created", map[string]any{"to": "mine"}, ""))

		match := func(d deliveryData) bool { return d.DeliveryUpdated.WebhookID == mine.ID }
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
		all := subscribe(t, ts.URL, protoSSE, c.key, filteredDeliveryQuery, nil)
		sub := subscribe(t, ts.URL, protoSSE, c.key, filteredDeliveryQuery, map[string]any{"f": map[string]any{"eventId": e.ID}})
		redeliverB := func() {
			c.redeliver(t, db)
			c.waitStatus(t, db, "SUCCEEDED")
		}
		liven(t, all, redeliverB)
		liven(t, sub, redeliverB)

		// The same webhooks, another event.
		n := eventDeliveries(t, c.publish(t, "order.created", map[string]any{"n": 2}, ""), 2)
		awaitDeliveries(t, all, "SUCCEEDED", n[a.ID], n[b.ID])
		c.redeliver(t, da)

		got := onlyMatching(t, sub, "deliveryUpdated(filter: {eventId})",
			func(d deliveryData) bool { return d.DeliveryUpdated.ID == da || d.DeliveryUpdated.ID == db },
			isDelivery(da, "SUCCEEDED"))
		if got.DeliveryUpdated.AttemptCount != 2 {
			t.Errorf("redelivered delivery = %+v; want SUCCEEDED after 2 attempts", got.DeliveryUpdated)
		}
	})

	t.Run("Status", func(t *testing.T) {
		c := ts.newKey(t, "deliveries-by-status", model.ApiKeyRoleMember)
		up, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/up", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"up"}}})
		c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"order.created"}, "filters": map[string]any{"to": []string{"down"}}})
		all := subscribe(t, ts.URL, protoTransportWS, c.key, filteredDeliveryQuery, nil)
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, filteredDeliveryQuery, map[string]any{"f": map[string]any{"status": "SUCCEEDED"}})
		pingUp := func() { c.ping(t, up.ID) } // a SUCCEEDED ping delivery
		liven(t, all, pingUp)
		liven(t, sub, pingUp)

		// PENDING, RETRYING, DEAD: none of them SUCCEEDED.
		nd := onlyDelivery(t, c.publish(t, "order.created", map[string]any{"to": "down"}, ""))
		awaitDeliveries(t, all, "DEAD", nd)
		// PENDING, then SUCCEEDED.
		md := onlyDelivery(t, c.publish(t, "order.created", map[string]any{"to": "up"}, ""))

		onlyMatching(t, sub, "deliveryUpdated(filter: {status: SUCCEEDED})",
			func(d deliveryData) bool { return d.DeliveryUpdated.Status == "SUCCEEDED" },
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
			sub := subscribe(t, ts.URL, proto, c.key, filteredDeliveryQuery, nil)
			probe(t, c, sub, probeHook.ID)

			ev := c.publish(t, "order.created", map[string]any{}, "")
			id := onlyDelivery(t, ev)
			// PENDING, a message per attempt, DEAD last, in that order:
			// PENDING is told before a worker can report the first attempt.
			for i, want := range []string{"PENDING", "RETRYING", "RETRYING", "RETRYING", "DEAD"} {
				var m deliveryData
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
	liven(t, sub, func() {
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

// TestWebsocketAnyOriginByDefault: without HOOKLINE_ALLOWED_ORIGINS (or
// with "*"), a websocket from a foreign origin connects, for API keys are
// bearer tokens and not cookies.
func TestWebsocketAnyOriginByDefault(t *testing.T) {
	for name, value := range map[string]string{"Unset": "", "Star": "*"} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(func(k string) string {
				if k == "HOOKLINE_ALLOWED_ORIGINS" {
					return value
				}
				return ""
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
			for _, proto := range []string{protoTransportWS, protoLegacyWS} {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				h := http.Header{}
				h.Set("Origin", "https://evil.example.net")
				conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql",
					&websocket.DialOptions{Subprotocols: []string{proto}, HTTPHeader: h})
				if err != nil {
					status := 0
					if resp != nil {
						status = resp.StatusCode
					}
					t.Errorf("%s upgrade with Origin https://evil.example.net: %v (HTTP %d); want accepted", proto, err, status)
					continue
				}
				init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + ts.admin.key})
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

// activeSubscriptions reads the gauge hookline_active_subscriptions from
// GET /metrics.
func activeSubscriptions(tb testing.TB, baseURL string) float64 {
	tb.Helper()
	resp, err := http.Get(baseURL + "/metrics")
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %s", resp.Status)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "hookline_active_subscriptions "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				tb.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	tb.Fatalf("GET /metrics has no hookline_active_subscriptions sample:\n%s", body)
	return 0
}

func TestActiveSubscriptionsGauge(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	gauge := func(want float64) {
		t.Helper()
		eventually(t, 5*time.Second, fmt.Sprintf("hookline_active_subscriptions to be %v", want), func() bool {
			return activeSubscriptions(t, ts.URL) == want
		})
	}
	gauge(0)
	for _, proto := range subscriptionProtocols {
		t.Run(proto, func(t *testing.T) {
			sub := subscribe(t, ts.URL, proto, c.key, `subscription { webhookUpdated { id } }`, nil)
			gauge(1)
			sub.close()
			gauge(0)
		})
	}
}
