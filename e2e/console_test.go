package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConsoleRoutes checks that the console, GraphiQL and the API share
// the server without shadowing each other: deep links get the console's
// page, /graphql stays the API, and the health endpoints stay themselves.
func TestConsoleRoutes(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:") // the routes do not depend on the database
	get := func(method, path string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	for _, tt := range []struct {
		method, path string
		wantStatus   int
		wantBody     string
	}{
		{"GET", "/", 200, "<title>Hookline console</title>"},
		{"GET", "/deliveries/RGVsaXZlcnk6MQ", 200, "<title>Hookline console</title>"},
		{"GET", "/graphiql", 200, "<title>Hookline GraphiQL</title>"},
		{"GET", "/livez", 200, "ok"},
		{"GET", "/readyz", 200, "ok"},
		{"GET", "/metrics", 200, "hookline_"},
		{"POST", "/graphql", 401, "UNAUTHENTICATED"},
		{"POST", "/livez", 405, ""},
		{"GET", "/assets/nothing.js", 404, ""},
	} {
		status, header, body := get(tt.method, tt.path)
		if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
			t.Errorf("%s %s = %d %.80q; want %d with %q", tt.method, tt.path, status, body, tt.wantStatus, tt.wantBody)
		}
		if strings.Contains(tt.wantBody, "<title>") {
			if csp := header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' ws://"+strings.TrimPrefix(ts.URL, "http://")) {
				t.Errorf("%s: Content-Security-Policy %q does not allow this server's websocket", tt.path, csp)
			}
		}
	}
}
