package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
)

// rawResponse is an HTTP answer as the client got it.
type rawResponse struct {
	status int
	body   []byte
	took   time.Duration
}

// errors decodes the GraphQL errors of the answer.
func (r rawResponse) errors(tb testing.TB) []gqlError {
	tb.Helper()
	var out struct{ Errors []gqlError }
	if err := json.Unmarshal(r.body, &out); err != nil {
		tb.Fatalf("answer is not a GraphQL response: %v: %.300s", err, r.body)
	}
	return out.Errors
}

// send sends req with the key and reads the answer, which must come within
// 10 seconds.
func send(tb testing.TB, req *http.Request, key string) rawResponse {
	tb.Helper()
	req.Header.Set("Authorization", "Bearer "+key)
	start := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read the answer: %v", err)
	}
	return rawResponse{status: resp.StatusCode, body: b, took: time.Since(start)}
}

// postJSON sends body to /graphql as JSON, over SSE when sse is set.
func postJSON(tb testing.TB, ts *testServer, body string, sse bool) rawResponse {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sse {
		req.Header.Set("Accept", "text/event-stream")
	}
	return send(tb, req, ts.admin.key)
}

// TestSubscriptionOverPlainHTTPRefused: a subscription sent as a plain POST
// or a GET, which can carry one answer only, is refused at once with 400
// and says how to subscribe, instead of waiting for a first message until
// the request times out.
func TestSubscriptionOverPlainHTTPRefused(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	const sub = `subscription { webhookUpdated { id } }`
	check := func(t *testing.T, r rawResponse) {
		t.Helper()
		if r.status != http.StatusBadRequest {
			t.Errorf("status %d after %v, body %.300s; want 400", r.status, r.took, r.body)
		}
		if r.took > 5*time.Second {
			t.Errorf("answered after %v; want at once", r.took)
		}
		errs := r.errors(t)
		if len(errs) != 1 || errs[0].Extensions["code"] != model.CodeBadUserInput ||
			!strings.Contains(errs[0].Message, "websocket") || !strings.Contains(errs[0].Message, "Accept: text/event-stream") {
			t.Errorf("errors = %+v; want one BAD_USER_INPUT saying to use a websocket or Accept: text/event-stream", errs)
		}
	}
	t.Run("POST", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": sub})
		check(t, postJSON(t, ts, string(body), false))
	})
	t.Run("GET", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/graphql?query="+url.QueryEscape(sub), nil)
		check(t, send(t, req, ts.admin.key))
	})
	t.Run("SSE", func(t *testing.T) {
		rc := newReceiver(t, nil)
		w, _ := ts.admin.createWebhook(t, map[string]any{"url": rc.URL + "/sse", "events": []string{"*"}})
		s := subscribe(t, ts.URL, protoSSE, ts.admin.key, sub, nil)
		liven(t, s, w.ID, func() { ts.admin.setDescription(t, w.ID, "changed") })
	})
}
