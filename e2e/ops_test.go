package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

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
		`hookline_delivery_attempts_total{outcome="failure"} 0`,
		`hookline_graphql_operations_total{field="webhooks",outcome="ok"} 1`,
		`hookline_graphql_operation_duration_seconds_count{field="webhooks"} 1`,
		`hookline_graphql_operations_total{field="deleteWebhook",outcome="error"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, name := range []string{"ListHooks", "DropMissing"} {
		if strings.Contains(body, name) {
			t.Errorf("/metrics shows the operation name %s", name)
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

// TestNoSecretsInLogs runs a whole session with the most verbose logging
// (SQL included) and scans the captured log for every secret that passed
// through: API keys (valid and wrong), signing secrets, tokens, a secret
// header's value, the encryption key.
func TestNoSecretsInLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a hookline process: skipped with -short")
	}
	const adminKey = "admin-key-for-the-log-scan-0123456789"
	secretKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	p := startProcess(t,
		"HOOKLINE_DATABASE_URL=sqlite://"+t.TempDir()+"/logs.db",
		"HOOKLINE_ADMIN_KEY="+adminKey,
		"HOOKLINE_SECRET_KEY="+secretKey,
		"HOOKLINE_LOG_LEVEL=DEBUG-4",
		"HOOKLINE_LOG_FORMAT=json",
		"HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
		"HOOKLINE_RETRY_SCHEDULE=10ms",
	)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	admin := p.client(adminKey)
	var made struct{ CreateApiKey struct{ Key string } }
	admin.mustDo(t, `mutation { createApiKey(owner: "acme") { key } }`, nil, &made)
	member := &client{url: admin.url, key: made.CreateApiKey.Key}

	const (
		sharedToken  = "shared-token-that-must-not-leak"
		wrongKey     = "hkl_wrong-key-that-must-not-leak"
		headerSecret = "header-value-that-must-not-leak"
	)
	w, secret := member.createWebhook(t, map[string]any{
		"url": rc.URL + "/logs", "events": []string{"*"}, "bearerToken": testJWT, "sharedToken": sharedToken,
		"headers": []map[string]any{{"name": "X-Api-Key", "value": headerSecret, "secret": true}},
	})
	var rotated struct{ RotateWebhookSecret struct{ Secret string } }
	member.mustDo(t, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, map[string]any{"id": w.ID}, &rotated)
	ev := member.publish(t, "logs.test", map[string]any{"k": "v"}, "")
	member.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
	(&client{url: admin.url, key: wrongKey}).do(t, `{ me { id } }`, nil)
	member.do(t, `mutation { createWebhook(input: {url: "https://x.example", events: ["*"], secret: "whsec_not-base64!", sharedToken: "bad\nvalue"}) { secret } }`, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn, err := dialWebsocket(ctx, "http://"+p.addr, protoTransportWS, map[string]string{"Authorization": "Bearer " + wrongKey}); err == nil {
		conn.Close(websocket.StatusNormalClosure, "")
	}
	p.stop(t)

	log := p.stdout.String()
	if !strings.Contains(log, `"msg":"query"`) || !strings.Contains(log, "delivery attempt") {
		t.Fatalf("the log does not look verbose (no SQL or attempt lines), so the scan proves nothing:\n%.2000s", log)
	}
	for name, s := range map[string]string{
		"admin key": adminKey, "member key": member.key, "wrong key": wrongKey,
		"signing secret": secret, "rotated secret": rotated.RotateWebhookSecret.Secret,
		"bearer token": testJWT, "shared token": sharedToken, "secret header value": headerSecret, "HOOKLINE_SECRET_KEY": secretKey,
	} {
		if strings.Contains(log, s) {
			t.Errorf("the log contains the %s", name)
		}
	}
}

// TestDebugLogLines: at debug level there is one line per GraphQL operation
// and one per delivery attempt, both with the request id the client sent.
func TestDebugLogLines(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a hookline process: skipped with -short")
	}
	const adminKey = "debug-log-admin-key-0123456789"
	p := startProcess(t,
		"HOOKLINE_DATABASE_URL=sqlite://"+t.TempDir()+"/debug.db",
		"HOOKLINE_ADMIN_KEY="+adminKey,
		"HOOKLINE_LOG_LEVEL=debug",
		"HOOKLINE_LOG_FORMAT=json",
		"HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
	)
	rc := newReceiver(t, nil)
	c := p.client(adminKey)
	c.createWebhook(t, map[string]any{"url": rc.URL + "/debug", "events": []string{"*"}})

	const requestID = "trace-debug-42"
	body := `{"query":"mutation PublishForLog { publishEvent(input: {type: \"debug.test\", payload: {}}) { deliveries { edges { node { id } } } } }"}`
	req, _ := http.NewRequest(http.MethodPost, c.url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", requestID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data struct {
			PublishEvent eventJSON
		}
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if len(out.Data.PublishEvent.Deliveries.Edges) != 1 {
		t.Fatalf("publish answered %+v; want one delivery", out.Data)
	}
	c.waitStatus(t, out.Data.PublishEvent.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
	p.stop(t)

	var operations, attempts int
	for line := range strings.SplitSeq(p.stdout.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["request_id"] != requestID {
			continue
		}
		switch rec["msg"] {
		case "graphql operation":
			operations++
			if rec["operation"] != "PublishForLog" {
				t.Errorf("operation line names %v; want PublishForLog", rec["operation"])
			}
		case "delivery attempt":
			attempts++
		}
	}
	if operations != 1 || attempts != 1 {
		t.Errorf("lines with request id %s: %d operation, %d attempt; want 1 and 1", requestID, operations, attempts)
	}
}

// TestGracefulStop sends SIGTERM while attempts are in flight: they finish,
// are recorded, the process exits, and a restarted one delivers the rest.
func TestGracefulStop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookline processes: skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		dbURL := newURL(t)
		if strings.HasPrefix(dbURL, "sqlite://") {
			dbURL = "sqlite://" + t.TempDir() + "/stop.db"
		}
		const adminKey = "graceful-stop-admin-key-012345"
		env := []string{
			"HOOKLINE_DATABASE_URL=" + dbURL, "HOOKLINE_ADMIN_KEY=" + adminKey, "HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
			"HOOKLINE_DELIVERY_TIMEOUT=5s", "HOOKLINE_POLL_INTERVAL=100ms", "HOOKLINE_WORKERS=4",
		}
		var (
			mu       sync.Mutex
			answered = map[string]bool{}
			entered  = make(chan struct{}, 100)
			release  = make(chan struct{})
		)
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			if n <= 4 { // the first four requests are in flight when SIGTERM arrives
				entered <- struct{}{}
				<-release
			}
			mu.Lock()
			answered[r.Header.Get("webhook-id")] = true
			mu.Unlock()
			return http.StatusOK
		})
		p := startProcess(t, env...)
		c := p.client(adminKey)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/g", "events": []string{"*"}})
		const events = 40
		for i := range events {
			c.publish(t, "stop.test", map[string]any{"i": i}, "")
		}
		for range 4 {
			select {
			case <-entered:
			case <-time.After(10 * time.Second):
				t.Fatal("deliveries did not start")
			}
		}
		start := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// The in-flight requests are answered after the signal; they must still be recorded.
		time.AfterFunc(200*time.Millisecond, func() { close(release) })
		exited := make(chan error, 1)
		go func() { exited <- p.wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("process exited with %v; want a clean exit", err)
			}
		case <-time.After(5*time.Second + 5*time.Second):
			t.Fatal("process did not exit within timeout + 5s of SIGTERM")
		}
		t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
		// SIGTERM stops claiming: only the four in flight were sent.
		sentBeforeStop := rc.count("/g")
		if sentBeforeStop != 4 {
			t.Errorf("receiver got %d requests before the process exited; want the 4 in flight when SIGTERM came", sentBeforeStop)
		}

		// A restarted process finds the four in-flight attempts recorded as
		// succeeded, and delivers the rest.
		p2 := startProcess(t, env...)
		c.url = "http://" + p2.addr + "/graphql"
		eventually(t, 20*time.Second, "every event", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(answered) == events
		})
		if got := rc.count("/g"); got != events {
			t.Errorf("receiver got %d requests (%d before the stop); want %d: an in-flight attempt was not recorded and was sent again", got, sentBeforeStop, events)
		}
	})
}
