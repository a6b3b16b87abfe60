package main

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
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/model"
)

type attemptMsg struct {
	DeliveryAttempts struct {
		AttemptNumber int
		Outcome       string
		StatusCode    *int
		EventType     string
		WebhookID     string
	}
}

type deliveryMsg struct {
	DeliveryUpdated struct {
		ID, Status, WebhookID string
		AttemptCount          int
	}
}

const (
	attemptQuery  = `subscription($f: AttemptFilter) { deliveryAttempts(filter: $f) { attemptNumber outcome statusCode eventType webhookId } }`
	deliveryQuery = `subscription($f: DeliveryFilter) { deliveryUpdated(filter: $f) { id status webhookId attemptCount } }`
)

// probe pings webhook id until sub shows it is live (a message about id
// arrives), so that the test does not race the subscription's start.
func probe(tb testing.TB, c *client, sub *subscription, id string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mustDo(tb, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": id}, nil)
		select {
		case data := <-sub.next:
			if strings.Contains(string(data), id) {
				return
			}
			tb.Fatalf("unexpected message before the subscription was live: %s", data)
		case errs := <-sub.errors:
			tb.Fatalf("subscription error: %+v", errs)
		case <-time.After(300 * time.Millisecond):
		}
	}
	tb.Fatal("subscription did not go live within 10s")
}

// until reads messages until one mentions marker and returns those before it
// that do not mention skip.
func until(tb testing.TB, sub *subscription, marker, skip string) []json.RawMessage {
	tb.Helper()
	var got []json.RawMessage
	for {
		var raw json.RawMessage
		sub.receive(tb, &raw)
		switch {
		case strings.Contains(string(raw), marker):
			return got
		case skip == "" || !strings.Contains(string(raw), skip):
			got = append(got, raw)
		}
	}
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
			probe(t, acme, attempts, probeHook.ID)
			probe(t, acme, successes, probeHook.ID)
			probe(t, acme, deliveries, probeHook.ID)

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

// pingAndMark pings a webhook and returns its ID, the marker of the ping's messages.
func pingAndMark(tb testing.TB, c *client, id string) string {
	c.mustDo(tb, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": id}, nil)
	return id
}

func TestSubscriptionTenantIsolation(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, nil)
	acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
	acmeHook, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/acme", "events": []string{"*"}})
	globexProbe, _ := globex.createWebhook(t, map[string]any{"url": rc.URL + "/globex", "events": []string{"none"}})

	for _, proto := range subscriptionProtocols {
		t.Run(proto, func(t *testing.T) {
			attempts := subscribe(t, ts.URL, proto, globex.key, attemptQuery, nil)
			// A filter naming the other owner's webhook changes nothing.
			targeted := subscribe(t, ts.URL, proto, globex.key, attemptQuery, map[string]any{"f": map[string]any{"webhookId": acmeHook.ID}})
			hooks := subscribe(t, ts.URL, proto, globex.key, `subscription { webhookUpdated { id } }`, nil)
			probe(t, globex, attempts, globexProbe.ID)

			ev := acme.publish(t, "order.created", map[string]any{}, "")
			acme.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
			acme.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {description: "changed"}) { id } }`, map[string]any{"id": acmeHook.ID}, nil)
			acme.mustDo(t, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": acmeHook.ID}, nil)

			if leaked := until(t, attempts, pingAndMark(t, globex, globexProbe.ID), ""); len(leaked) != 0 {
				t.Errorf("globex received acme's attempts: %s", leaked)
			}
			globex.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {description: "mine"}) { id } }`, map[string]any{"id": globexProbe.ID}, nil)
			if leaked := until(t, hooks, globexProbe.ID, ""); len(leaked) != 0 {
				t.Errorf("globex received acme's webhook changes: %s", leaked)
			}
			select {
			case data := <-targeted.next:
				t.Errorf("a subscription filtered on another owner's webhook received %s", data)
			default:
			}
		})
	}
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
	ts := newTestServer(t, "sqlite://:memory:")
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

// stuckSubscriber subscribes to every attempt, with their bodies, over a
// websocket it does not read from.
func stuckSubscriber(tb testing.TB, baseURL, key string) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dialWebsocket(ctx, baseURL, protoTransportWS, map[string]string{"Authorization": "Bearer " + key})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.CloseNow() })
	p, _ := json.Marshal(map[string]any{"query": `subscription { deliveryAttempts { id requestBody responseBody requestHeaders { name value } } }`})
	if err := writeWS(ctx, conn, wsMessage{ID: "1", Type: "subscribe", Payload: p}); err != nil {
		tb.Fatal(err)
	}
	return conn
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
		probe(t, c, sub, probeHook.ID)
		probe(t, c, deliveries, probeHook.ID)
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
	cfg := DefaultConfig()
	cfg.HTTP.AllowedOrigins = []string{"app.example.com"}
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
