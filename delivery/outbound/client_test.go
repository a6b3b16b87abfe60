package outbound

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newServer starts a test receiver that counts the requests reaching it.
func newServer(tb testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	tb.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	tb.Cleanup(srv.Close)
	return srv, &hits
}

// privateClient returns a client that may reach the loopback test servers.
func privateClient(tb testing.TB, timeout time.Duration) *http.Client {
	tb.Helper()
	c := NewClient(ClientOptions{Timeout: timeout, AllowPrivate: true})
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

func TestNewClient_Defaults(t *testing.T) {
	c := NewClient(ClientOptions{})
	if c.Timeout != DefaultTimeout {
		t.Errorf("Timeout = %v; want %v", c.Timeout, DefaultTimeout)
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T; want *http.Transport", c.Transport)
	}
	if tr == http.DefaultTransport {
		t.Errorf("Transport is http.DefaultTransport; want a dedicated one")
	}
	if tr.Proxy != nil {
		t.Errorf("Proxy is set; want nil (no proxy from the environment)")
	}
	if tr.MaxIdleConnsPerHost != DefaultMaxConnsPerHost || tr.MaxConnsPerHost != DefaultMaxConnsPerHost {
		t.Errorf("MaxIdleConnsPerHost, MaxConnsPerHost = %d, %d; want %d, %d",
			tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost, DefaultMaxConnsPerHost, DefaultMaxConnsPerHost)
	}
	if tr.DisableKeepAlives {
		t.Errorf("DisableKeepAlives = true; want false")
	}
	if tr.TLSHandshakeTimeout <= 0 || tr.ResponseHeaderTimeout <= 0 {
		t.Errorf("TLSHandshakeTimeout, ResponseHeaderTimeout = %v, %v; want both set", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout)
	}

	c = NewClient(ClientOptions{Timeout: 3 * time.Second, MaxConnsPerHost: 8})
	if c.Timeout != 3*time.Second {
		t.Errorf("Timeout = %v; want 3s", c.Timeout)
	}
	if tr := c.Transport.(*http.Transport); tr.MaxIdleConnsPerHost != 8 || tr.MaxConnsPerHost != 8 {
		t.Errorf("MaxIdleConnsPerHost, MaxConnsPerHost = %d, %d; want 8, 8", tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost)
	}
}

func TestSend_OK(t *testing.T) {
	type received struct {
		method, contentType, signature string
		body                           []byte
	}
	got := make(chan received, 1)
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Webhook-Signature"), body}
		w.Header().Set("X-Receiver", "yes")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "thanks")
	})

	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Webhook-Signature", "v1,abc")
	res := Send(t.Context(), privateClient(t, 5*time.Second), Request{URL: srv.URL + "/hook", Body: []byte(`{"a":1}`), Header: h})

	if res.Err != nil {
		t.Fatalf("Do error: %v", res.Err)
	}
	if res.StatusCode != http.StatusAccepted {
		t.Errorf("StatusCode = %d; want %d", res.StatusCode, http.StatusAccepted)
	}
	if string(res.Body) != "thanks" {
		t.Errorf("ResponseBody = %q; want %q", res.Body, "thanks")
	}
	if v := res.Header.Get("X-Receiver"); v != "yes" {
		t.Errorf("Header X-Receiver = %q; want %q", v, "yes")
	}
	if res.Duration <= 0 {
		t.Errorf("Duration = %v; want > 0", res.Duration)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests; want 1", n)
	}
	r := <-got
	if r.method != http.MethodPost {
		t.Errorf("method = %s; want POST", r.method)
	}
	if string(r.body) != `{"a":1}` {
		t.Errorf("request body = %q; want %q", r.body, `{"a":1}`)
	}
	if r.contentType != "application/json" || r.signature != "v1,abc" {
		t.Errorf("request headers Content-Type, Webhook-Signature = %q, %q; want application/json, v1,abc", r.contentType, r.signature)
	}
}

func TestSend_ErrorStatusIsAResponse(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	res := Send(t.Context(), privateClient(t, 5*time.Second), Request{URL: srv.URL})
	if res.Err != nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("Do = %d, %v; want %d, nil", res.StatusCode, res.Err, http.StatusTooManyRequests)
	}
	if got := res.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q; want 30", got)
	}
}

func TestSend_TruncatesLargeBody(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (MaxResponseBody+100<<10)/16) // 164 KiB
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(big)
	})
	res := Send(t.Context(), privateClient(t, 5*time.Second), Request{URL: srv.URL})
	if res.Err != nil {
		t.Fatalf("Do error: %v", res.Err)
	}
	if len(res.Body) != MaxResponseBody {
		t.Fatalf("len(Body) = %d; want %d", len(res.Body), MaxResponseBody)
	}
	if !bytes.Equal(res.Body, big[:MaxResponseBody]) {
		t.Errorf("Body is not the start of the response body")
	}
}

func TestSend_EndlessBodyIsBounded(t *testing.T) {
	// The receiver streams forever; Do must return without reading it all.
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	res := Send(t.Context(), privateClient(t, time.Minute), Request{URL: srv.URL})
	if res.Err != nil || len(res.Body) != MaxResponseBody {
		t.Fatalf("Do = %d bytes, %v; want %d bytes, nil", len(res.Body), res.Err, MaxResponseBody)
	}
}

func TestSend_RedirectNotFollowed(t *testing.T) {
	var followed atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
	})
	srv, _ := newServer(t, mux.ServeHTTP)

	res := Send(t.Context(), privateClient(t, 5*time.Second), Request{URL: srv.URL + "/hook"})
	if res.Err != nil {
		t.Fatalf("Do error: %v", res.Err)
	}
	if res.StatusCode != http.StatusFound {
		t.Errorf("StatusCode = %d; want %d", res.StatusCode, http.StatusFound)
	}
	if loc := res.Header.Get("Location"); loc != "/elsewhere" {
		t.Errorf("Location = %q; want /elsewhere", loc)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("redirect target got %d requests; want 0", n)
	}
}

func TestSend_Timeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	res := Send(t.Context(), privateClient(t, 50*time.Millisecond), Request{URL: srv.URL})
	if res.Err == nil {
		t.Fatalf("Do = %d, nil error; want a timeout error", res.StatusCode)
	}
	if ne, ok := errors.AsType[net.Error](res.Err); !ok || !ne.Timeout() {
		t.Errorf("Do error = %v; want a timeout", res.Err)
	}
	t.Logf("Do error: %v", res.Err)
	if res.StatusCode != 0 {
		t.Errorf("StatusCode = %d; want 0", res.StatusCode)
	}
}

func TestSend_ContextCanceled(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	res := Send(ctx, privateClient(t, time.Minute), Request{URL: srv.URL})
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("Do error = %v; want context.Canceled", res.Err)
	}
}

func TestSend_ErrBadURL(t *testing.T) {
	c := privateClient(t, time.Second)
	for _, u := range []string{"", "::not a url", "ftp://example.com/", "/relative"} {
		if res := Send(t.Context(), c, Request{URL: u}); res.Err == nil {
			t.Errorf("Send(%q) error = nil; want an error", u)
		}
	}
}

func TestSend_SSRF(t *testing.T) {
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "reached")
	})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	byName := "http://localhost:" + u.Port() // resolves to loopback

	guarded := NewClient(ClientOptions{Timeout: 5 * time.Second})
	t.Cleanup(guarded.CloseIdleConnections)
	targets := []struct{ name, url string }{{"IP", srv.URL}, {"Name", byName}}
	for _, target := range targets {
		t.Run("ErrRefused"+target.name, func(t *testing.T) {
			res := Send(t.Context(), guarded, Request{URL: target.url, Body: []byte("{}")})
			if !errors.Is(res.Err, ErrDestinationNotAllowed) {
				t.Fatalf("Send(%s) error = %v; want ErrDestinationNotAllowed", target.url, res.Err)
			}
			if msg := res.Err.Error(); !strings.Contains(msg, "destination address is loopback and not allowed") {
				t.Errorf("Send(%s) error = %q; want it to say the loopback destination is not allowed", target.url, msg)
			}
			t.Logf("Send(%s) error: %v", target.url, res.Err)
			if res.StatusCode != 0 {
				t.Errorf("StatusCode = %d; want 0", res.StatusCode)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("server got %d requests through the guarded client; want 0", n)
	}

	allowed := privateClient(t, 5*time.Second)
	for _, target := range targets {
		t.Run("OKAllowPrivate"+target.name, func(t *testing.T) {
			before := hits.Load()
			res := Send(t.Context(), allowed, Request{URL: target.url})
			if res.Err != nil || string(res.Body) != "reached" {
				t.Fatalf("Send(%s) = %q, %v; want %q, nil", target.url, res.Body, res.Err, "reached")
			}
			if n := hits.Load() - before; n != 1 {
				t.Errorf("server got %d requests; want 1", n)
			}
		})
	}
}

func TestGuardControl(t *testing.T) {
	control := guardControl(newGuardian())
	tests := []struct {
		network, address string
		wantKind         string // "" means allowed
	}{
		{"tcp4", "93.184.215.14:443", ""},
		{"tcp4", "8.8.8.8:8080", ""},
		{"tcp6", "[2606:4700:4700::1111]:443", ""},
		{"tcp4", "127.0.0.1:80", "loopback"},
		{"tcp4", "127.1.2.3:8080", "loopback"},
		{"tcp6", "[::1]:443", "loopback"},
		{"tcp6", "[::ffff:127.0.0.1]:443", "loopback"},
		{"tcp4", "10.0.0.1:443", "private"},
		{"tcp4", "172.16.5.4:443", "private"},
		{"tcp4", "192.168.1.1:443", "private"},
		{"tcp6", "[fd00::1]:443", "private"},
		{"tcp6", "[::ffff:10.1.2.3]:443", "private"},
		{"tcp4", "169.254.169.254:80", "link-local"},
		{"tcp6", "[fe80::1]:443", "link-local"},
		{"tcp4", "100.64.0.1:443", "shared (CGNAT)"},
		{"tcp4", "100.127.255.254:443", "shared (CGNAT)"},
		{"tcp4", "224.0.0.1:443", "multicast"},
		{"tcp6", "[ff02::1]:443", "multicast"},
		{"tcp4", "0.0.0.0:443", "unspecified"},
		{"tcp6", "[::]:443", "unspecified"},
		{"tcp4", "192.0.2.1:443", "reserved (not public)"},
		{"tcp4", "255.255.255.255:443", "reserved (not public)"},
	}
	for _, tt := range tests {
		err := control(tt.network, tt.address, nil)
		switch {
		case tt.wantKind == "" && err != nil:
			t.Errorf("control(%s, %s) = %v; want nil", tt.network, tt.address, err)
		case tt.wantKind != "" && !errors.Is(err, ErrDestinationNotAllowed):
			t.Errorf("control(%s, %s) = %v; want ErrDestinationNotAllowed", tt.network, tt.address, err)
		case tt.wantKind != "":
			if want := "destination address is " + tt.wantKind + " and not allowed"; err.Error() != want {
				t.Errorf("control(%s, %s) = %q; want %q", tt.network, tt.address, err, want)
			}
		}
	}

	if err := control("udp4", "8.8.8.8:53", nil); !errors.Is(err, ErrDestinationNotAllowed) {
		t.Errorf("control(udp4, 8.8.8.8:53) = %v; want ErrDestinationNotAllowed", err)
	}
}

// TestSend_DNSFailure: a name that does not resolve is reported by name,
// without the address of the resolver this host uses.
func TestSend_DNSFailure(t *testing.T) {
	res := Send(context.Background(), privateClient(t, 5*time.Second), Request{URL: "http://no-such-host.invalid/hooks"})
	if res.Err == nil {
		t.Fatal("Send to a .invalid name succeeded")
	}
	msg := res.Err.Error()
	if !strings.HasPrefix(msg, "DNS lookup of no-such-host.invalid failed: ") || strings.Contains(msg, ":53") || strings.Contains(msg, " on ") {
		t.Errorf("error = %q; want \"DNS lookup of no-such-host.invalid failed: …\" without the resolver", msg)
	}
}
