package e2e

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestPublishWakesWorkers: with polling an hour apart, a published event is
// still delivered at once.
func TestPublishWakesWorkers(t *testing.T) {
	cfg := testDeliveryConfig()
	cfg.PollInterval = time.Hour
	ts := newTestServerWith(t, "sqlite://:memory:", cfg)
	rc := newReceiver(t, nil)
	c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	c.createWebhook(t, map[string]any{"url": rc.URL + "/w", "events": []string{"*"}})
	// Give the engine time to park on its (hour-long) poll first.
	for i := range 3 {
		c.publish(t, "e", map[string]any{"i": i}, "")
		eventually(t, 5*time.Second, "delivery without polling", func() bool { return rc.count("/w") == i+1 })
	}
}

// TestWorkersCapTotal: with two workers and a high per-webhook cap, a
// receiver that holds every request sees at most two at once across three
// webhooks, and every delivery still arrives as requests are released one by
// one.
func TestWorkersCapTotal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Workers = 2
		cfg.MaxInflightPerWebhook = 50
		cfg.Timeout = 30 * time.Second // held requests must not time out and retry
		ts := newTestServerWith(t, newURL(t), cfg)
		var (
			inflight, peak atomic.Int32
			release        = make(chan struct{}) // one value lets one request answer
			stop           = make(chan struct{}) // closed: every request answers
			stopOnce       sync.Once
		)
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			now := inflight.Add(1)
			defer inflight.Add(-1)
			for old := peak.Load(); now > old && !peak.CompareAndSwap(old, now); old = peak.Load() {
			}
			select {
			case <-release:
			case <-stop:
			case <-r.Context().Done():
			}
			return http.StatusOK
		})
		// After the receiver's own cleanup, so that its Close does not wait
		// for held requests.
		t.Cleanup(func() { stopOnce.Do(func() { close(stop) }) })
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		const hooks, perHook = 3, 4
		for i := range hooks {
			c.createWebhook(t, map[string]any{"url": rc.URL + "/h" + strconv.Itoa(i), "events": []string{"*"}})
		}
		for i := range perHook {
			c.publish(t, "e", map[string]any{"i": i}, "")
		}
		const total = hooks * perHook
		for answered := range total {
			if left := total - answered; left >= 2 {
				eventually(t, 10*time.Second, "two requests in flight", func() bool { return inflight.Load() >= 2 })
			}
			if p := peak.Load(); p > 2 {
				t.Fatalf("%d concurrent requests with %d answered; want at most 2 (Workers)", p, answered)
			}
			select {
			case release <- struct{}{}:
			case <-time.After(10 * time.Second):
				t.Fatalf("no request to release after %d answered (in flight %d)", answered, inflight.Load())
			}
		}
		eventually(t, 10*time.Second, "every request answered", func() bool { return rc.count("") == total && inflight.Load() == 0 })
		if p := peak.Load(); p != 2 {
			t.Errorf("peak concurrent requests = %d; want 2 (Workers)", p)
		}
		seen := map[string]int{}
		for _, r := range rc.requests("") {
			seen[r.Path]++
		}
		for i := range hooks {
			if n := seen["/h"+strconv.Itoa(i)]; n != perHook {
				t.Errorf("/h%d received %d requests; want %d", i, n, perHook)
			}
		}
	})
}

// TestSlowWebhookCannotStarveOthers: a receiver that hangs holds at most
// MaxInflightPerWebhook workers; another webhook's deliveries go through.
func TestSlowWebhookCannotStarveOthers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Workers = 4
		cfg.MaxInflightPerWebhook = 2
		ts := newTestServerWith(t, newURL(t), cfg)
		var (
			inflight, peak atomic.Int32
			release        = make(chan struct{})
			once           sync.Once
		)
		t.Cleanup(func() { once.Do(func() { close(release) }) })
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			if r.URL.Path == "/slow" {
				now := inflight.Add(1)
				defer inflight.Add(-1)
				for old := peak.Load(); now > old && !peak.CompareAndSwap(old, now); old = peak.Load() {
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
			return http.StatusOK
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/slow", "events": []string{"slow"}})
		c.createWebhook(t, map[string]any{"url": rc.URL + "/fast", "events": []string{"fast"}})
		for i := range 10 {
			c.publish(t, "slow", map[string]any{"i": i}, "")
		}
		eventually(t, 5*time.Second, "the slow receiver to hold its cap", func() bool { return inflight.Load() == 2 })
		for i := range 10 {
			c.publish(t, "fast", map[string]any{"i": i}, "")
		}
		eventually(t, 5*time.Second, "fast deliveries while the slow receiver hangs", func() bool { return rc.count("/fast") == 10 })
		if p := peak.Load(); p > 2 {
			t.Errorf("slow receiver had %d concurrent requests; want at most 2", p)
		}
		once.Do(func() { close(release) })
		eventually(t, 10*time.Second, "the slow deliveries", func() bool { return rc.count("/slow") >= 10 })
	})
}
