package e2e

import (
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestCrashLosesNothing kills a delivering process with SIGKILL and checks
// that a restarted one delivers every event.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookline processes: skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		dbURL := newURL(t)
		if strings.HasPrefix(dbURL, "sqlite://") {
			dbURL = "sqlite://" + t.TempDir() + "/crash.db"
		}
		const adminKey = "crash-test-admin-key-0123456789"
		env := []string{
			"HOOKLINE_DATABASE_URL=" + dbURL, "HOOKLINE_ADMIN_KEY=" + adminKey,
			// The attempts held at the gate must outlive the publishing
			// (slow under -race): a timeout there would make them DEAD.
			"HOOKLINE_ALLOW_PRIVATE_TARGETS=true", "HOOKLINE_DELIVERY_TIMEOUT=20s",
			"HOOKLINE_DELIVERY_LEASE=5s", "HOOKLINE_RETRY_SCHEDULE=100ms", "HOOKLINE_POLL_INTERVAL=100ms",
		}
		var (
			mu   sync.Mutex
			seen = map[string]int{}
			gate = make(chan struct{}) // holds deliveries after the 20th until the kill
		)
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			if n > 20 {
				select {
				case <-gate:
				case <-r.Context().Done(): // the sender died mid-request
					return 0
				}
			}
			mu.Lock()
			seen[r.Header.Get("webhook-id")]++
			mu.Unlock()
			return http.StatusOK
		})
		first := startProcess(t, env...)
		c := first.client(adminKey)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/crash", "events": []string{"*"}})
		const events = 300
		ids := make([]string, 0, events)
		for batch := range events / 100 {
			inputs := make([]map[string]any, 100)
			for i := range inputs {
				inputs[i] = map[string]any{"type": "crash.test", "payload": map[string]any{"n": batch*100 + i}}
			}
			var out struct{ PublishEvents []struct{ ID string } }
			c.mustDo(t, `mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id } }`, map[string]any{"in": inputs}, &out)
			for _, ev := range out.PublishEvents {
				ids = append(ids, ev.ID)
			}
		}
		eventually(t, 20*time.Second, "deliveries to be in flight", func() bool { return rc.count("/crash") > 20 })
		if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		first.wait()
		close(gate)
		mu.Lock()
		atKill := len(seen)
		mu.Unlock()

		second := startProcess(t, env...)
		c.url = "http://" + second.addr + "/graphql"
		eventually(t, 60*time.Second, "every event to arrive", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == events
		})
		mu.Lock()
		for _, id := range ids {
			if seen[id] == 0 {
				t.Errorf("event %s never arrived", id)
			}
		}
		mu.Unlock()
		if atKill >= events {
			t.Errorf("all %d events had arrived before the kill; the test did not kill mid-stream", events)
		}
		var out struct{ Deliveries struct{ TotalCount int } }
		eventually(t, 20*time.Second, "every delivery to be SUCCEEDED", func() bool {
			c.mustDo(t, `{ deliveries(filter: {status: SUCCEEDED}) { totalCount } }`, nil, &out)
			return out.Deliveries.TotalCount == events
		})
	})
}

// TestTwoProcessesShareTheQueue runs two engines on one database: every
// delivery is made exactly once while both are alive, and both take part.
func TestTwoProcessesShareTheQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two delivering processes: skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		dbURL := newURL(t)
		if strings.HasPrefix(dbURL, "sqlite://") {
			dbURL = "sqlite://" + t.TempDir() + "/shared.db"
		}
		var (
			mu     sync.Mutex
			seen   = map[string]int{}
			agents = map[string]int{}
		)
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			seen[r.Header.Get("webhook-id")]++
			agents[r.Header.Get("User-Agent")]++
			mu.Unlock()
			return http.StatusOK
		})
		newProcess := func(name string) *testServer {
			cfg := testDeliveryConfig()
			cfg.UserAgent = "Hookline/" + name
			cfg.Workers = 4
			return newTestServerWith(t, dbURL, cfg)
		}
		// Events come in through a process that does not deliver, so both
		// delivering processes must claim them from the database.
		publisher := newTestServerOpts(t, testOptions{url: dbURL, delivery: testDeliveryConfig(), noEngine: true})
		newProcess("a")
		newProcess("b")
		c := publisher.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/shared", "events": []string{"*"}})
		const events = 400
		for i := range events {
			c.publish(t, "shared.test", map[string]any{"n": i}, "")
		}
		eventually(t, 60*time.Second, "every event to arrive", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == events
		})
		mu.Lock()
		defer mu.Unlock()
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %s delivered %d times; want exactly once", id, n)
			}
		}
		if len(agents) != 2 {
			t.Errorf("deliveries by process: %v; want both processes to deliver", agents)
		}
	})
}

// TestConcurrentStart starts two processes at the same moment on an empty
// database: both migrate it and come up, and a third start on the migrated
// database does too.
func TestConcurrentStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookline processes: skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		dbURL := newURL(t)
		if strings.HasPrefix(dbURL, "sqlite://") {
			dbURL = "sqlite://" + t.TempDir() + "/start.db"
		}
		env := []string{"HOOKLINE_DATABASE_URL=" + dbURL, "HOOKLINE_ADMIN_KEY=concurrent-start-admin-key-0123"}
		var wg sync.WaitGroup
		addrs := make([]string, 2)
		for i := range addrs {
			wg.Go(func() { addrs[i] = startProcess(t, env...).addr })
		}
		wg.Wait()
		addrs = append(addrs, startProcess(t, env...).addr)
		for _, addr := range addrs {
			c := &client{url: "http://" + addr + "/graphql", key: "concurrent-start-admin-key-0123"}
			c.createWebhook(t, map[string]any{"url": "https://example.com/" + addr, "events": []string{"*"}})
		}
	})
}
