package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// tcpProxy forwards connections to a backend until it is cut: then it
// drops every open connection and refuses new ones until restored.
type tcpProxy struct {
	backend string
	addr    string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newTCPProxy(tb testing.TB, backend string) *tcpProxy {
	tb.Helper()
	p := &tcpProxy{backend: backend, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	tb.Cleanup(func() { p.cut(); p.wg.Wait() })
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[b] = struct{}{}, struct{}{}
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			p.wg.Go(func() { pipe(b, c) })
			p.wg.Go(func() { pipe(c, b) })
		}
	})
}

// cut closes the listener (new connections are refused) and every open connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *tcpProxy) restore(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatalf("reopen proxy on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// TestDatabaseOutage cuts the connection to MariaDB while events are
// published and delivered: failed publishes answer UNAVAILABLE within the
// request timeout, /readyz says 503, and once the database is back every
// acknowledged event is delivered, to the right webhook.
func TestDatabaseOutage(t *testing.T) {
	if os.Getenv(storetest.MySQLEnv) == "" {
		t.Skip(storetest.MySQLEnv + " not set")
	}
	direct := storetest.NewMySQLURL(t)
	mc, err := mysql.ParseDSN(strings.TrimPrefix(direct, "mysql://"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, mc.Addr)
	mc.Addr = proxy.addr
	mc.Timeout = time.Second
	cfg := httpapi.DefaultConfig()
	cfg.RequestTimeout = 3 * time.Second
	dcfg := testDeliveryConfig()
	dcfg.PollInterval = 100 * time.Millisecond
	logs := &syncBuffer{}
	ts := newTestServerOpts(t, testOptions{url: "mysql://" + mc.FormatDSN(), delivery: dcfg, config: &cfg, logs: logs})
	failedClaims := func() int { return strings.Count(logs.String(), `msg="claim deliveries"`) }

	var (
		mu       sync.Mutex
		received = map[string]string{} // event id → path
	)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		mu.Lock()
		received[r.Header.Get("webhook-id")] = r.URL.Path
		mu.Unlock()
		return http.StatusOK
	})
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	c.createWebhook(t, map[string]any{"url": rc.URL + "/a", "events": []string{"type.a"}})
	c.createWebhook(t, map[string]any{"url": rc.URL + "/b", "events": []string{"type.b"}})
	ready := func() int {
		resp, err := http.Get(ts.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	var (
		acked      sync.Map // event id → expected path
		failures   atomic.Int32
		ackCount   atomic.Int32
		slowest    atomic.Int64
		stop       = make(chan struct{})
		publishers sync.WaitGroup
	)
	for i := range 4 {
		publishers.Go(func() {
			typ, path := "type.a", "/a"
			if i%2 == 1 {
				typ, path = "type.b", "/b"
			}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				resp := c.do(t, `mutation($in: PublishEventInput!) { publishEvent(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"type": typ, "payload": map[string]any{"n": n}}})
				took := time.Since(start)
				for old := slowest.Load(); int64(took) > old && !slowest.CompareAndSwap(old, int64(took)); old = slowest.Load() {
				}
				if len(resp.Errors) > 0 {
					failures.Add(1)
					if code := resp.Errors[0].Extensions["code"]; code != model.CodeUnavailable {
						t.Errorf("failed publish: code %v (%s); want UNAVAILABLE", code, resp.Errors[0].Message)
					}
					time.Sleep(50 * time.Millisecond) // a client backing off
					continue
				}
				var out struct{ PublishEvent struct{ ID string } }
				if err := json.Unmarshal(resp.Data, &out); err != nil || out.PublishEvent.ID == "" {
					t.Errorf("publish answered without an id: %s", resp.Data)
					continue
				}
				acked.Store(out.PublishEvent.ID, path)
				ackCount.Add(1)
			}
		})
	}

	eventually(t, 10*time.Second, "some deliveries before the outage", func() bool { return rc.count("") >= 20 })
	proxy.cut()
	cutAt := time.Now()
	claimsBefore := failedClaims()
	eventually(t, 10*time.Second, "/readyz to report the outage", func() bool { return ready() == http.StatusServiceUnavailable })
	eventually(t, 20*time.Second, "a few seconds of failing publishes", func() bool {
		return failures.Load() >= 4 && time.Since(cutAt) > 3*time.Second
	})
	// Workers back off: a claim that fails waits longer each time (one
	// poll interval more) instead of retrying at once against a database
	// that refuses connections.
	outage, claims := time.Since(cutAt), failedClaims()-claimsBefore
	if limit := int(outage/dcfg.PollInterval)/2 + 1; claims > limit {
		t.Errorf("%d failed claims in a %v outage; want at most %d: fewer than one a poll interval, as the waits grow", claims, outage.Round(time.Millisecond), limit)
	}
	t.Logf("%d failed claims in a %v outage", claims, outage.Round(time.Millisecond))
	proxy.restore(t)
	eventually(t, 20*time.Second, "/readyz to recover", func() bool { return ready() == http.StatusOK })
	afterOutage := ackCount.Load()
	eventually(t, 20*time.Second, "publishes to succeed again", func() bool { return ackCount.Load() >= afterOutage+8 })
	close(stop)
	publishers.Wait()

	if d := time.Duration(slowest.Load()); d > cfg.RequestTimeout+2*time.Second {
		t.Errorf("slowest publish took %v; want at most the request timeout (%v) and a margin", d, cfg.RequestTimeout)
	}
	var total int
	acked.Range(func(any, any) bool { total++; return true })
	eventually(t, 60*time.Second, "every acknowledged event to arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		missing := 0
		acked.Range(func(id, _ any) bool {
			if _, ok := received[id.(string)]; !ok {
				missing++
			}
			return true
		})
		return missing == 0
	})
	mu.Lock()
	defer mu.Unlock()
	acked.Range(func(id, path any) bool {
		if got := received[id.(string)]; got != path.(string) {
			t.Errorf("event %s went to %s; want %s", id, got, path)
		}
		return true
	})
	t.Logf("%d events acknowledged, %d publishes failed during the outage", total, failures.Load())
}
