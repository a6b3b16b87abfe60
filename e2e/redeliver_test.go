package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/store/storetest"
)

// TestRedeliverInFlightSendsOneAtATime: 30 redeliveries at once, through two
// delivering processes, of a delivery whose attempt is under way at a slow
// receiver never have it sent twice at once: they make one more attempt,
// after the one in flight. Another 30 at once, once it has succeeded, land
// while it waits, is in flight or is between attempts, and have it sent
// again, one attempt at a time, the last one after the last redelivery
// asked for it. Its attempts are numbered 1 to n without gaps or repeats,
// one per request received.
func TestRedeliverInFlightSendsOneAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two delivering processes: skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		gate := make(chan struct{}) // closed: the first request may answer
		var once sync.Once
		seen := &sends{}
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			defer seen.begin()()
			if n == 1 {
				select {
				case <-gate:
				case <-r.Context().Done():
					return 0
				}
			}
			return holdSlowly(r)
		})
		t.Cleanup(func() { once.Do(func() { close(gate) }) }) // before the receiver closes
		a, b := twoDeliveringProcesses(t, newURL(t))
		a.createWebhook(t, map[string]any{"url": rc.URL + "/slow", "events": []string{"*"}})
		id := publishOne(t, a)
		eventually(t, 20*time.Second, "the first attempt in flight", func() bool { return seen.inFlight() == 1 })

		redeliverAll := func() (lastSent time.Time) {
			t.Helper()
			const calls = 30
			resps := make([]gqlResponse, calls)
			sent := make([]time.Time, calls)
			var wg sync.WaitGroup
			for i := range calls {
				c := []*client{a, b}[i%2]
				wg.Go(func() {
					sent[i] = time.Now()
					resps[i] = c.do(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, map[string]any{"id": id})
				})
			}
			wg.Wait()
			for i, resp := range resps {
				if len(resp.Errors) > 0 {
					t.Fatalf("redeliver %d: %+v", i, resp.Errors)
				}
			}
			return slices.MaxFunc(sent, time.Time.Compare)
		}

		redeliverAll()
		if n := rc.count("/slow"); n != 1 {
			t.Fatalf("%d requests while the first attempt was held; want 1 (the delivery was sent beside its attempt in flight)\n%s", n, seen)
		}
		once.Do(func() { close(gate) })
		first := settled(t, a, rc, seen, id, "/slow")
		if first != 2 {
			t.Errorf("%d attempts after 30 redeliveries of a delivery in flight; want 2 (the one in flight and one more)\n%s", first, seen)
		}

		lastSent := redeliverAll()
		if n := settled(t, b, rc, seen, id, "/slow"); n <= first {
			t.Errorf("%d attempts after 30 more redeliveries; want more than %d\n%s", n, first, seen)
		}
		if last := seen.lastStart(); !last.After(lastSent) {
			t.Errorf("the last request began at %v, before the last redelivery was sent at %v; that redelivery was lost\n%s",
				last.Format(time.StampMicro), lastSent.Format(time.StampMicro), seen)
		}
	})
}

// TestReplayInFlightSendsOneAtATime: 30 replays at once, through two
// delivering processes, of a webhook whose RETRYING delivery has its second
// attempt under way each count the delivery, and have it sent once more
// after that attempt, never beside it; its attempts are numbered 1, 2, 3.
func TestReplayInFlightSendsOneAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two delivering processes: skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		gate := make(chan struct{}) // closed: the second request may answer
		var once sync.Once
		seen := &sends{}
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			defer seen.begin()()
			switch n {
			case 1:
				return http.StatusInternalServerError
			case 2:
				select {
				case <-gate:
				case <-r.Context().Done():
					return 0
				}
			}
			return holdSlowly(r)
		})
		t.Cleanup(func() { once.Do(func() { close(gate) }) })
		a, b := twoDeliveringProcesses(t, newURL(t))
		w, _ := a.createWebhook(t, map[string]any{"url": rc.URL + "/replay", "events": []string{"*"}})
		id := publishOne(t, a)
		eventually(t, 20*time.Second, "the second attempt in flight", func() bool { return rc.count("/replay") == 2 && seen.inFlight() == 1 })

		const calls = 30
		counts := make([]int, calls)
		var wg sync.WaitGroup
		for i := range calls {
			c := []*client{a, b}[i%2]
			wg.Go(func() {
				resp := c.do(t, `mutation($id: ID!, $since: Time!) { replayFailedDeliveries(webhookId: $id, since: $since) }`,
					map[string]any{"id": w.ID, "since": time.Now().Add(-time.Hour).Format(time.RFC3339)})
				var out struct{ ReplayFailedDeliveries int }
				if len(resp.Errors) > 0 || json.Unmarshal(resp.Data, &out) != nil {
					counts[i] = -1
					return
				}
				counts[i] = out.ReplayFailedDeliveries
			})
		}
		wg.Wait()
		for i, n := range counts {
			if n != 1 {
				t.Errorf("replayFailedDeliveries call %d = %d; want 1 (the RETRYING delivery in flight)", i, n)
			}
		}
		if n := rc.count("/replay"); n != 2 {
			t.Fatalf("%d requests while the second attempt was held; want 2 (the delivery was sent beside its attempt in flight)\n%s", n, seen)
		}
		once.Do(func() { close(gate) })
		if n := settled(t, a, rc, seen, id, "/replay"); n != 3 {
			t.Errorf("%d attempts; want 3 (a failure, the one in flight during the replays, one more)\n%s", n, seen)
		}
	})
}

// twoDeliveringProcesses starts two hookline processes on the database at
// dbURL (a file for SQLite), each with several workers, and returns a client
// of each with the admin key.
func twoDeliveringProcesses(t *testing.T, dbURL string) (a, b *client) {
	t.Helper()
	if strings.HasPrefix(dbURL, "sqlite://") {
		dbURL = "sqlite://" + t.TempDir() + "/shared.db"
	}
	const adminKey = "redeliver-test-admin-key-012345"
	env := []string{
		"HOOKLINE_DATABASE_URL=" + dbURL, "HOOKLINE_ADMIN_KEY=" + adminKey, "HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
		"HOOKLINE_WORKERS=8", "HOOKLINE_MAX_INFLIGHT_PER_WEBHOOK=10", "HOOKLINE_POLL_INTERVAL=50ms",
		// Held requests must not time out, and a failed one comes back soon.
		"HOOKLINE_DELIVERY_TIMEOUT=30s", "HOOKLINE_RETRY_SCHEDULE=100ms",
	}
	return startProcess(t, env...).client(adminKey), startProcess(t, env...).client(adminKey)
}

// publishOne publishes an event and returns the ID of its one delivery.
func publishOne(t *testing.T, c *client) string {
	t.Helper()
	var out struct {
		PublishEvent struct {
			Deliveries struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	c.mustDo(t, `mutation { publishEvent(input: {type: "order.created", payload: {}}) { deliveries(first: 2) { edges { node { id } } } } }`, nil, &out)
	if edges := out.PublishEvent.Deliveries.Edges; len(edges) == 1 {
		return edges[0].Node.ID
	}
	t.Fatalf("the event has %d deliveries; want 1", len(out.PublishEvent.Deliveries.Edges))
	return ""
}

// settled waits until the delivery has SUCCEEDED with every request the
// receiver got on path answered and recorded as an attempt, checks that the
// receiver never had two of them at once and that the attempts are
// numbered 1 to n, and returns n.
func settled(t *testing.T, c *client, rc *receiver, seen *sends, id, path string) int {
	t.Helper()
	var out struct {
		Delivery struct {
			Status       string
			AttemptCount int
			Attempts     []struct{ AttemptNumber int }
		}
	}
	eventually(t, 30*time.Second, "the delivery to settle", func() bool {
		c.mustDo(t, `query($id: ID!) { delivery(id: $id) { status attemptCount attempts(last: 100) { attemptNumber } } }`, map[string]any{"id": id}, &out)
		d := out.Delivery
		return d.Status == "SUCCEEDED" && seen.inFlight() == 0 && d.AttemptCount == rc.count(path) && len(d.Attempts) == d.AttemptCount
	})
	if p := seen.peak(); p != 1 {
		t.Errorf("the receiver had up to %d requests of the delivery at once; want 1\n%s", p, seen)
	}
	numbers := make([]int, len(out.Delivery.Attempts))
	for i, a := range out.Delivery.Attempts {
		numbers[i] = a.AttemptNumber
	}
	for i, n := range numbers {
		if n != i+1 {
			t.Errorf("attempt numbers = %v; want 1 to %d, each once", numbers, len(numbers))
			break
		}
	}
	return len(numbers)
}

// sends is what a receiver saw of one delivery's requests: when each began
// and ended, and how many it had at once.
type sends struct {
	mu          sync.Mutex
	now, most   int
	spans       [][2]time.Time // begin, end
	lastStarted time.Time
}

// begin counts a request in and returns the func that counts it out.
func (s *sends) begin() (end func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	s.now++
	s.most = max(s.most, s.now)
	s.lastStarted = start
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.now--
		s.spans = append(s.spans, [2]time.Time{start, time.Now()})
	}
}

// holdSlowly keeps a request for 200 ms, as a slow receiver does, and
// answers 200.
func holdSlowly(r *http.Request) int {
	select {
	case <-time.After(200 * time.Millisecond):
	case <-r.Context().Done():
	}
	return http.StatusOK
}

func (s *sends) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *sends) peak() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.most
}

func (s *sends) lastStart() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastStarted
}

// String lists the requests, begin and end, in the order they ended.
func (s *sends) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for i, sp := range s.spans {
		fmt.Fprintf(&b, "  request %d: %s to %s\n", i+1, sp[0].Format(time.StampMicro), sp[1].Format(time.StampMicro))
	}
	return b.String()
}
