package main

import (
	"bufio"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// hostileServer accepts TCP connections, reads the request head and then
// behaves as behave says, until the test ends.
func hostileServer(tb testing.TB, behave func(c net.Conn, stop <-chan struct{})) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	tb.Cleanup(func() { close(stop); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				go func() { <-stop; c.Close() }()
				r := bufio.NewReader(c)
				if _, err := http.ReadRequest(r); err != nil {
					return
				}
				behave(c, stop)
			})
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

// TestHostileReceivers: receivers that hang, reset, stall, stream without
// end or answer garbage each cost one bounded attempt, store at most 64 KiB,
// and do not hold up a well-behaved webhook's deliveries.
func TestHostileReceivers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Timeout = time.Second
		cfg.Schedule = []time.Duration{10 * time.Millisecond}
		ts := newTestServerWith(t, newURL(t), cfg)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		chunk := []byte(strings.Repeat("z", 64<<10))
		hostile := map[string]struct {
			behave  func(c net.Conn, stop <-chan struct{})
			outcome string
		}{
			"silent": {func(c net.Conn, stop <-chan struct{}) { <-stop }, "FAILURE"},
			"reset": {func(c net.Conn, stop <-chan struct{}) {
				c.(*net.TCPConn).SetLinger(0)
			}, "FAILURE"},
			"stalled-body": {func(c net.Conn, stop <-chan struct{}) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial"))
				<-stop
			}, "SUCCESS"}, // the receiver answered 200; the body is the receiver's business
			"endless-body": {func(c net.Conn, stop <-chan struct{}) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"))
				for {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}, "SUCCESS"},
			"garbage": {func(c net.Conn, stop <-chan struct{}) {
				c.Write([]byte("\x00\x01garbage that is not HTTP\r\n\r\n"))
			}, "FAILURE"},
		}
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)

		ids := map[string]string{} // delivery → receiver name
		for name, h := range hostile {
			c.createWebhook(t, map[string]any{"url": hostileServer(t, h.behave), "events": []string{"hostile." + name}})
		}
		good := newReceiver(t, nil)
		c.createWebhook(t, map[string]any{"url": good.URL + "/good", "events": []string{"good"}})
		for name := range hostile {
			for range 3 {
				ev := c.publish(t, "hostile."+name, map[string]any{"to": name}, "")
				ids[ev.Deliveries.Edges[0].Node.ID] = name
			}
		}
		for i := range 30 {
			c.publish(t, "good", map[string]any{"i": i}, "")
		}
		eventually(t, 10*time.Second, "the well-behaved webhook's deliveries", func() bool { return good.count("/good") == 30 })

		limit := cfg.Timeout + 500*time.Millisecond
		for id, name := range ids {
			var d deliveryJSON
			eventually(t, 20*time.Second, name+" attempts to end", func() bool {
				d = c.delivery(t, id)
				return d.Status == "SUCCEEDED" || d.Status == "DEAD"
			})
			for _, a := range d.Attempts {
				if a.Outcome != hostile[name].outcome {
					t.Errorf("%s: attempt outcome %s (error %v); want %s", name, a.Outcome, deref(a.Error), hostile[name].outcome)
				}
				if len(a.ResponseBody) > delivery.MaxResponseBody {
					t.Errorf("%s: stored response body of %d bytes; want at most %d", name, len(a.ResponseBody), delivery.MaxResponseBody)
				}
				if a.Outcome == "FAILURE" && a.Error == nil {
					t.Errorf("%s: failed attempt without an error message", name)
				}
			}
		}
		var durations struct {
			Deliveries struct {
				Edges []struct {
					Node struct {
						Attempts []struct{ DurationMs int }
					}
				}
			}
		}
		c.mustDo(t, `{ deliveries(first: 100) { edges { node { attempts { durationMs } } } } }`, nil, &durations)
		for _, e := range durations.Deliveries.Edges {
			for _, a := range e.Node.Attempts {
				if d := time.Duration(a.DurationMs) * time.Millisecond; d > limit {
					t.Errorf("an attempt took %v; want at most the timeout (%v) and a margin", d, cfg.Timeout)
				}
			}
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 64<<20 {
			t.Errorf("heap in use grew by %d MiB", grew>>20)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
