package e2e

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// BenchmarkPublishToReceipt publishes b.N events from 16 clients through
// the real HTTP API to one webhook and waits until the receiver has them
// all: deliveries/s end to end, on SQLite (a file) and, when configured,
// MySQL; with no subscriber, and with one websocket subscriber to every
// attempt that never reads (delivery must not wait for it).
func BenchmarkPublishToReceipt(b *testing.B) {
	urls := map[string]func(testing.TB) string{"sqlite": func(tb testing.TB) string { return "sqlite://" + tb.TempDir() + "/bench.db" }}
	if os.Getenv(storetest.MySQLEnv) != "" {
		urls["mysql"] = storetest.NewMySQLURL
	}
	for name, newURL := range urls {
		for _, stuck := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/subscriber=%s", name, map[bool]string{false: "none", true: "stuck"}[stuck]), func(b *testing.B) {
				benchmarkPublishToReceipt(b, newURL, stuck)
			})
		}
	}
}

func benchmarkPublishToReceipt(b *testing.B, newURL func(testing.TB) string, stuck bool) {
	cfg := testDeliveryConfig()
	cfg.Workers = 32
	ts := newTestServerWith(b, newURL(b), cfg)
	var received atomic.Int64
	rc := newReceiver(b, func(int, http.ResponseWriter, *http.Request) int {
		received.Add(1)
		return http.StatusOK
	})
	c := ts.newKey(b, "acme", model.ApiKeyRoleMember)
	c.createWebhook(b, map[string]any{"url": rc.URL + "/bench", "events": []string{"*"}})
	if stuck {
		stuckSubscriber(b, ts.URL, c.key)
	}
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 64
	payload := map[string]any{"awb": "125-12345675", "pad": fmt.Sprintf("%0900d", 0)}

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				c.mustDo(b, `mutation($p: JSON!) { publishEvent(input: {type: "bench", payload: $p}) { id } }`, map[string]any{"p": payload}, nil)
			}
		})
	}
	wg.Wait()
	published := time.Since(start)
	deadline := time.Now().Add(5 * time.Minute)
	for received.Load() < int64(b.N) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/published.Seconds(), "publishes/s")
	b.ReportMetric(float64(received.Load())/elapsed.Seconds(), "deliveries/s")
}
