package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
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

// authResponse sends a GraphQL request with the raw Authorization header
// (none when empty) and returns the status, headers and body.
func authResponse(tb testing.TB, url, authorization string) (int, http.Header, []byte) {
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
	return resp.StatusCode, resp.Header, body
}

// wantUnauthenticated asserts a 401 whose body is exactly
// {"errors":[{"message":..., "extensions":{"code":"UNAUTHENTICATED"}}]}.
func wantUnauthenticated(tb testing.TB, url, authorization string) {
	tb.Helper()
	status, hdr, body := authResponse(tb, url, authorization)
	if status != http.StatusUnauthorized {
		tb.Errorf("Authorization %q: status = %d; want 401 (body %s)", authorization, status, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Authorization %q: Content-Type = %q; want application/json", authorization, ct)
	}
	if hdr.Get("WWW-Authenticate") == "" {
		tb.Errorf("Authorization %q: no WWW-Authenticate header on a 401", authorization)
	}
	var got struct {
		Errors []map[string]json.RawMessage `json:"errors"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || json.Unmarshal(body, &got) != nil {
		tb.Fatalf("Authorization %q: body %s is not JSON: %v", authorization, body, err)
	}
	if len(top) != 1 || top["errors"] == nil || len(got.Errors) != 1 {
		tb.Fatalf("Authorization %q: body = %s; want {\"errors\":[one error]}", authorization, body)
	}
	e := got.Errors[0]
	var msg string
	if len(e) != 2 || json.Unmarshal(e["message"], &msg) != nil || msg == "" {
		tb.Errorf("Authorization %q: error = %s; want exactly a message and extensions", authorization, body)
	}
	var ext map[string]any
	json.Unmarshal(e["extensions"], &ext)
	if want := map[string]any{"code": model.CodeUnauthenticated}; !reflect.DeepEqual(ext, want) {
		tb.Errorf("Authorization %q: extensions = %v; want %v", authorization, ext, want)
	}
}
