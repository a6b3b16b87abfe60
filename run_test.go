package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runGuard bounds how long a test waits for run to start or stop; it is a
// safety net against hangs, not a delay.
const runGuard = 30 * time.Second

// runningServer is run() started in a goroutine.
type runningServer struct {
	addr   string
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startRun calls run with env and args and waits until it is ready. It fails
// the test if run returns first.
func startRun(tb testing.TB, env map[string]string, args ...string) *runningServer {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServer{stdout: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { rs.done <- run(ctx, args, fakeEnv(env), rs.stdout, func(addr string) { ready <- addr }) }()
	tb.Cleanup(func() { rs.stop(tb) })
	select {
	case rs.addr = <-ready:
	case err := <-rs.done:
		rs.done <- err
		tb.Fatalf("run returned before it was ready: %v\nstdout:\n%s", err, rs.stdout)
	case <-time.After(runGuard):
		tb.Fatalf("run not ready after %v\nstdout:\n%s", runGuard, rs.stdout)
	}
	return rs
}

// stop cancels run's context and returns what run returned.
func (rs *runningServer) stop(tb testing.TB) error {
	tb.Helper()
	rs.cancel()
	select {
	case err := <-rs.done:
		rs.done <- err // later calls see the same result
		return err
	case <-time.After(runGuard):
		tb.Fatalf("run did not return within %v of its context ending", runGuard)
		return nil
	}
}

// client returns a GraphQL client for the server with the key.
func (rs *runningServer) client(key string) *client {
	return &client{url: "http://" + rs.addr + "/graphql", key: key}
}

var apiKeyRE = regexp.MustCompile(`hkl_[A-Za-z0-9_-]+`)

// meRole returns the role of key, or fails the test.
func (rs *runningServer) meRole(tb testing.TB, key string) string {
	tb.Helper()
	var out struct{ Me struct{ Role string } }
	rs.client(key).mustDo(tb, `{ me { role } }`, nil, &out)
	return out.Me.Role
}

func TestRun(t *testing.T) {
	env := map[string]string{"HOOKLINE_DATABASE_URL": "sqlite://" + t.TempDir() + "/h.db"}

	rs := startRun(t, env, "-addr", "127.0.0.1:0")
	if !regexp.MustCompile(`^127\.0\.0\.1:[1-9][0-9]*$`).MatchString(rs.addr) {
		t.Errorf("ready(%q); want 127.0.0.1 and the port chosen", rs.addr)
	}
	out := rs.stdout.String()
	keys := apiKeyRE.FindAllString(out, -1)
	if len(keys) == 0 {
		t.Fatalf("stdout has no hkl_ admin key:\n%s", out)
	}
	key := keys[0]
	for _, k := range keys {
		if k != key {
			t.Errorf("stdout shows two different keys, %s and %s; want one generated key", key, k)
		}
	}
	if n := strings.Count(out, key); n != 1 {
		t.Errorf("stdout shows the admin key %d times; want once:\n%s", n, out)
	}

	t.Run("KeyIsAdmin", func(t *testing.T) {
		if got := rs.meRole(t, key); got != "ADMIN" {
			t.Errorf("me.role with the printed key = %q; want ADMIN", got)
		}
	})

	t.Run("GraphQLRequiresKey", func(t *testing.T) {
		wantUnauthenticated(t, "http://"+rs.addr, "")
	})

	t.Run("IDE", func(t *testing.T) {
		resp, err := http.Get("http://" + rs.addr + "/")
		if err != nil {
			t.Fatalf("GET /: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET / status = %d; want 200", resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET / Content-Type = %q; want text/html", ct)
		}
		if !strings.Contains(string(body), "/graphql") {
			t.Errorf("GET / body does not mention /graphql:\n%.500s", body)
		}
	})

	if err := rs.stop(t); err != nil {
		t.Fatalf("run after its context ended = %v; want nil", err)
	}
	if _, err := http.Get("http://" + rs.addr + "/"); err == nil {
		t.Errorf("GET / after run returned succeeded; want the listener closed")
	}

	t.Run("RestartPrintsNoKey", func(t *testing.T) {
		rs := startRun(t, env, "-addr", "127.0.0.1:0")
		if out := rs.stdout.String(); apiKeyRE.MatchString(out) || strings.Contains(out, "Admin API key") {
			t.Errorf("second start printed a key:\n%s", out)
		}
		if got := rs.meRole(t, key); got != "ADMIN" {
			t.Errorf("me.role with the first start's key = %q; want ADMIN", got)
		}
		if err := rs.stop(t); err != nil {
			t.Errorf("run after its context ended = %v; want nil", err)
		}
	})
}

func TestRunConfiguredAdminKey(t *testing.T) {
	const adminKey = "configured-admin-key-0123456789"
	env := map[string]string{
		"HOOKLINE_DATABASE_URL": "sqlite://" + t.TempDir() + "/h.db",
		"HOOKLINE_ADDR":         "127.0.0.1:0",
		"HOOKLINE_ADMIN_KEY":    adminKey,
	}
	for _, start := range []string{"FirstStart", "Restart"} {
		t.Run(start, func(t *testing.T) {
			rs := startRun(t, env)
			if out := rs.stdout.String(); apiKeyRE.MatchString(out) || strings.Contains(out, "Admin API key") || strings.Contains(out, adminKey) {
				t.Errorf("stdout with HOOKLINE_ADMIN_KEY set shows a key:\n%s", out)
			}
			if got := rs.meRole(t, adminKey); got != "ADMIN" {
				t.Errorf("me.role with HOOKLINE_ADMIN_KEY = %q; want ADMIN", got)
			}
			wantUnauthenticated(t, "http://"+rs.addr, "Bearer "+adminKey+"x")
			if err := rs.stop(t); err != nil {
				t.Errorf("run after its context ended = %v; want nil", err)
			}
		})
	}
}

// runErr calls run, which must fail before it is ready, and returns its
// error and how long it took.
func runErr(t *testing.T, env map[string]string, args ...string) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runGuard)
	defer cancel()
	var stdout syncBuffer
	start := time.Now()
	err := run(ctx, args, fakeEnv(env), &stdout, func(addr string) {
		t.Errorf("run became ready on %s; want it to fail", addr)
		cancel()
	})
	if err == nil {
		t.Fatalf("run = nil; want an error")
	}
	return err, time.Since(start)
}

func TestRunErrors(t *testing.T) {
	t.Run("ErrDatabaseURLScheme", func(t *testing.T) {
		err, _ := runErr(t, map[string]string{"HOOKLINE_DATABASE_URL": "postgres://x", "HOOKLINE_ADDR": "127.0.0.1:0"})
		if !strings.Contains(err.Error(), "HOOKLINE_DATABASE_URL") {
			t.Errorf("run error = %q; want it to name HOOKLINE_DATABASE_URL", err)
		}
	})

	t.Run("ErrMySQLUnreachable", func(t *testing.T) {
		err, took := runErr(t, map[string]string{"HOOKLINE_DATABASE_URL": "mysql://root@tcp(127.0.0.1:1)/x", "HOOKLINE_ADDR": "127.0.0.1:0"})
		if !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("run error = %q; want it to name the address 127.0.0.1:1", err)
		}
		if took > 5*time.Second {
			t.Errorf("run took %v to report an unreachable database; want under 5s", took)
		}
	})

	t.Run("ErrListen", func(t *testing.T) {
		rs := startRun(t, map[string]string{"HOOKLINE_DATABASE_URL": "sqlite://:memory:", "HOOKLINE_ADDR": "127.0.0.1:0"})
		err, _ := runErr(t, map[string]string{"HOOKLINE_DATABASE_URL": "sqlite://:memory:", "HOOKLINE_ADDR": rs.addr})
		if !strings.Contains(err.Error(), rs.addr) {
			t.Errorf("run error = %q; want it to name the address %s", err, rs.addr)
		}
	})

	t.Run("ErrSeveralSettingsOnOneLine", func(t *testing.T) {
		err, _ := runErr(t, map[string]string{"HOOKLINE_LOG_LEVEL": "loud", "HOOKLINE_WORKERS": "many", "HOOKLINE_ADDR": "127.0.0.1:0"})
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "HOOKLINE_LOG_LEVEL") || !strings.Contains(msg, "HOOKLINE_WORKERS") {
			t.Errorf("run error = %q; want one line naming HOOKLINE_LOG_LEVEL and HOOKLINE_WORKERS", msg)
		}
	})

	// Errors from opening the database must not show its password either.
	for _, tc := range []struct{ name, url string }{
		{"ErrHidesPassword/badPort", "mysql://user:secretpw@host:badport/db"},
		{"ErrHidesPassword/space", "mysql://user:secret pw@host/db"},
		{"ErrHidesPassword/unreachable", "mysql://user:secretpw@127.0.0.1:1/db"},
		{"ErrHidesPassword/unreachableDriverDSN", "mysql://user:secretpw@tcp(127.0.0.1:1)/db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, _ := runErr(t, map[string]string{"HOOKLINE_DATABASE_URL": tc.url, "HOOKLINE_ADDR": "127.0.0.1:0"})
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("run error = %q; want the password hidden", err)
			}
		})
	}
}
