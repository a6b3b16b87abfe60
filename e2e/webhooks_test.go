package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

func TestWebhookLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)

		w, secret := c.createWebhook(t, map[string]any{
			"url":         "https://example.com/hooks",
			"description": "orders",
			"events":      []string{"order.created", "order.paid", "order.created"},
			"filters":     map[string]any{"awb": []any{"125"}, "dcId": []any{"1", 2}},
			"format":      "XML",
			"headers":     []map[string]string{{"name": "X-Team", "value": "blue"}},
			"bearerToken": testJWT,
			"sharedToken": "s3cret",
		})
		if _, err := model.ParseSecret(secret); err != nil {
			t.Errorf("generated secret %q: %v", secret, err)
		}
		if !model.ValidID(w.ID, model.PrefixWebhook) {
			t.Errorf("id = %q; want a wh_ ID", w.ID)
		}
		if got, want := strings.Join(w.Events, ","), "order.created,order.paid"; got != want {
			t.Errorf("events = %s; want %s (duplicates dropped)", got, want)
		}
		var filters map[string][]any
		if err := json.Unmarshal(w.Filters, &filters); err != nil || len(filters["dcId"]) != 2 {
			t.Errorf("filters = %s; want them as given", w.Filters)
		}
		if w.Format != "XML" || !w.Enabled || w.Health != "UNKNOWN" || !w.HasBearerToken || !w.HasSharedToken {
			t.Errorf("webhook = %+v", w)
		}
		if len(w.Headers) != 1 || w.Headers[0] != (model.Header{Name: "X-Team", Value: "blue"}) {
			t.Errorf("headers = %+v", w.Headers)
		}

		t.Run("Get", func(t *testing.T) {
			var out struct{ Webhook webhookJSON }
			c.mustDo(t, `query($id: ID!) { webhook(id: $id) { `+webhookFields+` } }`, map[string]any{"id": w.ID}, &out)
			if out.Webhook.ID != w.ID || out.Webhook.URL != "https://example.com/hooks" || out.Webhook.CreatedAt != w.CreatedAt {
				t.Errorf("webhook = %+v; want %+v", out.Webhook, w)
			}
			var node struct{ Node *webhookJSON }
			c.mustDo(t, `query($id: ID!) { node(id: $id) { id ... on Webhook { url } } }`, map[string]any{"id": w.ID}, &node)
			if node.Node == nil || node.Node.URL != w.URL {
				t.Errorf("node = %+v; want the webhook", node.Node)
			}
		})

		t.Run("UpdateTouchesOnlyGivenFields", func(t *testing.T) {
			var out struct{ UpdateWebhook webhookJSON }
			c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false, description: "paused", sharedToken: ""}) { `+webhookFields+` } }`,
				map[string]any{"id": w.ID}, &out)
			got := out.UpdateWebhook
			if got.Enabled || got.Description != "paused" || got.HasSharedToken {
				t.Errorf("after update: %+v", got)
			}
			if got.URL != w.URL || got.Format != "XML" || !got.HasBearerToken || len(got.Events) != 2 || string(got.Filters) != string(w.Filters) {
				t.Errorf("update changed omitted fields: %+v", got)
			}
			if got.UpdatedAt == w.UpdatedAt {
				t.Errorf("updatedAt = %s; want later than %s", got.UpdatedAt, w.UpdatedAt)
			}
			c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {filters: null}) { filters } }`, map[string]any{"id": w.ID}, &out)
			if string(out.UpdateWebhook.Filters) != "null" {
				t.Errorf("filters after explicit null = %s; want null", out.UpdateWebhook.Filters)
			}
		})

		t.Run("RemoveEvents", func(t *testing.T) {
			var out struct{ RemoveWebhookEvents webhookJSON }
			c.mustDo(t, `mutation($id: ID!) { removeWebhookEvents(id: $id, events: ["order.paid"]) { events } }`, map[string]any{"id": w.ID}, &out)
			if got := strings.Join(out.RemoveWebhookEvents.Events, ","); got != "order.created" {
				t.Errorf("events = %s; want order.created", got)
			}
			resp := c.do(t, `mutation($id: ID!) { removeWebhookEvents(id: $id, events: ["order.created"]) { events } }`, map[string]any{"id": w.ID})
			wantError(t, resp, model.CodeBadUserInput, "events")
		})

		t.Run("RotateSecret", func(t *testing.T) {
			var out struct {
				RotateWebhookSecret struct{ Secret string }
			}
			c.mustDo(t, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { id } } }`, map[string]any{"id": w.ID}, &out)
			if out.RotateWebhookSecret.Secret == secret {
				t.Error("rotateWebhookSecret returned the old secret")
			}
			if _, err := model.ParseSecret(out.RotateWebhookSecret.Secret); err != nil {
				t.Errorf("rotated secret: %v", err)
			}
		})

		t.Run("Delete", func(t *testing.T) {
			var out struct{ DeleteWebhook string }
			c.mustDo(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": w.ID}, &out)
			if out.DeleteWebhook != w.ID {
				t.Errorf("deleteWebhook = %q; want %q", out.DeleteWebhook, w.ID)
			}
			var get struct{ Webhook *webhookJSON }
			c.mustDo(t, `query($id: ID!) { webhook(id: $id) { id } }`, map[string]any{"id": w.ID}, &get)
			if get.Webhook != nil {
				t.Errorf("deleted webhook still returned: %+v", get.Webhook)
			}
			resp := c.do(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": w.ID})
			wantError(t, resp, model.CodeNotFound, "")
		})
	})
}

// TestCreateWebhookDefaults checks that a webhook created without format or
// enabled (or with them null) is a JSON webhook that is enabled, as returned
// and as stored.
func TestCreateWebhookDefaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		for _, tc := range []struct {
			name  string
			input map[string]any
		}{
			{"Omitted", map[string]any{"url": "https://example.com/a", "events": []string{"*"}}},
			{"Null", map[string]any{"url": "https://example.com/b", "events": []string{"*"}, "format": nil, "enabled": nil}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				created, _ := c.createWebhook(t, tc.input)
				var out struct{ Webhook *webhookJSON }
				c.mustDo(t, `query($id: ID!) { webhook(id: $id) { `+webhookFields+` } }`, map[string]any{"id": created.ID}, &out)
				if out.Webhook == nil {
					t.Fatalf("webhook(%s) = null after create", created.ID)
				}
				for _, w := range []struct {
					from string
					hook webhookJSON
				}{{"createWebhook", created}, {"webhook", *out.Webhook}} {
					if w.hook.Format != "JSON" || !w.hook.Enabled {
						t.Errorf("%s(input %v): format %q, enabled %v; want JSON, true", w.from, tc.input, w.hook.Format, w.hook.Enabled)
					}
				}
			})
		}
		// A literal input without the fields takes the schema's defaults too.
		var out struct {
			CreateWebhook struct{ Webhook webhookJSON }
		}
		c.mustDo(t, `mutation { createWebhook(input: {url: "https://example.com/c", events: ["x"]}) { webhook { format enabled } } }`, nil, &out)
		if w := out.CreateWebhook.Webhook; w.Format != "JSON" || !w.Enabled {
			t.Errorf("createWebhook(literal input without format): format %q, enabled %v; want JSON, true", w.Format, w.Enabled)
		}
	})
}

func TestSecretsAreWriteOnly(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	_, secret := ts.admin.createWebhook(t, map[string]any{"url": "https://example.com", "events": []string{"*"}, "sharedToken": "tok-123456", "bearerToken": testJWT})
	resp := ts.admin.do(t, `{ webhooks { edges { node { `+webhookFields+` } } } }`, nil)
	for _, leaked := range []string{secret, "tok-123456", testJWT} {
		if strings.Contains(string(resp.Data), leaked) {
			t.Errorf("query result contains a secret %q: %s", leaked, resp.Data)
		}
	}
	resp = ts.admin.do(t, `{ webhooks { edges { node { secret } } } }`, nil)
	wantError(t, resp, "GRAPHQL_VALIDATION_FAILED", "")
}

// TestSecretHeaders checks that a secret header's value is write-only, as
// the tokens are: webhook.headers reads it as null (Authorization always
// being secret), the receiver gets the real value, and attempt records
// redact it. A header that is not secret stays readable everywhere.
func TestSecretHeaders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		const (
			apiKey = "api-key-that-is-write-only"
			basic  = "Basic c2VjcmV0OnVzZXI="
		)
		var created struct {
			CreateWebhook struct{ Webhook struct{ ID string } }
		}
		c.mustDo(t, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { webhook { id headers { name value secret } } } }`, map[string]any{"in": map[string]any{
			"url": rc.URL + "/secret-headers", "events": []string{"order.paid"},
			"headers": []map[string]any{
				{"name": "X-Api-Key", "value": apiKey, "secret": true},
				{"name": "Authorization", "value": basic},
				{"name": "X-Team", "value": "blue"},
			},
		}}, &created)
		id := created.CreateWebhook.Webhook.ID

		blue := "blue"
		want := []headerJSON{{"X-Api-Key", nil, true}, {"Authorization", nil, true}, {"X-Team", &blue, false}}
		checkHeaders := func(t *testing.T, what string) {
			t.Helper()
			resp := c.do(t, `query($id: ID!) { webhook(id: $id) { headers { name value secret } } webhooks { edges { node { headers { name value secret } } } } }`, map[string]any{"id": id})
			if len(resp.Errors) > 0 {
				t.Fatalf("%s: errors %+v", what, resp.Errors)
			}
			for _, leaked := range []string{apiKey, basic} {
				if strings.Contains(string(resp.Data), leaked) {
					t.Errorf("%s: query result contains the secret value %q: %s", what, leaked, resp.Data)
				}
			}
			var out struct {
				Webhook  struct{ Headers []headerJSON }
				Webhooks struct {
					Edges []struct {
						Node struct{ Headers []headerJSON }
					}
				}
			}
			if err := json.Unmarshal(resp.Data, &out); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out.Webhook.Headers, want) {
				t.Errorf("%s: webhook.headers = %v; want %v", what, out.Webhook.Headers, want)
			}
			if len(out.Webhooks.Edges) != 1 || !reflect.DeepEqual(out.Webhooks.Edges[0].Node.Headers, want) {
				t.Errorf("%s: webhooks.edges = %v; want one with headers %v", what, out.Webhooks.Edges, want)
			}
		}
		checkHeaders(t, "after create")

		checkDelivery := func(t *testing.T, path string) {
			t.Helper()
			ev := c.publish(t, "order.paid", map[string]any{"n": 1}, "")
			d := c.waitStatus(t, onlyDelivery(t, ev), "SUCCEEDED")
			reqs := rc.requests(path)
			if len(reqs) == 0 {
				t.Fatalf("no request on %s", path)
			}
			h := reqs[len(reqs)-1].Header
			if h.Get("X-Api-Key") != apiKey || h.Get("Authorization") != basic || h.Get("X-Team") != "blue" {
				t.Errorf("receiver got X-Api-Key %q, Authorization %q, X-Team %q; want the values given", h.Get("X-Api-Key"), h.Get("Authorization"), h.Get("X-Team"))
			}
			recorded := map[string]string{}
			for _, hd := range d.Attempts[0].RequestHeaders {
				recorded[hd.Name] = hd.Value
			}
			for name, want := range map[string]string{"X-Api-Key": "[redacted]", "Authorization": "[redacted]", "X-Team": "blue"} {
				if recorded[name] != want {
					t.Errorf("attempt requestHeaders %s = %q; want %q", name, recorded[name], want)
				}
			}
		}
		checkDelivery(t, "/secret-headers")

		// An update that leaves the headers alone keeps the secret values;
		// one that gives headers replaces the list, so a secret value to
		// keep is given again.
		c.mustDo(t, updateWebhookMutation, map[string]any{"id": id, "in": map[string]any{"url": rc.URL + "/updated"}}, nil)
		checkHeaders(t, "after an update without headers")
		checkDelivery(t, "/updated")
		c.mustDo(t, updateWebhookMutation, map[string]any{"id": id, "in": map[string]any{"headers": []map[string]any{
			{"name": "X-Api-Key", "value": apiKey, "secret": true},
			{"name": "Authorization", "value": basic, "secret": false}, // secret all the same
			{"name": "X-Team", "value": "blue"},
		}}}, nil)
		checkHeaders(t, "after an update with headers")
		checkDelivery(t, "/updated")
	})
}

// headerJSON is a Header as GraphQL answers it: a secret value is null.
type headerJSON struct {
	Name   string  `json:"name"`
	Value  *string `json:"value"`
	Secret bool    `json:"secret"`
}

func (h headerJSON) String() string {
	v := "null"
	if h.Value != nil {
		v = strconv.Quote(*h.Value)
	}
	return fmt.Sprintf("{%s %s secret:%v}", h.Name, v, h.Secret)
}
