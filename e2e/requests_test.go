package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/httpapi"
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

// TestBadRequestsNotEchoed: a malformed request is answered in a few
// hundred bytes, in the client's words, whatever it sent: JSON errors give
// the offset, not the body, and name no Go types; GraphQL errors quote at
// most the start of a name or value.
func TestBadRequestsNotEchoed(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	big := strings.Repeat("A", 500<<10)
	request := func(query string, vars map[string]any, operation string) string {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars, "operationName": operation})
		return string(b)
	}
	tests := []struct {
		name string
		body string
		want string // in the message of a 400 BAD_USER_INPUT; empty for a GraphQL error
	}{
		{"ErrTruncatedJSON", `{"query": "{ me { id } }", "variables": {"pad": "` + big, "request body is not valid JSON: it ends inside a value, at offset"},
		{"ErrInvalidJSON", `{"query": "{ me { id } }", "variables": {"pad": "` + big + `"}, x}`, "request body is not valid JSON: invalid character 'x' looking for beginning of object key string at offset"},
		{"ErrNotAnObject", `["` + big + `"]`, "request body must be a JSON object, not an array"},
		{"ErrVariablesNotAnObject", `{"query": "{ me { id } }", "variables": ["` + big + `"]}`, "variables must be a JSON object, not an array"},
		{"ErrQueryNotAString", `{"query": {"pad": "` + big + `"}}`, "query must be a string, not an object"},
		{"ErrEmpty", ``, "request body is empty"},
		// gqlparser suggests known names by edit distance, which takes
		// long for a long name: 50 KiB shows the clipping well enough.
		{"ErrUnknownField", request(`{ `+big[:50<<10]+` }`, nil, ""), ""},
		{"ErrUnknownOperation", request(`{ me { id } }`, nil, big), ""},
		{"ErrUnknownVariableField", request(`query($f: WebhookFilter) { webhooks(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{big: 1}}, ""), ""},
		{"ErrIntOutOfRange", request(`{ webhooks(first: `+strings.Repeat("9", 100<<10)+`) { totalCount } }`, nil, ""), ""},
	}
	for _, tt := range tests {
		for _, sse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sse=%t", tt.name, sse), func(t *testing.T) {
				r := postJSON(t, ts, tt.body, sse)
				if len(r.body) > 2048 {
					t.Errorf("a %d-byte request was answered with %d bytes: %.300s…", len(tt.body), len(r.body), r.body)
				}
				for _, goish := range []string{"interface {}", "RawParams", "map[", "graphql.", "json:"} {
					if bytes.Contains(r.body, []byte(goish)) {
						t.Errorf("answer names Go internals (%q): %.500s", goish, r.body)
					}
				}
				if tt.want == "" {
					return
				}
				if r.status != http.StatusBadRequest {
					t.Errorf("status %d; want 400", r.status)
				}
				if errs := r.errors(t); len(errs) != 1 || errs[0].Extensions["code"] != model.CodeBadUserInput || !strings.HasPrefix(errs[0].Message, tt.want) {
					t.Errorf("errors = %+v; want one BAD_USER_INPUT starting %q", errs, tt.want)
				}
			})
		}
	}
}

// TestIntrospectionDisabled: with introspection off, an operation asking for
// the schema, directly or through a fragment, is refused as invalid
// (GRAPHQL_VALIDATION_FAILED, "introspection is disabled"), not as an
// internal error, and nothing is logged at info or above; __typename still
// answers.
func TestIntrospectionDisabled(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.Introspection = false
	logs := &syncBuffer{}
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg, logs: logs, logLevel: slog.LevelInfo})
	for name, q := range map[string]string{
		"Schema":         `{ __schema { queryType { name } } }`,
		"Type":           `{ __type(name: "Webhook") { name } }`,
		"Fragment":       `query { ...F } fragment F on Query { __schema { queryType { name } } }`,
		"InlineFragment": `query { ... on Query { __type(name: "Webhook") { name } } }`,
		"BesideAField":   `{ me { id } __schema { queryType { name } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			resp := ts.admin.do(t, q, nil)
			e := wantError(t, resp, "GRAPHQL_VALIDATION_FAILED", "")
			if e.Message != "introspection is disabled" {
				t.Errorf("message %q; want %q", e.Message, "introspection is disabled")
			}
			if string(resp.Data) != "" && string(resp.Data) != "null" {
				t.Errorf("data %s; want none", resp.Data)
			}
		})
	}
	t.Run("Typename", func(t *testing.T) {
		var out struct {
			Typename string `json:"__typename"`
		}
		ts.admin.mustDo(t, `{ __typename }`, nil, &out)
		if out.Typename != "Query" {
			t.Errorf("__typename = %q; want Query", out.Typename)
		}
	})
	if l := logs.String(); l != "" {
		t.Errorf("logged at info or above:\n%s", l)
	}
}
