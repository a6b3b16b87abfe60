package httpapi

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hookline/hookline/web"
)

func get(tb testing.TB, h http.Handler, method, target string, header map[string]string) *http.Response {
	tb.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(tb testing.TB, res *http.Response) string {
	tb.Helper()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			tb.Fatalf("gzip: %v", err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// builtAssets returns the largest hashed script and a stylesheet of the real build.
func builtAssets(tb testing.TB) (js, css string) {
	tb.Helper()
	entries, err := fs.ReadDir(web.Dist, "assets")
	if err != nil {
		tb.Fatalf("the web build has no assets/: %v", err)
	}
	var largest int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			tb.Fatal(err)
		}
		switch {
		case strings.HasSuffix(e.Name(), ".js") && info.Size() > largest:
			js, largest = "/assets/"+e.Name(), info.Size()
		case css == "" && strings.HasSuffix(e.Name(), ".css"):
			css = "/assets/" + e.Name()
		}
	}
	if js == "" || css == "" {
		tb.Fatalf("the web build lacks a script or a stylesheet under assets/")
	}
	return js, css
}

func TestAssets(t *testing.T) {
	h := assets(web.Dist)
	js, css := builtAssets(t)
	for _, tt := range []struct {
		path, wantType, wantCache string
		wantPage                  string // the <title> of the page served, if one
	}{
		{"/", "text/html; charset=utf-8", "no-cache", "Hookline console"},
		{"/webhooks", "text/html; charset=utf-8", "no-cache", "Hookline console"},
		{"/webhooks/V2ViaG9vazox/edit", "text/html; charset=utf-8", "no-cache", "Hookline console"},
		{"/live?webhook=x", "text/html; charset=utf-8", "no-cache", "Hookline console"},
		{"/graphiql", "text/html; charset=utf-8", "no-cache", "Hookline GraphiQL"},
		{"/favicon.svg", "image/svg+xml", "no-cache", ""},
		{js, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", ""},
		{css, "text/css; charset=utf-8", "public, max-age=31536000, immutable", ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			res := get(t, h, "GET", tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s = %d; want 200", tt.path, res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q; want %q", got, tt.wantType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control = %q; want %q", got, tt.wantCache)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q; want nosniff", got)
			}
			b := body(t, res)
			csp := res.Header.Get("Content-Security-Policy")
			if tt.wantPage == "" {
				if csp != "" {
					t.Errorf("a file other than a page has a Content-Security-Policy: %q", csp)
				}
				return
			}
			if !strings.Contains(b, "<title>"+tt.wantPage+"</title>") {
				t.Errorf("GET %s did not serve the page %q", tt.path, tt.wantPage)
			}
			for _, want := range []string{"default-src 'self'", "script-src 'self';", "connect-src 'self' ws://example.com wss://example.com;", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || regexp.MustCompile(`script-src[^;]*unsafe-inline`).MatchString(csp) {
				t.Errorf("Content-Security-Policy %q allows inline or eval'd scripts", csp)
			}
		})
	}
}

func TestAssetsRefused(t *testing.T) {
	h := assets(web.Dist)
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/assets/missing-0000.js", http.StatusNotFound},
		{"GET", "/assets", http.StatusNotFound},
		{"GET", "/graphiql/x", http.StatusNotFound},
		{"GET", "/graphql/x", http.StatusNotFound},
		{"GET", "/metrics", http.StatusNotFound}, // when no metrics are served
		{"GET", "/livez/x", http.StatusNotFound},
		{"GET", "/readyz/x", http.StatusNotFound},
		{"GET", "/robots.txt", http.StatusNotFound}, // a missing file is no deep link
		{"POST", "/", http.StatusMethodNotAllowed},
		{"DELETE", "/webhooks", http.StatusMethodNotAllowed},
	} {
		if got := get(t, h, tt.method, tt.path, nil).StatusCode; got != tt.want {
			t.Errorf("%s %s = %d; want %d", tt.method, tt.path, got, tt.want)
		}
	}
	if got := get(t, h, "HEAD", "/", nil).StatusCode; got != http.StatusOK {
		t.Errorf("HEAD / = %d; want 200", got)
	}
}

func TestAssetsCompressionAndRevalidation(t *testing.T) {
	h := assets(web.Dist)
	js, _ := builtAssets(t)
	plain := get(t, h, "GET", js, nil)
	zipped := get(t, h, "GET", js, map[string]string{"Accept-Encoding": "gzip, br"})
	if zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q with Accept-Encoding: gzip; want gzip", zipped.Header.Get("Content-Encoding"))
	}
	if a, b := body(t, plain), body(t, zipped); a != b {
		t.Errorf("the gzipped body differs from the plain one (%d and %d bytes)", len(a), len(b))
	}
	if plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
		t.Errorf("both encodings have ETag %s; want one each", plain.Header.Get("ETag"))
	}
	if got := get(t, h, "GET", "/", map[string]string{"If-None-Match": get(t, h, "GET", "/", nil).Header.Get("ETag")}).StatusCode; got != http.StatusNotModified {
		t.Errorf("GET / with its ETag = %d; want 304", got)
	}
	if got := get(t, h, "GET", js, map[string]string{"Accept-Encoding": "gzip;q=0"}).Header.Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding = %q with gzip;q=0; want none", got)
	}
}

func TestContentSecurityPolicyHost(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"localhost:8080", "connect-src 'self' ws://localhost:8080 wss://localhost:8080;"},
		{"[::1]:8080", "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080;"},
		{"evil.com; script-src *", "connect-src 'self';"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = tt.host
		if got := contentSecurityPolicy(req); !strings.Contains(got, tt.want) {
			t.Errorf("contentSecurityPolicy(Host %q) = %q; want it to contain %q", tt.host, got, tt.want)
		}
	}
}

// externalRef finds a src or href attribute, in markup or in a script
// that builds markup, pointing off this server.
var externalRef = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*["'\x60]?\s*(?:https?:)?//[a-z0-9]`)

// TestAssetsNothingExternal holds the build to loading nothing from
// elsewhere: no src or href anywhere in it points off this server, and
// stylesheets import nothing remote.
func TestAssetsNothingExternal(t *testing.T) {
	files := 0
	fs.WalkDir(web.Dist, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := fs.ReadFile(web.Dist, name)
		if err != nil {
			t.Fatal(err)
		}
		if m := externalRef.Find(b); m != nil {
			t.Errorf("%s references another server: %s", name, m)
		}
		if strings.HasSuffix(name, ".css") {
			if m := regexp.MustCompile(`(?i)(?:url\(\s*["']?|@import\s+["']?)(?:https?:)?//`).Find(b); m != nil {
				t.Errorf("%s loads from another server: %s", name, m)
			}
		}
		return nil
	})
	for _, page := range []string{consolePage, graphiqlPage} {
		if _, err := fs.Stat(web.Dist, page); err != nil {
			t.Errorf("the web build lacks %s: %v", page, err)
		}
	}
	if files < 4 {
		t.Errorf("the web build has %d files; want the pages and their assets", files)
	}
}

func TestAssetsUnbuilt(t *testing.T) {
	h := assets(fstest.MapFS{})
	res := get(t, h, "GET", "/", nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body(t, res), "npm run build") {
		t.Errorf("GET / without a build = %d; want 404 saying how to build", res.StatusCode)
	}
}
