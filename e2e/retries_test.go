package e2e

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

func TestRetriesUntilDead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t)) // schedule 10ms, 20ms, 30ms
		rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError })
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"*"}})
		ev := c.publish(t, "order.created", map[string]any{"n": 1}, "")
		d := c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "DEAD")
		if d.AttemptCount != 4 || len(d.Attempts) != 4 || rc.count("/down") != 4 {
			t.Fatalf("attempts = %d (%d recorded, %d received); want 4", d.AttemptCount, len(d.Attempts), rc.count("/down"))
		}
		if d.NextAttemptAt != nil {
			t.Errorf("dead delivery nextAttemptAt = %v; want null", d.NextAttemptAt)
		}
		for i, a := range d.Attempts {
			if a.AttemptNumber != i+1 || a.Outcome != "FAILURE" || a.StatusCode == nil || *a.StatusCode != 500 || a.Error == nil {
				t.Errorf("attempt %d = %+v", i+1, a)
			}
			if (a.NextRetryAt == nil) != (i == 3) {
				t.Errorf("attempt %d nextRetryAt = %v; want set on all but the last", i+1, a.NextRetryAt)
			}
		}
		// Each retry waits for its step: at least step × 0.8 (jitter).
		reqs := rc.requests("/down")
		for i, step := range []time.Duration{10, 20, 30} {
			if gap := reqs[i+1].At.Sub(reqs[i].At); gap < step*time.Millisecond*8/10 {
				t.Errorf("gap before attempt %d = %v; want at least %v", i+2, gap, step*time.Millisecond*8/10)
			}
		}
		var hook struct{ Webhook webhookJSON }
		c.mustDo(t, `query($id: ID!) { webhook(id: $id) { health } }`, map[string]any{"id": w.ID}, &hook)
		if hook.Webhook.Health != "UNHEALTHY" {
			t.Errorf("health after 4 failures = %s; want UNHEALTHY", hook.Webhook.Health)
		}
	})
}

func TestReceiverAnswers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Timeout = 300 * time.Millisecond
		cfg.Schedule = []time.Duration{10 * time.Millisecond, 1500 * time.Millisecond}
		ts := newTestServerWith(t, newURL(t), cfg)
		var redirected atomic.Int32
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			switch r.URL.Path {
			case "/gone":
				return http.StatusGone
			case "/redirect":
				w.Header().Set("Location", "/target")
				return http.StatusFound
			case "/target":
				redirected.Add(1)
				return http.StatusOK
			case "/busy":
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			case "/slow":
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return http.StatusOK
			}
			return http.StatusOK
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		send := func(path string) (webhookJSON, string) {
			t.Helper()
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + path, "events": []string{"t." + strings.Trim(path, "/")}})
			ev := c.publish(t, "t."+strings.Trim(path, "/"), map[string]any{}, "")
			return w, ev.Deliveries.Edges[0].Node.ID
		}

		t.Run("410DisablesWebhook", func(t *testing.T) {
			w, id := send("/gone")
			d := c.waitStatus(t, id, "DEAD")
			if len(d.Attempts) != 1 {
				t.Errorf("attempts = %d; want 1 (no retry after 410)", len(d.Attempts))
			}
			var out struct {
				Webhook struct {
					Enabled        bool
					DisabledReason *string
				}
			}
			c.mustDo(t, `query($id: ID!) { webhook(id: $id) { enabled disabledReason } }`, map[string]any{"id": w.ID}, &out)
			if out.Webhook.Enabled || out.Webhook.DisabledReason == nil || !strings.Contains(*out.Webhook.DisabledReason, "410") {
				t.Errorf("webhook after 410 = %+v; want disabled with a reason naming 410", out.Webhook)
			}
			// Later events no longer go to it.
			ev := c.publish(t, "t.gone", map[string]any{}, "")
			if ev.Deliveries.TotalCount != 0 {
				t.Errorf("deliveries to a disabled webhook = %d; want 0", ev.Deliveries.TotalCount)
			}
		})

		t.Run("RedirectIsAFailure", func(t *testing.T) {
			_, id := send("/redirect")
			eventually(t, 5*time.Second, "first attempt", func() bool { return c.delivery(t, id).AttemptCount >= 1 })
			d := c.delivery(t, id)
			a := d.Attempts[0]
			if a.Outcome != "FAILURE" || a.StatusCode == nil || *a.StatusCode != 302 || a.Error == nil || !strings.Contains(*a.Error, "redirect") {
				t.Errorf("attempt = %+v; want a FAILURE with 302", a)
			}
			if n := redirected.Load(); n != 0 {
				t.Errorf("redirect target got %d requests; want 0", n)
			}
		})

		t.Run("RetryAfter", func(t *testing.T) {
			_, id := send("/busy")
			d := c.waitStatus(t, id, "SUCCEEDED")
			first := d.Attempts[0]
			if first.NextRetryAt == nil {
				t.Fatalf("first attempt nextRetryAt = nil")
			}
			if wait := first.NextRetryAt.Sub(first.StartedAt); wait < 900*time.Millisecond || wait > 1600*time.Millisecond {
				t.Errorf("retry after %v; want about 1s from Retry-After (the schedule says 10ms)", wait)
			}
		})

		t.Run("Timeout", func(t *testing.T) {
			_, id := send("/slow")
			eventually(t, 5*time.Second, "first attempt", func() bool { return c.delivery(t, id).AttemptCount >= 1 })
			a := c.delivery(t, id).Attempts[0]
			if a.Outcome != "FAILURE" || a.StatusCode != nil || a.Error == nil {
				t.Fatalf("attempt = %+v; want a FAILURE without status", a)
			}
			if a.Error == nil || !(strings.Contains(*a.Error, "deadline") || strings.Contains(*a.Error, "timeout") || strings.Contains(*a.Error, "Timeout")) {
				t.Errorf("error = %q; want it to say the request timed out", *a.Error)
			}
		})
	})
}

func TestRetryAfter429(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		// The longest step is neither the first nor the last, so a cap at the
		// current step or at the final one would show.
		const longest = 2500 * time.Millisecond
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{10 * time.Millisecond, longest, 20 * time.Millisecond}
		ts := newTestServerWith(t, newURL(t), cfg)

		var mu sync.Mutex
		answered := map[string]time.Time{} // when the 429 went out, per path
		asked := map[string]string{}       // the Retry-After it carried
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			if n > 1 {
				return http.StatusOK
			}
			var v string
			switch r.URL.Path {
			case "/seconds":
				v = "1"
			case "/date":
				// Whole seconds: between 1 and 2 seconds from now.
				v = time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
			case "/capped":
				v = "3600"
			}
			w.Header().Set("Retry-After", v)
			mu.Lock()
			answered[r.URL.Path], asked[r.URL.Path] = time.Now(), v
			mu.Unlock()
			return http.StatusTooManyRequests
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)

		// All three wait at once; each has its own webhook and event type.
		ids := map[string]string{}
		for _, name := range []string{"seconds", "date", "capped"} {
			c.createWebhook(t, map[string]any{"url": rc.URL + "/" + name, "events": []string{"ra." + name}})
			ev := c.publish(t, "ra."+name, map[string]any{}, "")
			ids[name] = ev.Deliveries.Edges[0].Node.ID
		}

		// check waits for the delivery to succeed on its second attempt and
		// returns when the 429 was sent and when the retry arrived.
		check := func(t *testing.T, name string) (answeredAt, retriedAt time.Time, header string, d deliveryJSON) {
			t.Helper()
			d = c.waitStatus(t, ids[name], "SUCCEEDED")
			reqs := rc.requests("/" + name)
			if len(reqs) != 2 || len(d.Attempts) != 2 {
				t.Fatalf("%d requests, %d attempts; want 2", len(reqs), len(d.Attempts))
			}
			if a := d.Attempts[0]; a.Outcome != "FAILURE" || a.StatusCode == nil || *a.StatusCode != 429 {
				t.Fatalf("first attempt = %+v; want a FAILURE with 429", a)
			}
			mu.Lock()
			defer mu.Unlock()
			return answered["/"+name], reqs[1].At, asked["/"+name], d
		}
		// slack covers rounding of the stored next attempt time.
		const slack = 5 * time.Millisecond

		t.Run("Seconds", func(t *testing.T) {
			answeredAt, retriedAt, header, _ := check(t, "seconds")
			if notBefore := answeredAt.Add(time.Second); retriedAt.Before(notBefore.Add(-slack)) {
				t.Errorf("retry came %v after the 429 (Retry-After: %s); want at least 1s", retriedAt.Sub(answeredAt), header)
			}
		})

		t.Run("HTTPDate", func(t *testing.T) {
			answeredAt, retriedAt, header, _ := check(t, "date")
			notBefore, err := http.ParseTime(header)
			if err != nil {
				t.Fatalf("Retry-After %q: %v", header, err)
			}
			if notBefore.Sub(answeredAt) < time.Second {
				t.Fatalf("Retry-After %q is only %v after the 429; the test wants at least 1s", header, notBefore.Sub(answeredAt))
			}
			if retriedAt.Before(notBefore.Add(-slack)) {
				t.Errorf("retry at %s; want not before Retry-After: %s (%v early)", retriedAt.UTC().Format(time.RFC3339Nano), header, notBefore.Sub(retriedAt))
			}
		})

		t.Run("CappedAtLongestStep", func(t *testing.T) {
			// Uncapped, the retry would be an hour away: look at the plan
			// before waiting for it.
			eventually(t, 5*time.Second, "the first attempt", func() bool { return c.delivery(t, ids["capped"]).AttemptCount >= 1 })
			next := c.delivery(t, ids["capped"]).Attempts[0].NextRetryAt
			mu.Lock()
			planned := answered["/capped"]
			mu.Unlock()
			if next == nil {
				t.Fatal("first attempt nextRetryAt = nil")
			}
			if wait := next.Sub(planned); wait > longest+time.Second {
				t.Fatalf("nextRetryAt is %v after the 429 (Retry-After: 3600); want the longest step %v", wait, longest)
			}
			answeredAt, retriedAt, header, _ := check(t, "capped")
			if retriedAt.Before(answeredAt.Add(longest - slack)) {
				t.Errorf("retry came %v after the 429 (Retry-After: %s); want the longest step %v", retriedAt.Sub(answeredAt), header, longest)
			}
		})
	})
}

func TestTLSErrorRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t)) // schedule 10ms, 20ms, 30ms: four attempts
		var reached atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
		srv.StartTLS()
		t.Cleanup(srv.Close)

		// Control: a client that trusts the certificate gets a 200.
		resp, err := srv.Client().Post(srv.URL+"/tls", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("trusted client: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("trusted client got %d; want 200", resp.StatusCode)
		}
		reached.Store(0)

		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": srv.URL + "/tls", "events": []string{"*"}})
		ev := c.publish(t, "order.created", map[string]any{}, "")
		id := ev.Deliveries.Edges[0].Node.ID
		eventually(t, 5*time.Second, "the first attempt", func() bool { return c.delivery(t, id).AttemptCount >= 1 })
		if a := c.delivery(t, id).Attempts[0]; a.Outcome != "FAILURE" {
			t.Fatalf("first attempt to an untrusted certificate = %+v; want a FAILURE", a)
		}
		d := c.waitStatus(t, id, "DEAD")
		if len(d.Attempts) != 4 {
			t.Errorf("attempts = %d; want 4 (a TLS error retries like any failure)", len(d.Attempts))
		}
		for _, a := range d.Attempts {
			if a.Outcome != "FAILURE" || a.StatusCode != nil || a.Error == nil {
				t.Errorf("attempt %d = %+v; want a FAILURE without status", a.AttemptNumber, a)
				continue
			}
			if msg := strings.ToLower(*a.Error); !strings.Contains(msg, "certificate") && !strings.Contains(msg, "tls") {
				t.Errorf("attempt %d error = %q; want it to name the certificate or TLS", a.AttemptNumber, *a.Error)
			}
		}
		if n := reached.Load(); n != 0 {
			t.Errorf("the TLS receiver's handler ran %d times; want 0 (the handshake must fail)", n)
		}
	})
}

func TestRedeliverAndReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc, healthy := newSwitchedReceiver(t, http.StatusBadGateway)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/r", "events": []string{"*"}})
		since := time.Now().Add(-time.Minute)
		var ids []string
		for i := range 3 {
			ev := c.publish(t, "order.created", map[string]any{"n": i}, "")
			ids = append(ids, ev.Deliveries.Edges[0].Node.ID)
		}
		for _, id := range ids {
			c.waitStatus(t, id, "DEAD")
		}
		healthy.Store(true)

		var out struct{ Redeliver deliveryJSON }
		c.mustDo(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { id status } }`, map[string]any{"id": ids[0]}, &out)
		if out.Redeliver.Status != "RETRYING" {
			t.Errorf("redeliver status = %s; want RETRYING", out.Redeliver.Status)
		}
		d := c.waitStatus(t, ids[0], "SUCCEEDED")
		if d.AttemptCount != 5 {
			t.Errorf("attempts after redeliver = %d; want 5", d.AttemptCount)
		}

		var replay struct{ ReplayFailedDeliveries int }
		c.mustDo(t, `mutation($id: ID!, $since: Time!) { replayFailedDeliveries(webhookId: $id, since: $since) }`,
			map[string]any{"id": w.ID, "since": since.Format(time.RFC3339Nano)}, &replay)
		if replay.ReplayFailedDeliveries != 2 {
			t.Errorf("replayFailedDeliveries = %d; want 2", replay.ReplayFailedDeliveries)
		}
		for _, id := range ids[1:] {
			c.waitStatus(t, id, "SUCCEEDED")
		}
		// A succeeded delivery can be sent once more too.
		c.mustDo(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, map[string]any{"id": ids[0]}, nil)
		eventually(t, 5*time.Second, "the extra attempt", func() bool { return c.delivery(t, ids[0]).AttemptCount == 6 })

		other := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		resp := other.do(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, map[string]any{"id": ids[0]})
		wantError(t, resp, model.CodeNotFound, "")
	})
}

// TestReplaySince replays from the stored createdAt of a delivery between
// two groups of DEAD deliveries: exactly the later group is re-queued (since
// is inclusive), the older one stays DEAD and a SUCCEEDED delivery in the
// window is left alone.
func TestReplaySince(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t)) // 4 attempts, then DEAD
		rc, healthy := newSwitchedReceiver(t, http.StatusBadGateway)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/replay", "events": []string{"*"}})

		// publishUntil publishes one event to w and waits for its delivery
		// to reach status.
		publishUntil := func(status string) string {
			t.Helper()
			ev := c.publish(t, "order.created", map[string]any{}, "")
			if len(ev.Deliveries.Edges) != 1 {
				t.Fatalf("event made %d deliveries; want 1", len(ev.Deliveries.Edges))
			}
			id := ev.Deliveries.Edges[0].Node.ID
			c.waitStatus(t, id, status)
			return id
		}
		old := []string{publishUntil("DEAD"), publishUntil("DEAD")}
		recent := []string{publishUntil("DEAD")}
		healthy.Store(true)
		succeeded := publishUntil("SUCCEEDED")
		healthy.Store(false)
		recent = append(recent, publishUntil("DEAD"))

		var created struct {
			Delivery struct{ CreatedAt time.Time }
		}
		c.mustDo(t, `query($id: ID!) { delivery(id: $id) { createdAt } }`, map[string]any{"id": recent[0]}, &created)
		since := created.Delivery.CreatedAt
		var last struct {
			Delivery struct{ CreatedAt time.Time }
		}
		c.mustDo(t, `query($id: ID!) { delivery(id: $id) { createdAt } }`, map[string]any{"id": old[1]}, &last)
		if !last.Delivery.CreatedAt.Before(since) {
			t.Fatalf("older group created %v, not before the boundary %v", last.Delivery.CreatedAt, since)
		}

		healthy.Store(true)
		var replay struct{ ReplayFailedDeliveries int }
		c.mustDo(t, `mutation($id: ID!, $since: Time!) { replayFailedDeliveries(webhookId: $id, since: $since) }`,
			map[string]any{"id": w.ID, "since": since.Format(time.RFC3339Nano)}, &replay)
		if replay.ReplayFailedDeliveries != len(recent) {
			t.Errorf("replayFailedDeliveries(since %v) = %d; want %d", since, replay.ReplayFailedDeliveries, len(recent))
		}
		// Checked before the replayed ones are sent: a re-queued delivery
		// is RETRYING or SUCCEEDED at once, never DEAD.
		for _, id := range old {
			if d := c.delivery(t, id); d.Status != "DEAD" || d.AttemptCount != 4 {
				t.Errorf("delivery %s before since = %s after %d attempts; want DEAD after 4 (not replayed)", id, d.Status, d.AttemptCount)
			}
		}
		for _, id := range recent {
			if d := c.waitStatus(t, id, "SUCCEEDED"); d.AttemptCount != 5 {
				t.Errorf("replayed delivery %s attempts = %d; want 5", id, d.AttemptCount)
			}
		}
		if d := c.delivery(t, succeeded); d.Status != "SUCCEEDED" || d.AttemptCount != 1 {
			t.Errorf("succeeded delivery after the replay = %s with %d attempts; want SUCCEEDED with 1", d.Status, d.AttemptCount)
		}
		for _, id := range old {
			if d := c.delivery(t, id); d.Status != "DEAD" || d.AttemptCount != 4 {
				t.Errorf("delivery %s before since, after the replay = %s with %d attempts; want DEAD with 4", id, d.Status, d.AttemptCount)
			}
		}
	})
}
