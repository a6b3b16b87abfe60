package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestHostileReceiversBounded: receivers that never answer, reset the
// connection, stall the body, stream a body without end or of 1 GiB, answer
// garbage, or stream or trickle headers without end each cost Hookline one
// attempt bounded by the delivery timeout (measured from the receiver's
// side as well as from startedAt and durationMs), stored with a clear
// error and at most 64 KiB of body; meanwhile a well-behaved webhook's
// deliveries all succeed at the first attempt, and the heap stays bounded;
// on each database under test.
//
// A 2xx status line counts as the receiver accepting the event, whatever
// the body then does: Hookline keeps the first 64 KiB and stops reading (an
// endless body), or stops at the timeout (a stalled body); retrying an
// event the receiver acknowledged would deliver it twice.
func TestHostileReceiversBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Workers = 32
		cfg.MaxInflightPerWebhook = 2
		cfg.Timeout = time.Second
		cfg.Schedule = []time.Duration{5 * time.Millisecond}
		ts := newTestServerWith(t, newURL(t), cfg)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)

		chunk := []byte(strings.Repeat("z", 64<<10))
		chunked := []byte("10000\r\n" + string(chunk) + "\r\n")
		const gib = 1 << 30
		var (
			timeoutErr = regexp.MustCompile(`(?i)timeout|deadline exceeded`)
			resetErr   = regexp.MustCompile(`(?i)reset by peer|EOF|broken pipe|closed`)
			malformed  = regexp.MustCompile(`(?i)malformed`)
			headerErr  = regexp.MustCompile(`(?i)header`)
		)
		type want struct {
			outcome string
			status  int            // 0: no response
			errRE   *regexp.Regexp // for FAILURE
			body    string         // for SUCCESS: the stored response body
		}
		cases := map[string]struct {
			behave behaveFunc
			want   want
		}{
			"silent": {func(c *net.TCPConn) int64 { untilGone(c); return 0 },
				want{outcome: "FAILURE", errRE: timeoutErr}},
			"reset": {func(c *net.TCPConn) int64 { c.SetLinger(0); c.Close(); return 0 },
				want{outcome: "FAILURE", errRE: resetErr}},
			"stalled-body": {func(c *net.TCPConn) int64 {
				n, _ := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\npartial")
				untilGone(c)
				return int64(n)
			}, want{outcome: "SUCCESS", status: 200, body: "partial"}},
			"endless-body": {func(c *net.TCPConn) int64 {
				return writeUntilGone(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n", chunked, 1<<62)
			}, want{outcome: "SUCCESS", status: 200, body: string(chunk)}},
			"gigabyte-body": {func(c *net.TCPConn) int64 {
				return writeUntilGone(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1073741824\r\n\r\n", chunk, gib)
			}, want{outcome: "SUCCESS", status: 200, body: string(chunk)}},
			"garbage-status": {func(c *net.TCPConn) int64 {
				n, _ := io.WriteString(c, "200 OK\r\n\x00\x01\xfe\xff garbage \x1b[31m\r\n\r\n")
				untilGone(c)
				return int64(n)
			}, want{outcome: "FAILURE", errRE: malformed}},
			"garbage-headers": {func(c *net.TCPConn) int64 {
				n, _ := io.WriteString(c, "HTTP/1.1 200 OK\r\n\x00\x01\xfe\xff garbage\r\n\r\n{}")
				untilGone(c)
				return int64(n)
			}, want{outcome: "FAILURE", errRE: malformed}},
			"endless-header": {func(c *net.TCPConn) int64 {
				return writeUntilGone(c, "HTTP/1.1 200 OK\r\nX-Endless: ", chunk, 1<<62)
			}, want{outcome: "FAILURE", errRE: headerErr}},
			"trickled-headers": {func(c *net.TCPConn) int64 {
				n, err := io.WriteString(c, "HTTP/1.1 200 OK\r\n")
				written := int64(n)
				for tick := time.NewTicker(20 * time.Millisecond); err == nil; <-tick.C {
					n, err = io.WriteString(c, "X-Slow: a\r\n")
					written += int64(n)
				}
				return written
			}, want{outcome: "FAILURE", errRE: timeoutErr}},
		}

		var hostileOpen, peakOpenAtGood atomic.Int32
		receivers := map[string]*rawReceiver{}
		for name, tc := range cases {
			receivers[name] = newRawReceiver(t, &hostileOpen, tc.behave)
			c.createWebhook(t, map[string]any{"url": receivers[name].url, "events": []string{"hostile." + name}})
		}
		good := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			open := hostileOpen.Load()
			for old := peakOpenAtGood.Load(); open > old && !peakOpenAtGood.CompareAndSwap(old, open); old = peakOpenAtGood.Load() {
			}
			return http.StatusOK
		})
		c.createWebhook(t, map[string]any{"url": good.URL + "/good", "events": []string{"good"}})

		// The heap, sampled while receivers misbehave.
		stopHeap := sampleHeap(t)

		testStart := time.Now()
		owner := map[string]string{} // delivery ID → case name
		for name := range cases {
			for i := range 2 {
				ev := c.publish(t, "hostile."+name, map[string]any{"i": i}, "")
				owner[ev.Deliveries.Edges[0].Node.ID] = name
			}
		}
		// Publish to the good webhook while hostile connections are held open.
		eventually(t, 5*time.Second, "hostile receivers to hold connections", func() bool { return hostileOpen.Load() >= 4 })
		var goodIDs []string
		for i := range 20 {
			ev := c.publish(t, "good", map[string]any{"i": i}, "")
			goodIDs = append(goodIDs, ev.Deliveries.Edges[0].Node.ID)
		}
		eventually(t, 10*time.Second, "the well-behaved webhook's deliveries", func() bool { return good.count("/good") >= len(goodIDs) })
		if peakOpenAtGood.Load() == 0 {
			t.Errorf("no good delivery arrived while a hostile attempt was in flight; the test did not overlap them")
		}
		for _, id := range goodIDs {
			d := c.waitStatus(t, id, "SUCCEEDED")
			if len(d.Attempts) != 1 || d.Attempts[0].Outcome != "SUCCESS" {
				t.Errorf("good delivery %s: %d attempts, first %+v; want one SUCCESS", id, len(d.Attempts), d.Attempts)
			}
		}

		type attemptJSON struct {
			AttemptNumber int
			Outcome       string
			StatusCode    *int
			Error         *string
			DurationMs    int
			ResponseBody  string
			StartedAt     time.Time
		}
		type deliveryJSON struct {
			Status   string
			Attempts []attemptJSON
		}
		limit := cfg.Timeout + 500*time.Millisecond
		for id, name := range owner {
			w := cases[name].want
			var d deliveryJSON
			eventually(t, 20*time.Second, name+" delivery "+id+" to end", func() bool {
				var out struct{ Delivery *deliveryJSON }
				c.mustDo(t, `query($id: ID!) { delivery(id: $id) { status
					attempts { attemptNumber outcome statusCode error durationMs responseBody startedAt } } }`, map[string]any{"id": id}, &out)
				if out.Delivery == nil {
					t.Fatalf("delivery %s not found", id)
				}
				d = *out.Delivery
				return d.Status == "SUCCEEDED" || d.Status == "DEAD"
			})
			wantStatus, wantAttempts := "DEAD", len(cfg.Schedule)+1
			if w.outcome == "SUCCESS" {
				wantStatus, wantAttempts = "SUCCEEDED", 1
			}
			if d.Status != wantStatus || len(d.Attempts) != wantAttempts {
				t.Errorf("%s: delivery %s after %d attempts; want %s after %d", name, d.Status, len(d.Attempts), wantStatus, wantAttempts)
			}
			for i, a := range d.Attempts {
				at := fmt.Sprintf("%s attempt %d", name, a.AttemptNumber)
				if a.Outcome != w.outcome {
					t.Errorf("%s: outcome %s (status %v, error %q); want %s", at, a.Outcome, deref(a.StatusCode), derefString(a.Error), w.outcome)
				}
				if got := time.Duration(a.DurationMs) * time.Millisecond; got > limit {
					t.Errorf("%s: took %v; want at most the timeout %v and a margin", at, got, cfg.Timeout)
				}
				if a.StartedAt.Before(testStart.Add(-time.Second)) || a.StartedAt.After(time.Now()) {
					t.Errorf("%s: startedAt %v outside the test (%v to now)", at, a.StartedAt, testStart)
				}
				if i > 0 {
					prev := d.Attempts[i-1]
					if end := prev.StartedAt.Add(time.Duration(prev.DurationMs) * time.Millisecond); a.StartedAt.Before(end.Add(-time.Millisecond)) {
						t.Errorf("%s: started at %v, before attempt %d ended (%v)", at, a.StartedAt, prev.AttemptNumber, end)
					}
				}
				if len(a.ResponseBody) > outbound.MaxResponseBody {
					t.Errorf("%s: stored a response body of %d bytes; want at most %d", at, len(a.ResponseBody), outbound.MaxResponseBody)
				}
				switch w.outcome {
				case "FAILURE":
					if a.StatusCode != nil {
						t.Errorf("%s: status %d recorded for a receiver that sent no valid response", at, *a.StatusCode)
					}
					if a.Error == nil || !w.errRE.MatchString(*a.Error) {
						t.Errorf("%s: error %q; want one matching %s", at, derefString(a.Error), w.errRE)
					}
				case "SUCCESS":
					if a.StatusCode == nil || *a.StatusCode != w.status || a.Error != nil {
						t.Errorf("%s: status %v, error %q; want %d and no error", at, deref(a.StatusCode), derefString(a.Error), w.status)
					}
					if a.ResponseBody != w.body {
						t.Errorf("%s: stored a response body of %d bytes (%.20q…); want the first %d bytes the receiver sent", at, len(a.ResponseBody), a.ResponseBody, len(w.body))
					}
				}
			}
		}

		// From the receivers' side: every connection ended within the timeout
		// and a margin, and the endless bodies were not read to their end.
		eventually(t, 5*time.Second, "hostile connections to close", func() bool { return hostileOpen.Load() == 0 })
		for name, rr := range receivers {
			spans := rr.connSpans()
			if len(spans) == 0 {
				t.Errorf("%s: receiver saw no connection", name)
			}
			for _, s := range spans {
				if held := s.ended.Sub(s.accepted); held > limit {
					t.Errorf("%s: Hookline held a connection for %v; want at most the timeout %v and a margin", name, held, cfg.Timeout)
				}
				if s.written > 64<<20 {
					t.Errorf("%s: Hookline let the receiver write %d MiB on one connection; want it to stop reading after %d KiB", name, s.written>>20, outbound.MaxResponseBody>>10)
				}
			}
		}

		// Hookline keeps 64 KiB of a body and its attempts hold a few KiB of
		// headers, so the heap should barely move (it peaks about 5 MiB above
		// the start when response headers are capped at 64 KiB); 32 MiB is
		// room for the race detector and the runtime, not for buffering
		// hostile responses.
		start, peak := stopHeap()
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		const bound = 32 << 20
		if grew := int64(peak) - int64(start); grew > bound {
			t.Errorf("heap in use peaked %d MiB above the start while receivers misbehaved; want less than %d MiB", grew>>20, bound>>20)
		}
		if grew := int64(after.HeapInuse) - int64(start); grew > bound {
			t.Errorf("heap in use grew by %d MiB; want less than %d MiB", grew>>20, bound>>20)
		}
		t.Logf("heap in use: %d MiB at the start, peak %d MiB, %d MiB at the end", start>>20, peak>>20, after.HeapInuse>>20)
	})
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestPrivateTargetsRefused(t *testing.T) {
	cfg := testDeliveryConfig()
	cfg.AllowPrivateTargets = false
	ts := newTestServerWith(t, "sqlite://:memory:", cfg)
	rc := newReceiver(t, nil)
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	port := rc.URL[strings.LastIndex(rc.URL, ":"):]
	for _, url := range []string{rc.URL + "/ip", "http://localhost" + port + "/name", "http://169.254.169.254/latest/meta-data"} {
		w, _ := c.createWebhook(t, map[string]any{"url": url, "events": []string{"*"}})
		ev := c.publish(t, "probe", map[string]any{"webhook": w.ID}, "")
		var id string
		for _, e := range ev.Deliveries.Edges {
			if e.Node.WebhookID == w.ID {
				id = e.Node.ID
			}
		}
		eventually(t, 5*time.Second, "attempt to "+url, func() bool { return c.delivery(t, id).AttemptCount >= 1 })
		a := c.delivery(t, id).Attempts[0]
		if a.Outcome != "FAILURE" || a.Error == nil || !strings.Contains(*a.Error, "not allowed") {
			t.Errorf("attempt to %s = %+v; want a FAILURE saying the address is not allowed", url, a)
		}
		c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": w.ID}, nil)
	}
	if n := rc.count(""); n != 0 {
		t.Errorf("receiver on loopback got %d requests; want 0", n)
	}
}
