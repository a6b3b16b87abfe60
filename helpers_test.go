package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hookline/hookline/model"
)

// client sends GraphQL requests over HTTP with an API key to a Hookline
// started with run; the API itself is tested in package e2e.
type client struct {
	url string
	key string
}

// mustDo sends a request that must succeed and decodes its data into dst.
func (c *client) mustDo(tb testing.TB, query string, vars map[string]any, dst any) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", c.url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("decode response %q: %v", raw, err)
	}
	if len(out.Errors) > 0 {
		tb.Fatalf("unexpected errors: %+v\nquery: %s", out.Errors, query)
	}
	if dst != nil {
		if err := json.Unmarshal(out.Data, dst); err != nil {
			tb.Fatalf("decode data %s: %v", out.Data, err)
		}
	}
}

// wantUnauthenticated asserts that the server refuses a request with the
// raw Authorization header (none when empty) with 401 UNAUTHENTICATED. The
// body's exact shape is the API's, tested in package e2e.
func wantUnauthenticated(tb testing.TB, url, authorization string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"`+model.CodeUnauthenticated+`"`) {
		tb.Errorf("Authorization %q: %d %s; want 401 UNAUTHENTICATED", authorization, resp.StatusCode, body)
	}
}
