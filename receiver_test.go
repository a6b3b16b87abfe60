package main

import (
	"io"
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
