package main

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

type eventJSON struct {
	ID             string  `json:"id"`
	Type           string  `json:"type"`
	IdempotencyKey *string `json:"idempotencyKey"`
	Deliveries     struct {
		TotalCount int `json:"totalCount"`
		Edges      []struct {
			Node deliveryJSON `json:"node"`
		} `json:"edges"`
	} `json:"deliveries"`
}

type deliveryJSON struct {
	ID            string        `json:"id"`
	WebhookID     string        `json:"webhookId"`
	Status        string        `json:"status"`
	AttemptCount  int           `json:"attemptCount"`
	NextAttemptAt *time.Time    `json:"nextAttemptAt"`
	Attempts      []attemptJSON `json:"attempts"`
}

type attemptJSON struct {
	ID             string         `json:"id"`
	AttemptNumber  int            `json:"attemptNumber"`
	Outcome        string         `json:"outcome"`
	StatusCode     *int           `json:"statusCode"`
	Error          *string        `json:"error"`
	RequestHeaders []model.Header `json:"requestHeaders"`
	RequestBody    string         `json:"requestBody"`
	ResponseBody   string         `json:"responseBody"`
	StartedAt      time.Time      `json:"startedAt"`
	NextRetryAt    *time.Time     `json:"nextRetryAt"`
}

const deliveryFields = `id webhookId status attemptCount nextAttemptAt
	attempts { id attemptNumber outcome statusCode error requestHeaders { name value } requestBody responseBody startedAt nextRetryAt }`

// publish publishes an event and returns it with its deliveries.
func (c *client) publish(tb testing.TB, typ string, payload any, idempotencyKey string) eventJSON {
	tb.Helper()
	in := map[string]any{"type": typ, "payload": payload}
	if idempotencyKey != "" {
		in["idempotencyKey"] = idempotencyKey
	}
	var out struct{ PublishEvent eventJSON }
	c.mustDo(tb, `mutation($in: PublishEventInput!) { publishEvent(input: $in) { id type idempotencyKey
		deliveries(first: 100) { totalCount edges { node { `+deliveryFields+` } } } } }`, map[string]any{"in": in}, &out)
	return out.PublishEvent
}

// delivery fetches a delivery with its attempts.
func (c *client) delivery(tb testing.TB, id string) deliveryJSON {
	tb.Helper()
	var out struct{ Delivery *deliveryJSON }
	c.mustDo(tb, `query($id: ID!) { delivery(id: $id) { `+deliveryFields+` } }`, map[string]any{"id": id}, &out)
	if out.Delivery == nil {
		tb.Fatalf("delivery %s not found", id)
	}
	return *out.Delivery
}

// waitStatus waits until the delivery reaches status and returns it.
func (c *client) waitStatus(tb testing.TB, id, status string) deliveryJSON {
	tb.Helper()
	var d deliveryJSON
	eventually(tb, 10*time.Second, "delivery "+id+" to be "+status, func() bool {
		d = c.delivery(tb, id)
		return d.Status == status
	})
	return d
}

func TestPublishMatchesWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)

		hook := func(c *client, path string, in map[string]any) string {
			in["url"] = rc.URL + path
			w, _ := c.createWebhook(t, in)
			return w.ID
		}
		want := map[string]string{
			hook(acme, "/exact", map[string]any{"events": []string{"shipment.departed"}}):                                                                            "/exact",
			hook(acme, "/all", map[string]any{"events": []string{"*"}}):                                                                                              "/all",
			hook(acme, "/awb", map[string]any{"events": []string{"*"}, "filters": map[string]any{"awb": []string{"125"}}}):                                           "/awb",
			hook(acme, "/nested", map[string]any{"events": []string{"*"}, "filters": map[string]any{"depot.id": []string{"1", "2"}, "awb": []string{"125", "126"}}}): "/nested",
		}
		hook(acme, "/other-type", map[string]any{"events": []string{"shipment.arrived"}})
		hook(acme, "/disabled", map[string]any{"events": []string{"*"}, "enabled": false})
		hook(acme, "/awb-mismatch", map[string]any{"events": []string{"*"}, "filters": map[string]any{"awb": []string{"999"}}})
		hook(acme, "/missing-path", map[string]any{"events": []string{"*"}, "filters": map[string]any{"depot.name": []string{"x"}}})
		hook(globex, "/other-owner", map[string]any{"events": []string{"*"}})

		ev := acme.publish(t, "shipment.departed", map[string]any{"awb": "125", "depot": map[string]any{"id": 2}}, "")
		if !model.ValidID(ev.ID, model.PrefixEvent) {
			t.Errorf("event id = %q; want evt_ ID", ev.ID)
		}
		var got []string
		for _, e := range ev.Deliveries.Edges {
			got = append(got, want[e.Node.WebhookID])
			if want[e.Node.WebhookID] == "" {
				t.Errorf("delivery to unexpected webhook %s", e.Node.WebhookID)
			}
		}
		if ev.Deliveries.TotalCount != len(want) {
			t.Fatalf("deliveries = %d %v; want %d", ev.Deliveries.TotalCount, got, len(want))
		}
		for _, e := range ev.Deliveries.Edges {
			acme.waitStatus(t, e.Node.ID, "SUCCEEDED")
		}
		for _, path := range []string{"/exact", "/all", "/awb", "/nested"} {
			if n := rc.count(path); n != 1 {
				t.Errorf("%s received %d requests; want 1", path, n)
			}
		}
		for _, path := range []string{"/other-type", "/disabled", "/awb-mismatch", "/missing-path", "/other-owner"} {
			if n := rc.count(path); n != 0 {
				t.Errorf("%s received %d requests; want 0", path, n)
			}
		}
		// The other owner sees nothing of it.
		resp := globex.do(t, `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": ev.ID})
		if string(resp.Data) != `{"event":null}` {
			t.Errorf("other owner's event query = %s; want null", resp.Data)
		}
	})
}

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
				verifier, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					t.Fatal(err)
				}
				if err := verifier.Verify(req.Body, h); err != nil {
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
