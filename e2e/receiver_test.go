package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a real HTTP server that records every request it gets.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []receivedRequest
	perPath map[string]int
}

type receivedRequest struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// respondFunc decides the answer to the n-th request (from 1) to a path. It
// may write the response itself and return 0.
type respondFunc func(n int, w http.ResponseWriter, r *http.Request) int

// newReceiver starts a receiver; a nil respond answers 200 to everything.
func newReceiver(tb testing.TB, respond respondFunc) *receiver {
	tb.Helper()
	rc := &receiver{perPath: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.perPath[r.URL.Path]++
		n := rc.perPath[r.URL.Path]
		rc.got = append(rc.got, receivedRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()})
		rc.mu.Unlock()
		status := http.StatusOK
		if respond != nil {
			status = respond(n, w, r)
		}
		if status != 0 {
			w.WriteHeader(status)
		}
	}))
	tb.Cleanup(rc.Close)
	return rc
}

// newSwitchedReceiver answers fail to every request until healthy is set,
// and 200 from then on.
func newSwitchedReceiver(tb testing.TB, fail int) (rc *receiver, healthy *atomic.Bool) {
	tb.Helper()
	healthy = new(atomic.Bool)
	rc = newReceiver(tb, func(int, http.ResponseWriter, *http.Request) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return fail
	})
	return rc, healthy
}

// requests returns the requests received on path ("" for all).
func (rc *receiver) requests(path string) []receivedRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []receivedRequest
	for _, r := range rc.got {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (rc *receiver) count(path string) int { return len(rc.requests(path)) }

// rawReceiver is a TCP server that reads each request, head and body, and
// then misbehaves as its behave function says. It records from its own side
// how long every connection lasted, so a test need not take Hookline's word
// for how long an attempt took.
type rawReceiver struct {
	url   string
	open  *atomic.Int32 // connections open now, shared by several receivers
	mu    sync.Mutex
	spans []connSpan
}

// connSpan is one connection: accepted, then ended when the behaviour saw
// the client go away (or gave up itself), with the response bytes written.
type connSpan struct {
	accepted, ended time.Time
	written         int64
}

// behaveFunc answers one request on c. It returns the number of bytes it
// wrote, once the client has gone away or it has closed c itself.
type behaveFunc func(c *net.TCPConn) int64

func newRawReceiver(tb testing.TB, open *atomic.Int32, behave behaveFunc) *rawReceiver {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	rr := &rawReceiver{url: "http://" + ln.Addr().String() + "/hook", open: open}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tb.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				span := connSpan{accepted: time.Now()}
				open.Add(1)
				stop := context.AfterFunc(ctx, func() { c.Close() })
				defer func() {
					stop()
					c.Close()
					open.Add(-1)
					rr.mu.Lock()
					rr.spans = append(rr.spans, span)
					rr.mu.Unlock()
				}()
				r := bufio.NewReader(c)
				req, err := http.ReadRequest(r)
				if err != nil {
					span.ended = time.Now()
					return
				}
				io.Copy(io.Discard, req.Body)
				span.written = behave(c.(*net.TCPConn))
				span.ended = time.Now()
			})
		}
	})
	return rr
}

func (rr *rawReceiver) connSpans() []connSpan {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]connSpan(nil), rr.spans...)
}

// untilGone reads from c until the client closes it (or the test ends).
func untilGone(c net.Conn) {
	io.Copy(io.Discard, c)
}

// writeUntilGone writes head, then chunk after chunk, until the client
// stops reading and goes away or limit bytes of chunks are written.
func writeUntilGone(c net.Conn, head string, chunk []byte, limit int64) int64 {
	n, err := io.WriteString(c, head)
	written := int64(n)
	for err == nil && written < limit {
		n, err = c.Write(chunk)
		written += int64(n)
	}
	if err == nil {
		untilGone(c)
	}
	return written
}
