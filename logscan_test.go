package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestNoSecretsInLogs runs a whole session with the most verbose logging
// (SQL included) and scans the captured log for every secret that passed
// through: API keys (valid and wrong), signing secrets, tokens, the
// encryption key.
func TestNoSecretsInLogs(t *testing.T) {
	const adminKey = "admin-key-for-the-log-scan-0123456789"
	secretKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	rs := startRun(t, map[string]string{
		"HOOKLINE_DATABASE_URL":          "sqlite://" + t.TempDir() + "/logs.db",
		"HOOKLINE_ADDR":                  "127.0.0.1:0",
		"HOOKLINE_ADMIN_KEY":             adminKey,
		"HOOKLINE_SECRET_KEY":            secretKey,
		"HOOKLINE_LOG_LEVEL":             "DEBUG-4",
		"HOOKLINE_LOG_FORMAT":            "json",
		"HOOKLINE_ALLOW_PRIVATE_TARGETS": "true",
		"HOOKLINE_RETRY_SCHEDULE":        "10ms",
	})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	admin := &client{url: "http://" + rs.addr + "/graphql", key: adminKey}
	var made struct{ CreateApiKey struct{ Key string } }
	admin.mustDo(t, `mutation { createApiKey(owner: "acme") { key } }`, nil, &made)
	member := &client{url: admin.url, key: made.CreateApiKey.Key}

	const (
		sharedToken = "shared-token-that-must-not-leak"
		wrongKey    = "hkl_wrong-key-that-must-not-leak"
	)
	w, secret := member.createWebhook(t, map[string]any{
		"url": rc.URL + "/logs", "events": []string{"*"}, "bearerToken": testJWT, "sharedToken": sharedToken,
	})
	var rotated struct{ RotateWebhookSecret struct{ Secret string } }
	member.mustDo(t, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, map[string]any{"id": w.ID}, &rotated)
	ev := member.publish(t, "logs.test", map[string]any{"k": "v"}, "")
	member.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
	(&client{url: admin.url, key: wrongKey}).do(t, `{ me { id } }`, nil)
	member.do(t, `mutation { createWebhook(input: {url: "https://x.example", events: ["*"], secret: "whsec_not-base64!", sharedToken: "bad\nvalue"}) { secret } }`, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn, err := dialWebsocket(ctx, "http://"+rs.addr, protoTransportWS, map[string]string{"Authorization": "Bearer " + wrongKey}); err == nil {
		conn.Close(websocket.StatusNormalClosure, "")
	}
	rs.stop(t)

	log := rs.stdout.String()
	if !strings.Contains(log, `"msg":"query"`) || !strings.Contains(log, "delivery attempt") {
		t.Fatalf("the log does not look verbose (no SQL or attempt lines), so the scan proves nothing:\n%.2000s", log)
	}
	for name, s := range map[string]string{
		"admin key": adminKey, "member key": member.key, "wrong key": wrongKey,
		"signing secret": secret, "rotated secret": rotated.RotateWebhookSecret.Secret,
		"bearer token": testJWT, "shared token": sharedToken, "HOOKLINE_SECRET_KEY": secretKey,
	} {
		if strings.Contains(log, s) {
			t.Errorf("the log contains the %s", name)
		}
	}
}

// TestDebugLogLines: at debug level there is one line per GraphQL operation
// and one per delivery attempt, both with the request id the client sent.
func TestDebugLogLines(t *testing.T) {
	const adminKey = "debug-log-admin-key-0123456789"
	rs := startRun(t, map[string]string{
		"HOOKLINE_DATABASE_URL":          "sqlite://" + t.TempDir() + "/debug.db",
		"HOOKLINE_ADDR":                  "127.0.0.1:0",
		"HOOKLINE_ADMIN_KEY":             adminKey,
		"HOOKLINE_LOG_LEVEL":             "debug",
		"HOOKLINE_LOG_FORMAT":            "json",
		"HOOKLINE_ALLOW_PRIVATE_TARGETS": "true",
	})
	rc := newReceiver(t, nil)
	c := &client{url: "http://" + rs.addr + "/graphql", key: adminKey}
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
	rs.stop(t)

	var operations, attempts int
	for line := range strings.SplitSeq(rs.stdout.String(), "\n") {
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
