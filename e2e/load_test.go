package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestLoad runs 200 concurrent clients mixing queries, mutations and
// subscriptions (HOOKLINE_TEST_LOAD_DURATION, default 10s; CI uses 30s),
// then checks that nothing failed and that goroutines and heap return to
// their level once the load stops.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("the load test runs for HOOKLINE_TEST_LOAD_DURATION: skipped with -short")
	}
	duration := 10 * time.Second
	if v := os.Getenv("HOOKLINE_TEST_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("HOOKLINE_TEST_LOAD_DURATION: %v", err)
		}
		duration = d
	}
	url := "sqlite://" + t.TempDir() + "/load.db"
	if os.Getenv(storetest.MySQLEnv) != "" {
		url = storetest.NewMySQLURL(t)
	}
	ts := newTestServer(t, url)
	rc := newReceiver(t, nil)
	const clients = 200
	keys := make([]*client, 4)
	for i := range keys {
		keys[i] = ts.newKey(t, fmt.Sprintf("owner%d", i), model.ApiKeyRoleMember)
		keys[i].createWebhook(t, map[string]any{"url": rc.URL + "/load", "events": []string{"*"}})
	}
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = clients

	baseGoroutines, baseHeap := settle(t)
	var (
		ops, failures atomic.Int64
		firstErr      sync.Once
		wg            sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	fail := func(format string, args ...any) {
		failures.Add(1)
		firstErr.Do(func() { t.Errorf(format, args...) })
	}
	for i := range clients {
		c := keys[i%len(keys)]
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				var resp gqlResponse
				switch (i + n) % 10 {
				case 0:
					sub, err := trySubscribe(ts.URL, protoTransportWS, c.key, attemptQuery, nil)
					if err != nil {
						fail("subscribe: %v", err)
						continue
					}
					sub.close()
					ops.Add(1)
					continue
				case 1, 2, 3:
					resp = c.do(t, `mutation($p: JSON!) { publishEvent(input: {type: "load", payload: $p}) { id } }`, map[string]any{"p": map[string]any{"n": n}})
				case 4:
					resp = c.do(t, `mutation { createWebhook(input: {url: "https://example.com/x", events: ["none"]}) { webhook { id } } }`, nil)
				default:
					resp = c.do(t, `{ webhooks(first: 5) { totalCount edges { node { id health } } } deliveries(first: 5) { edges { node { status attemptCount } } } }`, nil)
				}
				if len(resp.Errors) > 0 {
					fail("operation failed: %+v", resp.Errors)
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d operations in %v by %d clients, %d failed", ops.Load(), duration, clients, failures.Load())
	http.DefaultClient.CloseIdleConnections()

	// Deliveries drain, then everything the load started must be gone.
	eventually(t, 2*time.Minute, "the queue to drain", func() bool {
		n, _, err := ts.store.QueueStats(context.Background())
		return err == nil && n == 0
	})
	var goroutines int
	var heap uint64
	deadline := time.Now().Add(30 * time.Second)
	for {
		goroutines, heap = settle(t)
		// Pooled connections are not leaks: keep-alive connections from the
		// delivery workers to the receiver (three goroutines each: two
		// client, one server) and idle MySQL connections (a watcher each).
		pooled := 3*testDeliveryConfig().Workers + testDBMaxConns
		if goroutines <= baseGoroutines+pooled+10 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before the load, %d after:\n%s", baseGoroutines, goroutines, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if heap > baseHeap+64<<20 {
		t.Errorf("heap in use grew from %d MiB to %d MiB after the load", baseHeap>>20, heap>>20)
	}
}

// settle collects garbage and returns the goroutine count and heap in use.
func settle(tb testing.TB) (int, uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse
}
