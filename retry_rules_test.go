package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// webhookState is what health bookkeeping shows of a webhook.
type webhookState struct {
	Health              string
	ConsecutiveFailures int
	Enabled             bool
	DisabledReason      *string
}

func (s webhookState) String() string {
	reason := "<nil>"
	if s.DisabledReason != nil {
		reason = fmt.Sprintf("%q", *s.DisabledReason)
	}
	return fmt.Sprintf("{health %s, consecutiveFailures %d, enabled %v, disabledReason %s}", s.Health, s.ConsecutiveFailures, s.Enabled, reason)
}

// webhookState fetches the webhook's health, failure count and enablement.
func (c *client) webhookState(tb testing.TB, id string) webhookState {
	tb.Helper()
	var out struct{ Webhook *webhookState }
	c.mustDo(tb, `query($id: ID!) { webhook(id: $id) { health consecutiveFailures enabled disabledReason } }`, map[string]any{"id": id}, &out)
	if out.Webhook == nil {
		tb.Fatalf("webhook %s not found", id)
	}
	return *out.Webhook
}

// updateStored changes acme's stored webhook id through the store, as no
// API sets the times the engine reads, and checks with stored that the
// change is on record.
func updateStored(tb testing.TB, ts *testServer, id string, change func(*model.Webhook) error, stored func(*model.Webhook) bool) {
	tb.Helper()
	var changeErr error
	// The results are not used, only the change's error and a fresh read,
	// so the call does not depend on what else UpdateWebhook returns.
	ts.store.UpdateWebhook(context.Background(), "acme", id, func(w *model.Webhook) error {
		changeErr = change(w)
		return changeErr
	})
	if changeErr != nil {
		tb.Fatalf("update webhook %s: %v", id, changeErr)
	}
	w, err := ts.store.Webhook(context.Background(), "acme", id)
	if err != nil {
		tb.Fatalf("read webhook %s: %v", id, err)
	}
	if !stored(w) {
		tb.Fatalf("webhook %s after the update: secretRotatedAt %v, failingSince %v; the change is not on record", id, w.SecretRotatedAt, w.FailingSince)
	}
}

// publishDead publishes an event that must make one delivery, to the
// failing webhook id, and waits until the delivery is DEAD: all its
// attempts failed and none is cancelled.
func (c *client) publishDead(tb testing.TB, webhookID string) {
	tb.Helper()
	ev := c.publish(tb, "e", map[string]any{}, "")
	if len(ev.Deliveries.Edges) != 1 {
		tb.Fatalf("event made %d deliveries; want 1 (webhook now %v)", len(ev.Deliveries.Edges), c.webhookState(tb, webhookID))
	}
	id := ev.Deliveries.Edges[0].Node.ID
	var d deliveryJSON
	eventually(tb, 10*time.Second, "delivery "+id+" to finish", func() bool {
		d = c.delivery(tb, id)
		return d.Status == "DEAD" || d.Status == "SUCCEEDED" || d.Status == "CANCELLED"
	})
	if d.Status != "DEAD" {
		tb.Fatalf("delivery %s after %d attempts; want DEAD (webhook now %v)", d.Status, d.AttemptCount, c.webhookState(tb, webhookID))
	}
}

// verifySignature checks a received request with an independent Standard
// Webhooks implementation and the given secret.
func verifySignature(tb testing.TB, secret string, r receivedRequest) error {
	tb.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		tb.Fatalf("standard webhooks verifier: %v", err)
	}
	return wh.Verify(r.Body, r.Header)
}

func TestSecretRotationWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, oldSecret := c.createWebhook(t, map[string]any{"url": rc.URL + "/rot", "events": []string{"*"}})
		stranger := model.NewSecret()
		// The contract's window, written out so that a change to
		// model.RotationWindow shows here.
		const rotationWindow = 24 * time.Hour

		// deliver publishes an event and returns the request that carried it.
		deliver := func(t *testing.T) receivedRequest {
			t.Helper()
			ev := c.publish(t, "rotation.check", map[string]any{}, "")
			var got receivedRequest
			eventually(t, 5*time.Second, "the request carrying "+ev.ID, func() bool {
				for _, r := range rc.requests("/rot") {
					if strings.Contains(string(r.Body), `"id":"`+ev.ID+`"`) {
						got = r
						return true
					}
				}
				return false
			})
			return got
		}
		signatures := func(t *testing.T, r receivedRequest, want int) {
			t.Helper()
			h := r.Header.Get("webhook-signature")
			sigs := strings.Split(h, " ")
			if len(sigs) != want {
				t.Fatalf("webhook-signature = %q: %d signatures; want %d", h, len(sigs), want)
			}
			for _, s := range sigs {
				if !strings.HasPrefix(s, "v1,") || len(s) == len("v1,") {
					t.Errorf("signature %q in %q; want v1,<base64>", s, h)
				}
			}
		}
		// backdate moves the stored rotation time to ago before now.
		backdate := func(t *testing.T, ago time.Duration) {
			t.Helper()
			at := time.Now().Add(-ago).UTC()
			updateStored(t, ts, w.ID, func(w *model.Webhook) error {
				if w.SecretRotatedAt == nil || w.PreviousSecret == "" {
					return errors.New("no rotation on record")
				}
				w.SecretRotatedAt = &at
				return nil
			}, func(w *model.Webhook) bool {
				return w.SecretRotatedAt != nil && w.SecretRotatedAt.Sub(at).Abs() < time.Second
			})
		}

		t.Run("BeforeRotation", func(t *testing.T) {
			r := deliver(t)
			signatures(t, r, 1)
			if err := verifySignature(t, oldSecret, r); err != nil {
				t.Errorf("secret does not verify: %v", err)
			}
		})

		var rotated struct {
			RotateWebhookSecret struct{ Secret string }
		}
		c.mustDo(t, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, map[string]any{"id": w.ID}, &rotated)
		newSecret := rotated.RotateWebhookSecret.Secret
		if newSecret == "" || newSecret == oldSecret {
			t.Fatalf("rotateWebhookSecret returned %q; want a new secret", newSecret)
		}

		t.Run("BothSign", func(t *testing.T) {
			r := deliver(t)
			signatures(t, r, 2)
			if err := verifySignature(t, newSecret, r); err != nil {
				t.Errorf("new secret does not verify: %v", err)
			}
			if err := verifySignature(t, oldSecret, r); err != nil {
				t.Errorf("previous secret does not verify during the rotation window: %v", err)
			}
			if err := verifySignature(t, stranger, r); err == nil {
				t.Error("an unrelated secret verifies; the check proves nothing")
			}
		})

		t.Run("JustInsideWindow", func(t *testing.T) {
			backdate(t, rotationWindow-time.Minute)
			r := deliver(t)
			signatures(t, r, 2)
			if err := verifySignature(t, oldSecret, r); err != nil {
				t.Errorf("previous secret does not verify 23h59m after the rotation: %v", err)
			}
		})

		t.Run("AfterWindow", func(t *testing.T) {
			backdate(t, rotationWindow+time.Minute)
			r := deliver(t)
			signatures(t, r, 1)
			if err := verifySignature(t, newSecret, r); err != nil {
				t.Errorf("new secret does not verify: %v", err)
			}
			if err := verifySignature(t, oldSecret, r); err == nil {
				t.Error("previous secret still verifies 24h01m after the rotation; want only the new one to sign")
			}
		})
	})
}

func TestWebhookIDStableAcrossRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t)) // schedule 10ms, 20ms, 30ms: up to four attempts
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			if n <= 3 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		_, secret := c.createWebhook(t, map[string]any{"url": rc.URL + "/flaky", "events": []string{"*"}})
		ev := c.publish(t, "order.created", map[string]any{"n": 1}, "")
		d := c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
		reqs := rc.requests("/flaky")
		if len(reqs) != 4 || d.AttemptCount != 4 {
			t.Fatalf("%d requests, %d attempts; want 4 (3 failures, then success)", len(reqs), d.AttemptCount)
		}
		for i, r := range reqs {
			if got := r.Header.Get("webhook-id"); got != ev.ID {
				t.Errorf("request %d webhook-id = %q; want the event id %s", i+1, got, ev.ID)
			}
			if err := verifySignature(t, secret, r); err != nil {
				t.Errorf("request %d does not verify: %v", i+1, err)
			}
		}
		for _, a := range d.Attempts {
			for _, h := range a.RequestHeaders {
				if strings.EqualFold(h.Name, "webhook-id") && h.Value != ev.ID {
					t.Errorf("attempt %d recorded webhook-id %q; want %s", a.AttemptNumber, h.Value, ev.ID)
				}
			}
		}
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

func TestHealthThreshold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{time.Millisecond} // two attempts per event
		ts := newTestServerWith(t, newURL(t), cfg)
		rc, healthy := newSwitchedReceiver(t, http.StatusInternalServerError)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/h", "events": []string{"*"}})
		want := func(when, health string, failures int) {
			t.Helper()
			if s := c.webhookState(t, w.ID); s.Health != health || s.ConsecutiveFailures != failures {
				t.Errorf("%s: health %s, consecutiveFailures %d; want %s, %d", when, s.Health, s.ConsecutiveFailures, health, failures)
			}
		}

		c.publishDead(t, w.ID)
		if s := c.webhookState(t, w.ID); s.Health == "UNHEALTHY" || s.ConsecutiveFailures != 2 {
			t.Errorf("after 2 failed attempts: health %s, consecutiveFailures %d; want not UNHEALTHY, 2", s.Health, s.ConsecutiveFailures)
		}
		if h := c.ping(t, w.ID); h != "UNHEALTHY" {
			t.Errorf("ping health after the 3rd failed attempt = %s; want UNHEALTHY", h)
		}
		want("after 3 failed attempts", "UNHEALTHY", 3)

		healthy.Store(true)
		ev := c.publish(t, "e", map[string]any{}, "")
		c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
		want("after a success", "HEALTHY", 0)

		// The count is of consecutive failures: it starts again after a success.
		healthy.Store(false)
		c.ping(t, w.ID)
		c.ping(t, w.ID)
		want("after a success and 2 failed attempts", "HEALTHY", 2)
		c.ping(t, w.ID)
		want("after a success and 3 failed attempts", "UNHEALTHY", 3)
	})
}

func TestAutoDisableNeedsTimeAndFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		failing := func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError }

		t.Run("LongDisableAfterKeepsEnabled", func(t *testing.T) {
			cfg := testDeliveryConfig()
			cfg.Schedule = []time.Duration{time.Millisecond} // two attempts per event
			cfg.DisableAfter = time.Hour
			ts := newTestServerWith(t, newURL(t), cfg)
			rc := newReceiver(t, failing)
			c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"*"}})
			for range 6 {
				c.publishDead(t, w.ID)
			}
			s := c.webhookState(t, w.ID)
			if !s.Enabled || s.DisabledReason != nil || s.ConsecutiveFailures != 12 {
				t.Fatalf("after 12 failures within DisableAfter: enabled %v, reason %v, failures %d; want enabled, no reason, 12",
					s.Enabled, s.DisabledReason, s.ConsecutiveFailures)
			}

			// Control: once the failing run is older than DisableAfter, the
			// next failure disables it.
			at := time.Now().Add(-2 * time.Hour).UTC()
			updateStored(t, ts, w.ID, func(w *model.Webhook) error {
				if w.FailingSince == nil {
					return errors.New("failingSince not set after 12 failures")
				}
				w.FailingSince = &at
				return nil
			}, func(w *model.Webhook) bool {
				return w.FailingSince != nil && w.FailingSince.Sub(at).Abs() < time.Second
			})
			ev := c.publish(t, "e", map[string]any{}, "")
			if ev.Deliveries.TotalCount != 1 {
				t.Fatalf("deliveries = %d; want 1 to the still enabled webhook", ev.Deliveries.TotalCount)
			}
			eventually(t, 5*time.Second, "the webhook to be disabled", func() bool { return !c.webhookState(t, w.ID).Enabled })
			if s := c.webhookState(t, w.ID); s.DisabledReason == nil {
				t.Errorf("disabled without a reason: %v", s)
			}
		})

		t.Run("TenFailuresNeeded", func(t *testing.T) {
			cfg := testDeliveryConfig()
			cfg.Schedule = []time.Duration{time.Millisecond, time.Millisecond} // three attempts per event
			cfg.DisableAfter = time.Millisecond
			ts := newTestServerWith(t, newURL(t), cfg)
			rc := newReceiver(t, failing)
			c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"*"}})
			for range 3 {
				c.publishDead(t, w.ID)
			}
			if s := c.webhookState(t, w.ID); !s.Enabled || s.ConsecutiveFailures != 9 {
				t.Fatalf("after 9 failures past DisableAfter: enabled %v, failures %d; want enabled, 9", s.Enabled, s.ConsecutiveFailures)
			}
			ev := c.publish(t, "e", map[string]any{}, "")
			d := c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "CANCELLED")
			s := c.webhookState(t, w.ID)
			if s.Enabled || s.DisabledReason == nil || s.ConsecutiveFailures != 10 || d.AttemptCount != 1 {
				t.Errorf("after the 10th failure: enabled %v, reason %v, failures %d, attempts of the last delivery %d; want disabled with a reason at exactly 10, 1",
					s.Enabled, s.DisabledReason, s.ConsecutiveFailures, d.AttemptCount)
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
