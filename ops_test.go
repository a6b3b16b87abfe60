package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

func TestGraphQLLimits(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	c := ts.admin

	// nested returns a query whose fields nest levels deep.
	nested := func(levels int) string {
		path := []string{"deliveries(first: 1)", "edges", "node"}
		inner := "id"
		for len(path)+1 < levels {
			path = append(path, "event", "deliveries(first: 1)", "edges", "node")
		}
		path = path[:levels-1]
		for i := len(path) - 1; i >= 0; i-- {
			inner = path[i] + " { " + inner + " }"
		}
		return "{ " + inner + " }"
	}
	t.Run("ErrDepth", func(t *testing.T) {
		e := wantError(t, c.do(t, nested(13), nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "13 levels") {
			t.Errorf("message %q does not say the query is too deep", e.Message)
		}
		c.mustDo(t, nested(12), nil, nil)
	})
	t.Run("ErrDepthThroughFragments", func(t *testing.T) {
		q := `fragment F on Event { deliveries(first: 1) { edges { node { event { deliveries(first: 1) { edges { node { event { id } } } } } } } } }
			{ deliveries(first: 1) { edges { node { event { ...F } } } } }`
		wantError(t, c.do(t, q, nil), model.CodeBadUserInput, "")
	})
	t.Run("ErrAliases", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 21 {
			fmt.Fprintf(&b, " a%d: me { id }", i)
		}
		b.WriteString(" }")
		e := wantError(t, c.do(t, b.String(), nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "root fields") {
			t.Errorf("message %q does not name the root field limit", e.Message)
		}
	})
	t.Run("ErrComplexity", func(t *testing.T) {
		q := `{ a: webhooks(first: 100) { edges { node { deliveries(first: 100) { edges { node { attempts { id } } } } } } } }`
		resp := c.do(t, q, nil)
		if len(resp.Errors) == 0 || !strings.Contains(strings.ToLower(resp.Errors[0].Message), "complexity") {
			t.Errorf("errors = %+v; want a complexity error", resp.Errors)
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		body := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(raw, []byte(`"errors"`)) || !bytes.Contains(raw, []byte("too large")) {
			t.Errorf("1 MiB+ body: status %d, body %.200s; want a GraphQL error saying the body is too large", resp.StatusCode, raw)
		}
	})
	t.Run("IntrospectionOnByDefault", func(t *testing.T) {
		c.mustDo(t, `{ __schema { queryType { name } } }`, nil, nil)
	})
}

func TestIntrospectionOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTP.Introspection = false
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	resp := ts.admin.do(t, `{ __schema { queryType { name } } }`, nil)
	if len(resp.Errors) == 0 {
		t.Errorf("introspection answered with HOOKLINE_INTROSPECTION=false: %s", resp.Data)
	}
}

func TestRateLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTP.RatePerSecond, cfg.HTTP.RateBurst = 1, 3
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	other := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	for range 3 {
		ts.admin.mustDo(t, `{ me { id } }`, nil, nil)
	}
	resp := ts.admin.do(t, `{ me { id } }`, nil)
	e := wantError(t, resp, model.CodeRateLimited, "")
	if resp.Status != http.StatusTooManyRequests {
		t.Errorf("status = %d; want 429", resp.Status)
	}
	if ms, ok := e.Extensions["retryAfterMs"].(float64); !ok || ms <= 0 || ms > 1000 {
		t.Errorf("retryAfterMs = %v; want a hint within a second", e.Extensions["retryAfterMs"])
	}
	// Another key has its own bucket.
	other.mustDo(t, `{ me { id } }`, nil, nil)
}

func TestOperatorEndpoints(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, nil)
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	get := func(path string) (int, string, http.Header) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, _, _ := get("/livez"); code != 200 {
		t.Errorf("/livez = %d", code)
	}
	if code, _, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d", code)
	}
	c.createWebhook(t, map[string]any{"url": rc.URL + "/m", "events": []string{"*"}})
	ev := c.publish(t, "metric.test", map[string]any{}, "")
	c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
	c.mustDo(t, `query ListHooks { webhooks { totalCount } }`, nil, nil)
	wantError(t, c.do(t, `mutation DropMissing { deleteWebhook(id: "wh_00000000000000000000000000") }`, nil), model.CodeNotFound, "")

	_, body, _ := get("/metrics")
	for _, want := range []string{
		`hookline_delivery_attempts_total{outcome="success"} 1`,
		`hookline_deliveries_finished_total{status="succeeded"} 1`,
		`hookline_delivery_attempt_duration_seconds_count 1`,
		`hookline_delivery_attempts_by_webhook_health_total{health="healthy"} 1`,
		`hookline_queue_depth 0`,
		`hookline_queue_oldest_pending_age_seconds`,
		`hookline_active_subscriptions 0`,
		`hookline_graphql_operations_total{operation="ListHooks",outcome="ok"} 1`,
		`hookline_graphql_operation_duration_seconds_count{operation="ListHooks"} 1`,
		`hookline_graphql_operations_total{operation="DropMissing",outcome="error"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestRequestIDReachesAttempts(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, nil)
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	c.createWebhook(t, map[string]any{"url": rc.URL + "/r", "events": []string{"*"}})
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql",
		strings.NewReader(`{"query":"mutation { publishEvent(input: {type: \"r\", payload: {}}) { id requestId deliveries { edges { node { id } } } } }"}`))
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "trace-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "trace-123" {
		t.Errorf("response X-Request-Id = %q; want trace-123", got)
	}
	if !strings.Contains(string(raw), `"requestId":"trace-123"`) {
		t.Fatalf("event = %s; want requestId trace-123", raw)
	}
	var out struct {
		Deliveries struct {
			Edges []struct {
				Node struct{ Attempts []struct{ RequestID string } }
			}
		}
	}
	eventually(t, 5*time.Second, "the attempt", func() bool {
		c.mustDo(t, `{ deliveries { edges { node { attempts { requestId } } } } }`, nil, &out)
		return len(out.Deliveries.Edges) == 1 && len(out.Deliveries.Edges[0].Node.Attempts) == 1
	})
	if got := out.Deliveries.Edges[0].Node.Attempts[0].RequestID; got != "trace-123" {
		t.Errorf("attempt requestId = %q; want trace-123", got)
	}
}

func TestParserTokenLimit(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	q := "{ me { " + strings.Repeat("id ", 20000) + "} }"
	resp := ts.admin.do(t, q, nil)
	if len(resp.Errors) == 0 || !strings.Contains(strings.ToLower(resp.Errors[0].Message), "token") {
		t.Errorf("a 20,000-token query: errors %+v; want one naming the token limit", resp.Errors)
	}
}

func TestWebsocketsPerKeyCapped(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTP.MaxWebsocketsPerKey = 2
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	auth := map[string]string{"Authorization": "Bearer " + ts.admin.key}
	var open []*websocket.Conn
	for range 2 {
		conn, err := dialWebsocket(ctx, ts.URL, protoTransportWS, auth)
		if err != nil {
			t.Fatalf("connection within the cap: %v", err)
		}
		open = append(open, conn)
	}
	_, err := dialWebsocket(ctx, ts.URL, protoTransportWS, auth)
	if code := websocket.CloseStatus(err); code != 4429 {
		t.Errorf("third connection: %v (close status %d); want close code 4429", err, code)
	}
	// Another key is not affected, and a closed connection frees its slot.
	other := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	conn, err := dialWebsocket(ctx, ts.URL, protoTransportWS, map[string]string{"Authorization": "Bearer " + other.key})
	if err != nil {
		t.Fatalf("another key's connection: %v", err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
	open[0].Close(websocket.StatusNormalClosure, "")
	eventually(t, 5*time.Second, "the closed connection's slot to be free", func() bool {
		c, err := dialWebsocket(ctx, ts.URL, protoTransportWS, auth)
		if err == nil {
			c.Close(websocket.StatusNormalClosure, "")
		}
		return err == nil
	})
	open[1].Close(websocket.StatusNormalClosure, "")
}

// TestQueueStatsWhilePending: the queue gauges read the pending deliveries
// on every database (SQLite returns MIN() of a time column as text).
func TestQueueStatsWhilePending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{time.Hour}
		ts := newTestServerWith(t, newURL(t), cfg)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": closedPortURL(t), "events": []string{"*"}})
		before := time.Now().Add(-time.Second)
		ev := c.publish(t, "queue.test", map[string]any{}, "")
		c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "RETRYING")

		depth, oldest, err := ts.store.QueueStats(context.Background())
		if err != nil {
			t.Fatalf("QueueStats: %v", err)
		}
		if depth != 1 {
			t.Errorf("depth = %d; want 1", depth)
		}
		if oldest == nil || oldest.Before(before) || oldest.After(time.Now()) {
			t.Errorf("oldest = %v; want the delivery's creation, after %v", oldest, before)
		}
	})
}

// closedPortURL returns a loopback URL where nothing listens.
func closedPortURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/down"
}

// TestRateLimitOverWebsocket: operations sent over a websocket take tokens
// from the key's bucket like HTTP requests do.
func TestRateLimitOverWebsocket(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTP.RatePerSecond, cfg.HTTP.RateBurst = 0.01, 3
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dialWebsocket(ctx, ts.URL, protoTransportWS, map[string]string{"Authorization": "Bearer " + ts.admin.key})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	payload, _ := json.Marshal(map[string]any{"query": `{ me { id } }`})
	for i := 1; i <= 4; i++ {
		id := strconv.Itoa(i)
		if err := writeWS(ctx, conn, wsMessage{ID: id, Type: "subscribe", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := readWS(ctx, conn)
			if err != nil {
				t.Fatalf("operation %d: %v", i, err)
			}
			if m.ID != id || m.Type == "complete" {
				continue
			}
			limited := strings.Contains(string(m.Payload), model.CodeRateLimited)
			if want := i == 4; limited != want {
				t.Errorf("operation %d: %s %s; rate limited = %v, want %v", i, m.Type, m.Payload, limited, want)
			}
			break
		}
	}
}

// TestReadyWhileStopping: /readyz takes the process out of rotation as soon
// as it starts shutting down, while /livez still answers.
func TestReadyWhileStopping(t *testing.T) {
	var stopping atomic.Bool
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), stopping: &stopping})
	status := func(path string) int {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("/readyz"); got != http.StatusOK {
		t.Errorf("/readyz = %d before shutdown; want 200", got)
	}
	stopping.Store(true)
	if got := status("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while shutting down; want 503", got)
	}
	if got := status("/livez"); got != http.StatusOK {
		t.Errorf("/livez = %d while shutting down; want 200", got)
	}
}
