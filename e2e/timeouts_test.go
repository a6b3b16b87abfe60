package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/model"
)

// timeoutServer starts a test server whose requests must be done within
// limit, and whose deliveries may take far longer.
func timeoutServer(tb testing.TB, limit time.Duration) *testServer {
	tb.Helper()
	cfg := httpapi.DefaultConfig()
	cfg.RequestTimeout = limit
	dcfg := testDeliveryConfig()
	dcfg.Timeout = 30 * time.Second
	return newTestServerOpts(tb, testOptions{url: "sqlite://:memory:", delivery: dcfg, config: &cfg})
}

// TestSlowBodyCutOff: a keyed client sending its body a byte a second is
// answered 408 once the request timeout has passed, and the connection
// ends; it cannot hold the request open past the limit.
func TestSlowBodyCutOff(t *testing.T) {
	const limit = 2 * time.Second
	ts := timeoutServer(t, limit)
	body := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 40) + `"}}`

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /graphql HTTP/1.1\r\nHost: hookline\r\nContent-Type: application/json\r\n" +
		"Authorization: Bearer " + ts.admin.key + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var sent atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := range len(body) {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
			sent.Add(1)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	// The guard is far past the limit but well before the whole body
	// would have arrived (one byte a second).
	conn.SetReadDeadline(start.Add(limit + 10*time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer %v after the headers (%d of %d body bytes sent): %v", time.Since(start), sent.Load(), len(body), err)
	}
	took := time.Since(start)
	b, _ := io.ReadAll(resp.Body)
	raw := string(b)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(raw, `"errors"`) {
		t.Errorf("slow body: status %d, body %.300s; want 408 and a GraphQL error", resp.StatusCode, raw)
	}
	if took > limit+time.Second {
		t.Errorf("slow body answered after %v; want within the %v limit", took, limit)
	}
	if n := sent.Load(); n >= int64(len(body)) {
		t.Errorf("all %d body bytes were sent before the answer", n)
	}
	if !resp.Close {
		t.Errorf("the answer to a slow body keeps the connection open")
	}
}

// TestRequestTimeoutEveryTransport: a mutation that would outlast the
// request timeout (a ping to a receiver that never answers, with a longer
// delivery timeout) ends at the request timeout over every transport,
// SSE included, where the request could have been a subscription.
func TestRequestTimeoutEveryTransport(t *testing.T) {
	const limit = time.Second
	ts := timeoutServer(t, limit)
	rc := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) int {
		<-r.Context().Done()
		return 0
	})
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/hang", "events": []string{"*"}})
	const ping = `mutation($id: ID!) { pingWebhook(id: $id) { statusCode error durationMs } }`
	vars := map[string]any{"id": w.ID}
	type pingResult struct {
		PingWebhook struct {
			StatusCode *int
			Error      *string
			DurationMs int
		}
	}

	check := func(t *testing.T, took time.Duration, got pingResult) {
		t.Helper()
		if took > limit+2*time.Second {
			t.Errorf("ping answered after %v; want within the %v request timeout", took, limit)
		}
		if p := got.PingWebhook; p.StatusCode != nil || p.Error == nil {
			t.Errorf("ping = status %v, error %v; want no status and an error", deref(p.StatusCode), deref(p.Error))
		}
	}
	t.Run("POST", func(t *testing.T) {
		start := time.Now()
		var got pingResult
		c.mustDo(t, ping, vars, &got)
		check(t, time.Since(start), got)
	})
	for _, proto := range subscriptionProtocols {
		t.Run(proto, func(t *testing.T) {
			start := time.Now()
			sub := subscribe(t, ts.URL, proto, c.key, ping, vars)
			var got pingResult
			sub.receive(t, &got)
			check(t, time.Since(start), got)
		})
	}
}
