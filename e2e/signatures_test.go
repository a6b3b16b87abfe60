package e2e

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

func TestWireFormat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		payload := map[string]any{"awb": "125-1", "pieces": []any{1, 2}, "note": "a<b & \"c\""}

		for _, tc := range []struct {
			format, contentType string
			payload             any
			check               func(t *testing.T, body []byte, evID string)
		}{
			{"JSON", "application/json", payload, func(t *testing.T, body []byte, evID string) {
				var env struct {
					ID, Type, Timestamp string
					Data                map[string]any
				}
				if err := json.Unmarshal(body, &env); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				if _, err := time.Parse(time.RFC3339, env.Timestamp); err != nil || env.ID != evID || env.Type != "shipment.JSON" || env.Data["awb"] != "125-1" {
					t.Errorf("envelope = %+v", env)
				}
			}},
			{"XML", "application/xml", payload, func(t *testing.T, body []byte, evID string) {
				var env struct {
					ID     string   `xml:"id"`
					Type   string   `xml:"type"`
					AWB    string   `xml:"data>awb"`
					Pieces []string `xml:"data>pieces"`
					Note   string   `xml:"data>note"`
				}
				if err := xml.Unmarshal(body, &env); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				if env.ID != evID || env.AWB != "125-1" || !slices.Equal(env.Pieces, []string{"1", "2"}) || env.Note != `a<b & "c"` {
					t.Errorf("envelope = %+v from %s", env, body)
				}
			}},
			{"TEXT", "text/plain; charset=utf-8", map[string]any{"k": "v"}, func(t *testing.T, body []byte, evID string) {
				if !strings.Contains(string(body), `"id":"`+evID+`"`) || !strings.Contains(string(body), `"data":{"k":"v"}`) {
					t.Errorf("TEXT body of an object = %s; want the compact JSON envelope", body)
				}
			}},
		} {
			t.Run(tc.format, func(t *testing.T) {
				path := "/" + tc.format
				w, secret := c.createWebhook(t, map[string]any{
					"url": rc.URL + path, "events": []string{"shipment." + tc.format}, "format": tc.format,
					"bearerToken": testJWT, "sharedToken": "shared-123",
					"headers": []map[string]string{{"name": "X-Partner", "value": "p1"}},
				})
				ev := c.publish(t, "shipment."+tc.format, tc.payload, "")
				eventually(t, 5*time.Second, "a request on "+path, func() bool { return rc.count(path) == 1 })
				req := rc.requests(path)[0]
				h := req.Header
				if got := h.Get("Content-Type"); got != tc.contentType {
					t.Errorf("Content-Type = %q; want %q", got, tc.contentType)
				}
				if h.Get("webhook-id") != ev.ID || h.Get("Authorization") != "Bearer "+testJWT ||
					h.Get("x-webhook-shared-token") != "shared-123" || h.Get("X-Partner") != "p1" ||
					!strings.HasPrefix(h.Get("User-Agent"), "Hookline/") {
					t.Errorf("headers = %v", h)
				}
				if err := verifySignature(t, secret, req); err != nil {
					t.Errorf("Standard Webhooks verification failed: %v", err)
				}
				tc.check(t, req.Body, ev.ID)

				// The attempt is on record, with secrets redacted.
				d := c.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
				if d.WebhookID != w.ID || len(d.Attempts) != 1 || d.Attempts[0].RequestBody != string(req.Body) {
					t.Fatalf("delivery = %+v", d)
				}
				for _, hd := range d.Attempts[0].RequestHeaders {
					if strings.Contains(hd.Value, testJWT) || strings.Contains(hd.Value, "shared-123") || strings.HasPrefix(hd.Value, "v1,") {
						t.Errorf("recorded header %s = %q; want it redacted", hd.Name, hd.Value)
					}
				}
			})
		}
		t.Run("TEXT string payload", func(t *testing.T) {
			// A JSON string payload cannot be published (payload must be an
			// object), so TEXT bodies are always envelopes here.
			resp := c.do(t, `mutation { publishEvent(input: {type: "x", payload: "hello"}) { id } }`, nil)
			wantError(t, resp, model.CodeBadUserInput, "payload")
		})
	})
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
