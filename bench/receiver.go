package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is a local HTTP server that counts deliveries and, from the
// payload's sentAt, their publish-to-receipt latency.
type receiver struct {
	srv   *http.Server
	ln    net.Listener
	addr  string
	count atomic.Int64
	last  atomic.Int64 // unix nanos of the latest receipt

	mu        sync.Mutex
	latencies []time.Duration
	keepLat   bool
}

func newReceiver(keepLatencies bool) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{ln: ln, addr: ln.Addr().String(), keepLat: keepLatencies}
	r.serve()
	return r, nil
}

func (r *receiver) serve() {
	r.srv = &http.Server{Handler: http.HandlerFunc(r.handle)}
	go r.srv.Serve(r.ln)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	now := time.Now()
	if r.keepLat {
		var env struct {
			Data struct {
				SentAt int64 `json:"sentAt"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &env) == nil && env.Data.SentAt > 0 {
			r.mu.Lock()
			r.latencies = append(r.latencies, now.Sub(time.Unix(0, env.Data.SentAt)))
			r.mu.Unlock()
		}
	}
	r.count.Add(1)
	r.last.Store(now.UnixNano())
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) url(path string) string { return "http://" + r.addr + path }

// down closes the listener: connections are refused until up.
func (r *receiver) down() { r.srv.Close() }

// up listens again on the same address.
func (r *receiver) up() error {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return err
	}
	r.ln = ln
	r.serve()
	return nil
}

func (r *receiver) close() { r.srv.Close() }

// waitFor waits until n deliveries arrived or the deadline passed, and
// returns how many arrived.
func (r *receiver) waitFor(n int64, limit time.Duration) int64 {
	deadline := time.Now().Add(limit)
	for r.count.Load() < n && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	return r.count.Load()
}

// percentiles returns p50, p95, p99 of the recorded latencies.
func (r *receiver) percentiles() (p50, p95, p99 time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return pct(r.latencies, 50), pct(r.latencies, 95), pct(r.latencies, 99)
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
