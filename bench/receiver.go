package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is a local HTTP server standing in for a webhook's receiver. It
// answers 204 to every POST, counts requests and distinct deliveries (the
// webhook-id header, which is the event ID, with the URL path, which names
// the webhook), and records the latency from the sentAt in the payload.
type receiver struct {
	addr     string
	requests atomic.Int64
	unique   atomic.Int64
	last     atomic.Int64 // Unix nanoseconds of the latest request

	mu   sync.Mutex
	srv  *http.Server
	seen map[string]struct{}
	lat  hist

	// failFirst, when set, answers 500 to the first failFirst requests of
	// each delivery, which are then not counted as received.
	failFirst int
	tries     map[string]int
}

// startReceiver listens on 127.0.0.1:0.
func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	r := &receiver{addr: ln.Addr().String(), seen: map[string]struct{}{}}
	r.serve(ln)
	return r, nil
}

func (r *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 10 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

func (r *receiver) url(path string) string { return "http://" + r.addr + path }

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	now := time.Now()
	sentAt := sentAtOf(body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	if r.failFirst > 0 {
		key := req.URL.Path + " " + id
		if r.tries[key]++; r.tries[key] <= r.failFirst {
			r.mu.Unlock()
			r.requests.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	if sentAt > 0 {
		r.lat.add(now.Sub(time.Unix(0, sentAt)))
	}
	fresh := id == ""
	if !fresh {
		key := req.URL.Path + " " + id
		if _, dup := r.seen[key]; !dup {
			r.seen[key] = struct{}{}
			fresh = true
		}
	}
	r.mu.Unlock()
	if fresh {
		r.unique.Add(1)
	}
	r.requests.Add(1)
	r.last.Store(now.UnixNano())
	w.WriteHeader(http.StatusNoContent)
}

// sentAtOf finds "sentAt":<digits> in a body without decoding all of it.
func sentAtOf(body []byte) int64 {
	const key = `"sentAt":`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return 0
	}
	rest := body[i+len(key):]
	j := 0
	for j < len(rest) && '0' <= rest[j] && rest[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseInt(string(rest[:j]), 10, 64)
	return n
}

// resetLatency forgets the latencies recorded so far.
func (r *receiver) resetLatency() {
	r.mu.Lock()
	r.lat = hist{}
	r.mu.Unlock()
}

// latency returns a copy of the recorded latencies.
func (r *receiver) latency() hist {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lat.clone()
}

// down closes the listener and every connection: connections are refused
// until up.
func (r *receiver) down() error {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	return srv.Close()
}

// up listens on the same address again.
func (r *receiver) up() error {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return fmt.Errorf("receiver up again on %s: %w", r.addr, err)
	}
	r.serve(ln)
	return nil
}

func (r *receiver) close() { r.down() }

// errStalled says that receipts stopped arriving before all did.
var errStalled = errors.New("receipts stalled")

// waitUnique waits until want distinct deliveries have arrived, for at most
// limit, and gives up early when none arrives for stall. It returns how
// many arrived; the error says why it stopped short, if it did.
func (r *receiver) waitUnique(ctx context.Context, want int64, limit, stall time.Duration) (int64, error) {
	deadline := time.Now().Add(limit)
	lastCount, lastChange := r.unique.Load(), time.Now()
	for {
		got := r.unique.Load()
		switch {
		case got >= want:
			return got, nil
		case got != lastCount:
			lastCount, lastChange = got, time.Now()
		case time.Since(lastChange) > stall:
			return got, fmt.Errorf("%w: none for %s", errStalled, stall)
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("not all arrived within %s", limit)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return got, err
		}
	}
}
