package e2e

// Platforms and partners: an admin key acting on an owner (Hookline-Owner)
// over HTTP, websockets and SSE; broadcasts; the operator's lists of owners
// and keys; keys that expire; the audit log of mutations. Revocation and
// expiry of open connections are in revocation_test.go.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

const ownerHeader = "Hookline-Owner"

// keyJSON is an ApiKey with every field.
type keyJSON struct {
	ID         string
	Owner      string
	Name       *string
	Role       string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
}

const keyFields = `id owner name role createdAt expiresAt lastUsedAt`

const createKeyMutation = `mutation($owner: String!, $name: String, $role: ApiKeyRole, $exp: Time) {
	createApiKey(owner: $owner, name: $name, role: $role, expiresAt: $exp) { key apiKey { ` + keyFields + ` } } }`

// createKey creates a key of owner through createApiKey with admin, with
// role (MEMBER when empty) and expiring at exp unless it is zero, and
// returns a client that uses it.
func createKey(tb testing.TB, admin *client, owner, role string, exp time.Time) (*client, keyJSON) {
	tb.Helper()
	vars := map[string]any{"owner": owner, "name": owner + " key"}
	if role != "" {
		vars["role"] = role
	}
	if !exp.IsZero() {
		vars["exp"] = exp.Format(time.RFC3339Nano)
	}
	var out struct {
		CreateApiKey struct {
			Key    string
			APIKey keyJSON
		}
	}
	admin.mustDo(tb, createKeyMutation, vars, &out)
	k := out.CreateApiKey
	if k.Key == "" || k.APIKey.Owner != owner {
		tb.Fatalf("createApiKey(owner: %q) = %+v; want a key of that owner", owner, k)
	}
	return &client{url: admin.url, key: k.Key, keyID: k.APIKey.ID}, k.APIKey
}

// withOwnerValues returns a copy of c that sends each of values as a
// Hookline-Owner header.
func withOwnerValues(c *client, values ...string) *client {
	cc := *c
	cc.header = http.Header{ownerHeader: values}
	return &cc
}

// auth is the connection_init payload (websockets) or the headers (SSE) of
// key acting on owner; no Hookline-Owner when owner is empty.
func auth(key, owner string) map[string]string {
	m := map[string]string{"Authorization": "Bearer " + key}
	if owner != "" {
		m[ownerHeader] = owner
	}
	return m
}

// ownerOf asks { owner } with c.
func ownerOf(tb testing.TB, c *client) string {
	tb.Helper()
	var out struct{ Owner string }
	c.mustDo(tb, `{ owner }`, nil, &out)
	return out.Owner
}

// wantStatus fails unless resp has the HTTP status.
func wantStatus(tb testing.TB, resp gqlResponse, status int) {
	tb.Helper()
	if resp.Status != status {
		tb.Errorf("HTTP status = %d; want %d (errors %+v)", resp.Status, status, resp.Errors)
	}
}

// webhookIDs returns the IDs of every webhook c sees.
func webhookIDs(tb testing.TB, c *client) []string {
	tb.Helper()
	p := c.listWebhooks(tb, map[string]any{"first": 100})
	if p.TotalCount != len(p.Edges) {
		tb.Errorf("webhooks: totalCount %d, %d edges", p.TotalCount, len(p.Edges))
	}
	ids := p.ids()
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// ownerEvent is one of an owner's events as its events list shows it.
type ownerEvent struct {
	ID         string
	Type       string
	Payload    map[string]any
	CreatedAt  time.Time
	Deliveries struct {
		TotalCount int
		Edges      []struct {
			Node struct{ ID, WebhookID, Status string }
		}
	}
}

// eventsOf lists every event c sees (at most 20, with up to 10
// deliveries each), newest first.
func eventsOf(tb testing.TB, c *client) []ownerEvent {
	tb.Helper()
	var out struct {
		Events struct {
			TotalCount int
			Edges      []struct{ Node ownerEvent }
		}
	}
	c.mustDo(tb, `{ events(first: 20) { totalCount edges { node { id type payload createdAt
		deliveries(first: 10) { totalCount edges { node { id webhookId status } } } } } } }`, nil, &out)
	if out.Events.TotalCount != len(out.Events.Edges) {
		tb.Errorf("events: totalCount %d, %d edges", out.Events.TotalCount, len(out.Events.Edges))
	}
	evs := make([]ownerEvent, len(out.Events.Edges))
	for i, e := range out.Events.Edges {
		evs[i] = e.Node
	}
	return evs
}

// TestActAsOwner: over HTTP, an admin key with Hookline-Owner works exactly
// as the owner's member key would, on an owner with or without anything
// yet; a member key may name only its own owner; a malformed owner is
// BAD_USER_INPUT.
func TestActAsOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		wa, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/acme", "events": []string{"*"}})
		wg, _ := globex.createWebhook(t, map[string]any{"url": rc.URL + "/globex", "events": []string{"*"}})
		asAcme := ts.admin.actingAs("acme")

		t.Run("Owner", func(t *testing.T) {
			longest := strings.Repeat("o", model.MaxOwnerBytes)
			for _, tc := range []struct {
				name string
				c    *client
				want string
			}{
				{"AdminWithoutHeader", ts.admin, "admin"},
				{"AdminNamingItsOwn", ts.admin.actingAs("admin"), "admin"},
				{"AdminAsAcme", asAcme, "acme"},
				{"AdminAsOwnerWithNothing", ts.admin.actingAs("nobody-yet"), "nobody-yet"},
				{"AdminAs128Bytes", ts.admin.actingAs(longest), longest},
				{"AdminAsInnerBlanks", ts.admin.actingAs("acme cargo\tgmbh"), "acme cargo\tgmbh"},
				{"AdminAsUnicode", ts.admin.actingAs("jürgen-spedition"), "jürgen-spedition"},
				{"MemberWithoutHeader", acme, "acme"},
				{"MemberNamingItsOwn", acme.actingAs("acme"), "acme"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if got := ownerOf(t, tc.c); got != tc.want {
						t.Errorf("owner = %q; want %q", got, tc.want)
					}
				})
			}
		})

		t.Run("ScopedLikeTheOwnersMemberKey", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				c    *client
				want []string
			}{
				{"AdminAsAcme", asAcme, []string{wa.ID}},
				{"AcmeMember", acme, []string{wa.ID}},
				{"AdminAsGlobex", ts.admin.actingAs("globex"), []string{wg.ID}},
				{"AdminAsACME", ts.admin.actingAs("ACME"), []string{}}, // owners are case-sensitive
				{"AdminWithoutHeader", ts.admin, []string{}},
			} {
				if got := webhookIDs(t, tc.c); !slices.Equal(got, sorted(tc.want...)) {
					t.Errorf("%s: webhooks = %v; want %v", tc.name, got, tc.want)
				}
			}

			const nodeQuery = `query($id: ID!) { node(id: $id) { id } }`
			for _, tc := range []struct {
				id    string
				found bool
			}{{wa.ID, true}, {acme.keyID, true}, {wg.ID, false}, {globex.keyID, false}, {ts.admin.keyID, false}} {
				var out struct{ Node *struct{ ID string } }
				asAcme.mustDo(t, nodeQuery, map[string]any{"id": tc.id}, &out)
				if found := out.Node != nil; found != tc.found {
					t.Errorf("admin as acme: node(%s) = %+v; want found %v (as acme's member key)", tc.id, out.Node, tc.found)
				}
			}
			// me is still the calling key.
			var me struct{ Me keyJSON }
			asAcme.mustDo(t, `{ me { `+keyFields+` } }`, nil, &me)
			if me.Me.ID != ts.admin.keyID || me.Me.Owner != "admin" || me.Me.Role != "ADMIN" {
				t.Errorf("admin as acme: me = %+v; want the admin key %s", me.Me, ts.admin.keyID)
			}

			// What it creates and publishes is acme's.
			created, _ := asAcme.createWebhook(t, map[string]any{"url": rc.URL + "/acme-by-platform", "events": []string{"order.created"}})
			if got := webhookIDs(t, acme); !slices.Equal(got, sorted(wa.ID, created.ID)) {
				t.Errorf("acme's webhooks after the admin created one as acme = %v; want %v", got, sorted(wa.ID, created.ID))
			}
			for name, c := range map[string]*client{"globex": globex, "admin": ts.admin} {
				if got := webhookIDs(t, c); slices.Contains(got, created.ID) {
					t.Errorf("%s sees the webhook the admin created as acme", name)
				}
			}
			ev := asAcme.publish(t, "order.created", map[string]any{"n": 1}, "")
			ds := eventDeliveries(t, ev, 2)
			if ds[wa.ID] == "" || ds[created.ID] == "" {
				t.Fatalf("event published as acme has deliveries %v; want one to each of acme's webhooks %s, %s", ds, wa.ID, created.ID)
			}
			acme.waitStatus(t, ds[wa.ID], "SUCCEEDED")
			acme.waitStatus(t, ds[created.ID], "SUCCEEDED")
			if got := acme.eventCreatedAt(t, ev.ID); !got.Equal(ev.CreatedAt) {
				t.Errorf("acme's event %s createdAt %v; want %v", ev.ID, got, ev.CreatedAt)
			}
			for name, c := range map[string]*client{"globex": globex, "admin": ts.admin} {
				var out struct{ Event *struct{ ID string } }
				c.mustDo(t, `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": ev.ID}, &out)
				if out.Event != nil {
					t.Errorf("%s sees the event published as acme", name)
				}
				if n := c.totalCount(t, "events"); n != 0 {
					t.Errorf("%s has %d events; want 0", name, n)
				}
			}
			if got := rc.requests("/acme"); len(got) != 1 || got[0].Header.Get("webhook-id") != ev.ID {
				t.Errorf("acme's receiver got %d requests; want the one of event %s", len(got), ev.ID)
			}
			if n := rc.count("/globex"); n != 0 {
				t.Errorf("globex's receiver got %d requests; want none", n)
			}
			// Another owner's webhook is not there for it.
			resp := asAcme.do(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {description: "x"}) { id } }`, map[string]any{"id": wg.ID})
			wantError(t, resp, model.CodeNotFound, "")
		})

		t.Run("OwnerWithNothingYet", func(t *testing.T) {
			c := ts.admin.actingAs("newcomer")
			for _, conn := range []string{"webhooks", "events", "deliveries"} {
				if n := c.totalCount(t, conn); n != 0 {
					t.Errorf("newcomer's %s: totalCount %d; want 0", conn, n)
				}
			}
			ev := c.publish(t, "order.created", map[string]any{}, "")
			if ev.Deliveries.TotalCount != 0 {
				t.Errorf("newcomer's event has %d deliveries; want 0", ev.Deliveries.TotalCount)
			}
			if n := c.totalCount(t, "events"); n != 1 {
				t.Errorf("newcomer's events after a publish: %d; want 1", n)
			}
			if n := acme.totalCount(t, "events"); n != 1 {
				t.Errorf("acme's events = %d; want only its own 1", n)
			}
		})

		t.Run("AdminOnlyOperationsForbidden", func(t *testing.T) {
			keysBefore := adminKeyIDs(t, ts.admin)
			for _, tc := range []struct {
				name  string
				query string
				vars  map[string]any
			}{
				{"CreateApiKey", `mutation { createApiKey(owner: "acme") { key } }`, nil},
				{"CreateAdminKey", `mutation { createApiKey(owner: "admin", role: ADMIN) { key } }`, nil},
				{"RevokeApiKey", `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": globex.keyID}},
				{"RevokeOwnOwnersKey", `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": acme.keyID}},
				{"Owners", `{ owners { totalCount } }`, nil},
				{"BroadcastEvent", `mutation { broadcastEvent(input: {type: "order.created", payload: {}}) { ownerCount deliveryCount } }`, nil},
				{"APIKeysOfAnotherOwner", `{ apiKeys(filter: {owner: "globex"}) { totalCount } }`, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp := asAcme.do(t, tc.query, tc.vars)
					e := wantError(t, resp, model.CodeForbidden, "")
					if !strings.Contains(e.Message, ownerHeader) && tc.name != "APIKeysOfAnotherOwner" {
						t.Errorf("message %q does not say the key acts as an owner (%s)", e.Message, ownerHeader)
					}
				})
			}
			if got := adminKeyIDs(t, ts.admin); !slices.Equal(got, keysBefore) {
				t.Errorf("keys after the refused operations = %v; want unchanged %v", got, keysBefore)
			}
			if n := globex.totalCount(t, "events"); n != 0 {
				t.Errorf("globex has %d events after a refused broadcast; want 0", n)
			}
			// Positive control: naming its own owner, the admin key keeps its rights.
			ts.admin.actingAs("admin").mustDo(t, `{ owners { totalCount } }`, nil, nil)
		})

		t.Run("APIKeysAsOwner", func(t *testing.T) {
			for _, vars := range []map[string]any{nil, {"filter": map[string]any{"owner": "acme"}}} {
				var out struct{ APIKeys connPage }
				asAcme.mustDo(t, `query($filter: ApiKeyFilter) { apiKeys(first: 100, filter: $filter) { totalCount edges { node { id } } } }`, vars, &out)
				if got := out.APIKeys.ids(); !slices.Equal(got, []string{acme.keyID}) || out.APIKeys.TotalCount != 1 {
					t.Errorf("admin as acme: apiKeys(%v) = %v (totalCount %d); want acme's [%s]", vars, got, out.APIKeys.TotalCount, acme.keyID)
				}
			}
		})

		t.Run("MemberNamingAnotherOwnerForbidden", func(t *testing.T) {
			for _, other := range []string{"globex", "admin", "ACME", "acme-cargo"} {
				c := acme.actingAs(other)
				resp := c.do(t, `{ owner }`, nil)
				wantStatus(t, resp, http.StatusForbidden)
				e := wantError(t, resp, model.CodeForbidden, "")
				if !strings.Contains(e.Message, ownerHeader) {
					t.Errorf("message %q does not name %s", e.Message, ownerHeader)
				}
				resp = c.do(t, `mutation { createWebhook(input: {url: "https://evil.example", events: ["*"]}) { webhook { id } } }`, nil)
				wantStatus(t, resp, http.StatusForbidden)
				wantError(t, resp, model.CodeForbidden, "")
			}
			if got := webhookIDs(t, globex); !slices.Equal(got, []string{wg.ID}) {
				t.Errorf("globex's webhooks after a member's refused createWebhook = %v; want [%s]", got, wg.ID)
			}
		})

		t.Run("MalformedOwner", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				values []string
			}{
				{"Empty", []string{""}},
				{"Blank", []string{"   "}},
				{"Tabs", []string{"\t\t"}},
				{"TooLong", []string{strings.Repeat("o", model.MaxOwnerBytes+1)}},
				{"TooLongMultibyte", []string{strings.Repeat("ü", model.MaxOwnerBytes/2) + "x"}},
				{"InvalidUTF8", []string{"acme\xff"}},
				{"SentTwice", []string{"acme", "acme"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					for name, c := range map[string]*client{"admin": ts.admin, "member": acme} {
						c := withOwnerValues(c, tc.values...)
						resp := c.do(t, `mutation { createWebhook(input: {url: "https://x.example", events: ["*"]}) { webhook { id } } }`, nil)
						wantStatus(t, resp, http.StatusBadRequest)
						wantError(t, resp, model.CodeBadUserInput, ownerHeader)
						if len(resp.Data) != 0 && string(resp.Data) != "null" {
							t.Errorf("%s: data %s with a malformed owner", name, resp.Data)
						}
					}
				})
			}
			if got := webhookIDs(t, acme); len(got) != 2 {
				t.Errorf("acme's webhooks after the refused requests = %v; want its 2", got)
			}
		})
	})
}

// adminKeyIDs lists every unrevoked key, sorted.
func adminKeyIDs(tb testing.TB, admin *client) []string {
	tb.Helper()
	var out struct{ APIKeys connPage }
	admin.mustDo(tb, `{ apiKeys(first: 100) { totalCount edges { node { id } } } }`, nil, &out)
	if out.APIKeys.TotalCount != len(out.APIKeys.Edges) {
		tb.Errorf("apiKeys: totalCount %d, %d edges", out.APIKeys.TotalCount, len(out.APIKeys.Edges))
	}
	return sorted(out.APIKeys.ids()...)
}

// TestActAsOwnerOverSubscriptions: the connection_init key Hookline-Owner
// (both websocket protocols, any spelling) and the header over SSE scope
// queries, mutations, node and subscriptions to the owner named.
func TestActAsOwnerOverSubscriptions(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, nil)
	acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
	acmeHook, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/acme", "events": []string{"order.created"}})
	acmeProbe, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"none"}})
	globex.createWebhook(t, map[string]any{"url": rc.URL + "/globex", "events": []string{"*"}})

	// once runs one operation over a fresh connection and returns its data.
	once := func(t *testing.T, proto string, init map[string]string, query string, vars map[string]any, dst any) {
		t.Helper()
		sub := subscribeWith(t, ts.URL, proto, init, query, vars)
		sub.receive(t, dst)
	}

	for _, proto := range subscriptionProtocols {
		t.Run(proto, func(t *testing.T) {
			t.Run("Owner", func(t *testing.T) {
				inits := []map[string]string{auth(ts.admin.key, "acme"), auth(acme.key, "acme")}
				if proto != protoSSE {
					inits = append(inits,
						map[string]string{"authorization": "Bearer " + ts.admin.key, "hookline-owner": "acme"},
						map[string]string{"Authorization": "Bearer " + ts.admin.key, "HOOKLINE-OWNER": "acme"})
				}
				for _, init := range inits {
					var out struct{ Owner string }
					once(t, proto, init, `{ owner }`, nil, &out)
					if out.Owner != "acme" {
						t.Errorf("owner with %v = %q; want acme", redactAuth(init), out.Owner)
					}
				}
				if proto != protoSSE {
					// Under "headers", as some clients send them.
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					conn, err := dialWebsocket(ctx, ts.URL, proto, map[string]any{"headers": auth(ts.admin.key, "acme")})
					if err != nil {
						t.Fatalf("connection_init with headers: %v", err)
					}
					conn.Close(websocket.StatusNormalClosure, "")
				}
				var out struct{ Owner string }
				once(t, proto, auth(ts.admin.key, ""), `{ owner }`, nil, &out)
				if out.Owner != "admin" {
					t.Errorf("owner without %s = %q; want admin", ownerHeader, out.Owner)
				}
			})

			t.Run("NodeAndMutation", func(t *testing.T) {
				var node struct{ Node *struct{ ID string } }
				once(t, proto, auth(ts.admin.key, "acme"), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": acmeHook.ID}, &node)
				if node.Node == nil || node.Node.ID != acmeHook.ID {
					t.Errorf("admin as acme: node(acme's webhook) = %+v; want it", node.Node)
				}
				once(t, proto, auth(ts.admin.key, "globex"), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": acmeHook.ID}, &node)
				if node.Node != nil {
					t.Errorf("admin as globex: node(acme's webhook) = %+v; want null", node.Node)
				}
				var made struct {
					CreateWebhook struct{ Webhook struct{ ID string } }
				}
				once(t, proto, auth(ts.admin.key, "acme"), `mutation { createWebhook(input: {url: "https://acme.example/`+proto+`", events: ["none"]}) { webhook { id } } }`, nil, &made)
				if id := made.CreateWebhook.Webhook.ID; id == "" || !slices.Contains(webhookIDs(t, acme), id) {
					t.Errorf("webhook %q created over %s as acme is not acme's", id, proto)
				}
			})

			t.Run("Subscription", func(t *testing.T) {
				sub := subscribeWith(t, ts.URL, proto, auth(ts.admin.key, "acme"), attemptQuery, nil)
				liven(t, sub, acmeProbe.ID, func() { acme.ping(t, acmeProbe.ID) })
				gev := globex.publish(t, "order.created", map[string]any{}, "")
				globex.waitStatus(t, onlyDelivery(t, gev), "SUCCEEDED")
				aev := acme.publish(t, "order.created", map[string]any{}, "")
				leaked := until(t, sub, aev.ID, acmeProbe.ID)
				if len(leaked) != 0 {
					t.Errorf("admin subscribed as acme received other messages (globex's event %s): %s", gev.ID, leaked)
				}
			})
		})
	}
}

// redactAuth returns init without the key, for messages.
func redactAuth(init map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range init {
		if strings.EqualFold(k, "Authorization") {
			v = "Bearer <key>"
		}
		out[k] = v
	}
	return out
}

// refusedInit opens a websocket, sends connection_init with payload and
// returns how the server closed the connection; it fails the test if the
// server acknowledges it.
func refusedInit(tb testing.TB, baseURL, protocol string, payload any) websocket.CloseError {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{protocol}})
	if err != nil {
		tb.Fatalf("dial %s: %v", protocol, err)
	}
	defer conn.CloseNow()
	init, _ := json.Marshal(payload)
	if err := writeWS(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		tb.Fatalf("connection_init: %v", err)
	}
	for {
		m, err := readWS(ctx, conn)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				tb.Fatalf("%s: connection ended with %v; want a close frame with a code", protocol, err)
			}
			return ce
		}
		if m.Type == "connection_ack" {
			tb.Fatalf("%s: connection_init was acknowledged; want it refused", protocol)
		}
	}
}

// wantRefusedSSE opens an SSE subscription with headers and checks that it
// is refused with the HTTP status and a GraphQL error of code (and field,
// unless empty) whose message contains msg.
func wantRefusedSSE(tb testing.TB, baseURL string, headers map[string]string, status int, code, field, msg string) {
	tb.Helper()
	_, err := trySubscribeWith(baseURL, protoSSE, headers, attemptQuery, nil)
	var se *httpStatusError
	if !errors.As(err, &se) {
		tb.Fatalf("SSE with %v: %v; want HTTP %d", redactAuth(headers), err, status)
	}
	if se.code != status {
		tb.Errorf("SSE with %v: HTTP %d; want %d (body %s)", redactAuth(headers), se.code, status, se.body)
	}
	var body gqlResponse
	if err := json.Unmarshal(se.body, &body); err != nil {
		tb.Fatalf("SSE refusal body %q: %v", se.body, err)
	}
	e := wantError(tb, body, code, field)
	if !strings.Contains(e.Message, msg) {
		tb.Errorf("SSE refusal message %q; want it to contain %q", e.Message, msg)
	}
}

// TestConnectRefusals: websockets that cannot be authenticated, or name an
// owner they may not act on or a malformed one, close with a code and a
// reason saying why; SSE streams are refused with the HTTP status.
func TestConnectRefusals(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	revoked, revokedKey := createKey(t, ts.admin, "acme", "", time.Time{})
	ts.admin.mustDo(t, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": revokedKey.ID}, nil)
	expiredAt := time.Now().Add(-time.Minute)
	expired := ts.newKeyExpiring(t, "acme", model.ApiKeyRoleMember, &expiredAt)
	tooLong := strings.Repeat("o", model.MaxOwnerBytes+1)

	for _, tc := range []struct {
		name    string
		payload map[string]any
		code    websocket.StatusCode
		reason  string // the reason starts with it
	}{
		{"MissingKey", map[string]any{}, 4403, "missing API key: "},
		{"MissingKeyWithOwner", map[string]any{ownerHeader: "acme"}, 4403, "missing API key: "},
		{"WrongKey", map[string]any{"Authorization": "Bearer " + model.NewAPIKeySecret()}, 4403, "invalid or revoked API key"},
		{"RevokedKey", map[string]any{"Authorization": "Bearer " + revoked.key}, 4403, "invalid or revoked API key"},
		{"ExpiredKey", map[string]any{"Authorization": "Bearer " + expired.key}, 4403, "API key expired"},
		{"MemberNamingAnotherOwner", map[string]any{"Authorization": "Bearer " + acme.key, ownerHeader: "globex"}, 4403, "only admin API keys may act as another owner"},
		{"MemberNamingACME", map[string]any{"Authorization": "Bearer " + acme.key, ownerHeader: "ACME"}, 4403, "only admin API keys may act as another owner"},
		{"EmptyOwner", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: ""}, 4400, ownerHeader + " "},
		{"BlankOwner", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: "   "}, 4400, ownerHeader + " "},
		{"TooLongOwner", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: tooLong}, 4400, ownerHeader + " "},
		{"NULOwner", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: "ac\x00me"}, 4400, ownerHeader + " "},
		{"NewlineOwner", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: "acme\r\nX-Evil: 1"}, 4400, ownerHeader + " "},
		{"EscapeOwner", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: "\x1b[2Jacme"}, 4400, ownerHeader + " "},
		{"DELOwner", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: "acme\x7f"}, 4400, ownerHeader + " "},
		{"MemberMalformedOwner", map[string]any{"Authorization": "Bearer " + acme.key, ownerHeader: "\n"}, 4400, ownerHeader + " "},
		{"OwnerNotAString", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: 42}, 4400, ownerHeader + " must be a string"},
		{"TwoOwners", map[string]any{"Authorization": "Bearer " + ts.admin.key, ownerHeader: "acme", "headers": map[string]any{"hookline-owner": "globex"}},
			4400, ownerHeader + " must be sent once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, proto := range []string{protoTransportWS, protoLegacyWS} {
				ce := refusedInit(t, ts.URL, proto, tc.payload)
				if ce.Code != tc.code || !strings.HasPrefix(ce.Reason, tc.reason) {
					t.Errorf("%s: closed with %d %q; want %d and a reason starting %q", proto, ce.Code, ce.Reason, tc.code, tc.reason)
				}
			}
		})
	}

	t.Run("SSE", func(t *testing.T) {
		wantRefusedSSE(t, ts.URL, auth(acme.key, "globex"), http.StatusForbidden, model.CodeForbidden, "", ownerHeader)
		wantRefusedSSE(t, ts.URL, auth(expired.key, ""), http.StatusUnauthorized, model.CodeUnauthenticated, "", "API key expired")
		wantRefusedSSE(t, ts.URL, auth(revoked.key, ""), http.StatusUnauthorized, model.CodeUnauthenticated, "", "invalid or revoked API key")
		for _, owner := range []string{"", "   ", tooLong, "acme\xff"} {
			headers := map[string]string{"Authorization": "Bearer " + ts.admin.key, ownerHeader: owner}
			wantRefusedSSE(t, ts.URL, headers, http.StatusBadRequest, model.CodeBadUserInput, ownerHeader, ownerHeader)
		}
	})

	// Positive controls: the same payloads with a valid owner connect.
	t.Run("Accepted", func(t *testing.T) {
		for _, proto := range subscriptionProtocols {
			for _, init := range []map[string]string{auth(acme.key, "acme"), auth(ts.admin.key, "globex"), auth(ts.admin.key, strings.Repeat("o", model.MaxOwnerBytes))} {
				subscribeWith(t, ts.URL, proto, init, attemptQuery, nil).close()
			}
		}
	})
}

// TestAPIKeyExpiresAt: createApiKey refuses an expiresAt in the past; a key
// with a future one works until then, and is refused from then on with
// UNAUTHENTICATED "API key expired" and HTTP 401.
func TestAPIKeyExpiresAt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		keysBefore := adminKeyIDs(t, ts.admin)
		for name, exp := range map[string]time.Time{
			"MinuteAgo": time.Now().Add(-time.Minute),
			"SecondAgo": time.Now().Add(-time.Second),
			"LastYear":  time.Now().AddDate(-1, 0, 0),
		} {
			t.Run("Err"+name, func(t *testing.T) {
				resp := ts.admin.do(t, createKeyMutation, map[string]any{"owner": "acme", "exp": exp.UTC().Format(time.RFC3339Nano)})
				wantError(t, resp, model.CodeBadUserInput, "expiresAt")
			})
		}
		if got := adminKeyIDs(t, ts.admin); !slices.Equal(got, keysBefore) {
			t.Fatalf("keys after refused createApiKey = %v; want unchanged %v", got, keysBefore)
		}

		exp := time.Now().Add(2 * time.Second).UTC().Truncate(time.Millisecond)
		c, k := createKey(t, ts.admin, "acme", "", exp)
		if k.ExpiresAt == nil || !k.ExpiresAt.Equal(exp) {
			t.Errorf("createApiKey.apiKey.expiresAt = %v; want %v", deref(k.ExpiresAt), exp)
		}
		if got := ownerOf(t, c); got != "acme" {
			t.Fatalf("owner with the new key = %q; want acme", got)
		}
		if time.Now().After(exp) {
			t.Fatal("the key expired before the test could use it; the test is too slow")
		}
		var listed struct {
			APIKeys struct{ Edges []struct{ Node keyJSON } }
		}
		ts.admin.mustDo(t, `{ apiKeys(filter: {owner: "acme"}) { edges { node { `+keyFields+` } } } }`, nil, &listed)
		if len(listed.APIKeys.Edges) != 1 || listed.APIKeys.Edges[0].Node.ExpiresAt == nil || !listed.APIKeys.Edges[0].Node.ExpiresAt.Equal(exp) {
			t.Errorf("apiKeys(acme) = %+v; want the key with expiresAt %v", listed.APIKeys.Edges, exp)
		}

		var refusedAt time.Time
		eventually(t, 10*time.Second, "the key to expire", func() bool {
			status, _, body := authResponse(t, ts.URL, "Bearer "+c.key)
			switch status {
			case http.StatusOK:
				return false
			case http.StatusUnauthorized:
				refusedAt = time.Now()
				return true
			}
			t.Fatalf("status %d (%s) while waiting for the key to expire", status, body)
			return false
		})
		if refusedAt.Before(exp) {
			t.Errorf("the key was refused at %v, before it expired at %v", refusedAt, exp)
		}
		wantUnauthenticated(t, ts.URL, "Bearer "+c.key)
		resp := c.do(t, `{ owner }`, nil)
		wantStatus(t, resp, http.StatusUnauthorized)
		if e := wantError(t, resp, model.CodeUnauthenticated, ""); e.Message != "API key expired" {
			t.Errorf("message = %q; want %q", e.Message, "API key expired")
		}
		// Naming an owner changes nothing.
		resp = c.actingAs("acme").do(t, `{ owner }`, nil)
		wantStatus(t, resp, http.StatusUnauthorized)
		wantError(t, resp, model.CodeUnauthenticated, "")
	})
}

// ownerJSON is an Owner with every field.
type ownerJSON struct {
	Name                  string
	WebhookCount          int
	UnhealthyWebhookCount int
	APIKeyCount           int `json:"apiKeyCount"`
	LastEventAt           *time.Time
}

type ownersPage struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   ownerJSON
	}
	PageInfo struct {
		HasNextPage     bool
		HasPreviousPage bool
		StartCursor     *string
		EndCursor       *string
	}
}

func (p ownersPage) names() []string {
	out := []string{}
	for _, e := range p.Edges {
		out = append(out, e.Node.Name)
	}
	return out
}

func listOwners(tb testing.TB, c *client, vars map[string]any) ownersPage {
	tb.Helper()
	var out struct{ Owners ownersPage }
	c.mustDo(tb, `query($first: Int, $after: String, $filter: OwnerFilter) {
		owners(first: $first, after: $after, filter: $filter) {
			totalCount
			edges { cursor node { name webhookCount unhealthyWebhookCount apiKeyCount lastEventAt } }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		} }`, vars, &out)
	return out.Owners
}

// TestOwners: owners lists every owner with a key or a webhook by name
// (byte order: owners are case-sensitive), a page at a time with the total,
// narrowed by a literal prefix, with each owner's counts and last event;
// only an admin key acting on its own owner may list them.
func TestOwners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			if r.URL.Path == "/down" {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		acme, _ := createKey(t, ts.admin, "acme", "", time.Time{})
		createKey(t, ts.admin, "acme", "", time.Now().AddDate(1, 0, 0))
		_, gone := createKey(t, ts.admin, "acme", "", time.Time{})
		ts.admin.mustDo(t, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": gone.ID}, nil)
		for _, owner := range []string{"acme-cargo", "Acme", "globex", "pct%1", "pctx1"} {
			createKey(t, ts.admin, owner, "", time.Time{})
		}
		// Owners with webhooks only, created by the platform acting on them.
		for _, owner := range []string{"acme_1", "acmex1"} {
			ts.admin.actingAs(owner).createWebhook(t, map[string]any{"url": rc.URL + "/" + owner, "events": []string{"none"}})
		}
		// An owner with events only is no owner to list.
		ts.admin.actingAs("events-only").publish(t, "order.created", map[string]any{}, "")

		acme.createWebhook(t, map[string]any{"url": rc.URL + "/up", "events": []string{"order.created"}})
		down, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/down", "events": []string{"none"}})
		for range 3 {
			acme.ping(t, down.ID)
		}
		if h := acme.getWebhook(t, down.ID).Health; h != "UNHEALTHY" {
			t.Fatalf("webhook after 3 failed pings is %s; want UNHEALTHY", h)
		}
		acme.publish(t, "order.created", map[string]any{"n": 1}, "")
		last := acme.publish(t, "order.created", map[string]any{"n": 2}, "")
		lastAt := acme.eventCreatedAt(t, last.ID)

		all := []string{"Acme", "acme", "acme-cargo", "acme_1", "acmex1", "admin", "globex", "pct%1", "pctx1"}

		t.Run("Paged", func(t *testing.T) {
			var got []string
			var after any
			for page := 0; ; page++ {
				p := listOwners(t, ts.admin, map[string]any{"first": 2, "after": after})
				if p.TotalCount != len(all) {
					t.Errorf("page %d: totalCount %d; want %d", page, p.TotalCount, len(all))
				}
				if p.PageInfo.HasPreviousPage != (page > 0) {
					t.Errorf("page %d: hasPreviousPage %v", page, p.PageInfo.HasPreviousPage)
				}
				got = append(got, p.names()...)
				if len(p.Edges) > 0 && (p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor) {
					t.Errorf("page %d: endCursor %v; want the last edge's", page, deref(p.PageInfo.EndCursor))
				}
				if !p.PageInfo.HasNextPage {
					break
				}
				if page > len(all) {
					t.Fatal("owners pages do not end")
				}
				after = *p.PageInfo.EndCursor
			}
			if !slices.Equal(got, all) {
				t.Errorf("owners, 2 a page = %v; want %v", got, all)
			}
			if p := listOwners(t, ts.admin, nil); !slices.Equal(p.names(), all) || p.PageInfo.HasNextPage {
				t.Errorf("owners = %v (hasNextPage %v); want %v", p.names(), p.PageInfo.HasNextPage, all)
			}
		})

		t.Run("Prefix", func(t *testing.T) {
			for _, tc := range []struct {
				prefix string
				want   []string
			}{
				{"acme", []string{"acme", "acme-cargo", "acme_1", "acmex1"}},
				{"Acme", []string{"Acme"}},
				{"acme_", []string{"acme_1"}},
				{"pct%", []string{"pct%1"}},
				{"acme-cargo", []string{"acme-cargo"}},
				{"zzz", []string{}},
				{"", all},
			} {
				p := listOwners(t, ts.admin, map[string]any{"filter": map[string]any{"prefix": tc.prefix}})
				if !slices.Equal(p.names(), tc.want) || p.TotalCount != len(tc.want) {
					t.Errorf("owners(prefix: %q) = %v (totalCount %d); want %v", tc.prefix, p.names(), p.TotalCount, tc.want)
				}
			}
			p := listOwners(t, ts.admin, map[string]any{"first": 1, "filter": map[string]any{"prefix": "acme"}})
			if !slices.Equal(p.names(), []string{"acme"}) || p.TotalCount != 4 || !p.PageInfo.HasNextPage {
				t.Errorf("owners(first: 1, prefix: acme) = %v (totalCount %d, hasNextPage %v); want [acme], 4, true", p.names(), p.TotalCount, p.PageInfo.HasNextPage)
			}
		})

		t.Run("Counts", func(t *testing.T) {
			byName := map[string]ownerJSON{}
			for _, e := range listOwners(t, ts.admin, map[string]any{"first": 100}).Edges {
				byName[e.Node.Name] = e.Node
			}
			for _, want := range []ownerJSON{
				{Name: "acme", WebhookCount: 2, UnhealthyWebhookCount: 1, APIKeyCount: 2, LastEventAt: &lastAt},
				{Name: "acme-cargo", APIKeyCount: 1},
				{Name: "acme_1", WebhookCount: 1},
				{Name: "admin", APIKeyCount: 1},
			} {
				got, ok := byName[want.Name]
				if !ok {
					t.Errorf("owner %s is not listed", want.Name)
					continue
				}
				gotAt, wantAt := got.LastEventAt, want.LastEventAt
				got.LastEventAt, want.LastEventAt = nil, nil
				if got != want || (gotAt == nil) != (wantAt == nil) || (gotAt != nil && !gotAt.Equal(*wantAt)) {
					t.Errorf("owner %s = %+v, lastEventAt %v; want %+v, lastEventAt %v", want.Name, got, deref(gotAt), want, deref(wantAt))
				}
			}
		})

		t.Run("ErrForbidden", func(t *testing.T) {
			for name, c := range map[string]*client{"member": acme, "admin as acme": ts.admin.actingAs("acme")} {
				resp := c.do(t, `{ owners { totalCount } }`, nil)
				wantError(t, resp, model.CodeForbidden, "")
				if len(resp.Data) != 0 && string(resp.Data) != "null" {
					t.Errorf("%s: data %s with FORBIDDEN", name, resp.Data)
				}
			}
		})
	})
}

const apiKeysPageQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: ApiKeyFilter) {
	apiKeys(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
		totalCount
		edges { cursor node { id } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	}
}`

func listKeys(tb testing.TB, c *client, vars map[string]any) connPage {
	tb.Helper()
	var out struct{ APIKeys connPage }
	c.mustDo(tb, apiKeysPageQuery, vars, &out)
	return out.APIKeys
}

// TestAPIKeys: an admin lists every owner's unrevoked keys or one owner's,
// newest first, a page at a time either way; a member lists only its own
// owner's; lastUsedAt tells when a key was last used.
func TestAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		k1, key1 := createKey(t, ts.admin, "acme", "", time.Time{})
		_, key2 := createKey(t, ts.admin, "acme", "", time.Now().AddDate(0, 6, 0))
		_, key3 := createKey(t, ts.admin, "acme", "", time.Time{})
		_, revoked := createKey(t, ts.admin, "acme", "", time.Time{})
		ts.admin.mustDo(t, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": revoked.ID}, nil)
		globex, gkey := createKey(t, ts.admin, "globex", "", time.Time{})
		acmeNewestFirst := []string{key3.ID, key2.ID, key1.ID}

		t.Run("Admin", func(t *testing.T) {
			p := listKeys(t, ts.admin, map[string]any{"first": 100})
			if want := sorted(ts.admin.keyID, key1.ID, key2.ID, key3.ID, gkey.ID); !slices.Equal(sorted(p.ids()...), want) || p.TotalCount != len(want) {
				t.Errorf("admin: apiKeys = %v (totalCount %d); want %v", p.ids(), p.TotalCount, want)
			}
			p = listKeys(t, ts.admin, map[string]any{"filter": map[string]any{"owner": "acme"}})
			if !slices.Equal(p.ids(), acmeNewestFirst) || p.TotalCount != 3 {
				t.Errorf("admin: apiKeys(owner: acme) = %v (totalCount %d); want %v", p.ids(), p.TotalCount, acmeNewestFirst)
			}
			p = listKeys(t, ts.admin, map[string]any{"filter": map[string]any{"owner": "nobody"}})
			if len(p.ids()) != 0 || p.TotalCount != 0 {
				t.Errorf("admin: apiKeys(owner: nobody) = %v; want none", p.ids())
			}
		})

		t.Run("Paged", func(t *testing.T) {
			acme := map[string]any{"owner": "acme"}
			p := listKeys(t, ts.admin, map[string]any{"first": 2, "filter": acme})
			if !slices.Equal(p.ids(), acmeNewestFirst[:2]) || !p.PageInfo.HasNextPage || p.TotalCount != 3 {
				t.Fatalf("first 2 = %v (hasNextPage %v, totalCount %d); want %v", p.ids(), p.PageInfo.HasNextPage, p.TotalCount, acmeNewestFirst[:2])
			}
			p = listKeys(t, ts.admin, map[string]any{"first": 2, "after": *p.PageInfo.EndCursor, "filter": acme})
			if !slices.Equal(p.ids(), acmeNewestFirst[2:]) || p.PageInfo.HasNextPage {
				t.Errorf("next 2 = %v (hasNextPage %v); want %v", p.ids(), p.PageInfo.HasNextPage, acmeNewestFirst[2:])
			}
			p = listKeys(t, ts.admin, map[string]any{"last": 1, "filter": acme})
			if !slices.Equal(p.ids(), acmeNewestFirst[2:]) || !p.PageInfo.HasPreviousPage {
				t.Errorf("last 1 = %v (hasPreviousPage %v); want %v", p.ids(), p.PageInfo.HasPreviousPage, acmeNewestFirst[2:])
			}
			p = listKeys(t, ts.admin, map[string]any{"last": 2, "before": *p.PageInfo.StartCursor, "filter": acme})
			if !slices.Equal(p.ids(), acmeNewestFirst[:2]) || p.PageInfo.HasPreviousPage {
				t.Errorf("2 before the oldest = %v (hasPreviousPage %v); want %v", p.ids(), p.PageInfo.HasPreviousPage, acmeNewestFirst[:2])
			}
		})

		t.Run("Member", func(t *testing.T) {
			for _, vars := range []map[string]any{nil, {"filter": map[string]any{"owner": "acme"}}} {
				p := listKeys(t, k1, vars)
				if !slices.Equal(p.ids(), acmeNewestFirst) || p.TotalCount != 3 {
					t.Errorf("acme member: apiKeys(%v) = %v (totalCount %d); want %v", vars, p.ids(), p.TotalCount, acmeNewestFirst)
				}
			}
			for _, other := range []string{"globex", "admin", "ACME", ""} {
				resp := k1.do(t, apiKeysPageQuery, map[string]any{"filter": map[string]any{"owner": other}})
				wantError(t, resp, model.CodeForbidden, "")
			}
			if p := listKeys(t, globex, nil); !slices.Equal(p.ids(), []string{gkey.ID}) {
				t.Errorf("globex member: apiKeys = %v; want [%s]", p.ids(), gkey.ID)
			}
		})

		t.Run("LastUsedAtAndExpiresAt", func(t *testing.T) {
			keys := func() map[string]keyJSON {
				var out struct {
					APIKeys struct{ Edges []struct{ Node keyJSON } }
				}
				ts.admin.mustDo(t, `{ apiKeys(first: 100, filter: {owner: "acme"}) { edges { node { `+keyFields+` } } } }`, nil, &out)
				m := map[string]keyJSON{}
				for _, e := range out.APIKeys.Edges {
					m[e.Node.ID] = e.Node
				}
				return m
			}
			// key3 was never used; key1 was, by the Member subtest.
			got := keys()
			if k := got[key3.ID]; k.LastUsedAt != nil {
				t.Errorf("unused key: lastUsedAt = %v; want null", *k.LastUsedAt)
			}
			if k := got[key2.ID]; k.ExpiresAt == nil || !k.ExpiresAt.Equal(*key2.ExpiresAt) || got[key1.ID].ExpiresAt != nil {
				t.Errorf("expiresAt: key2 %v, key1 %v; want %v and null", deref(k.ExpiresAt), deref(got[key1.ID].ExpiresAt), deref(key2.ExpiresAt))
			}
			k1.mustDo(t, `{ owner }`, nil, nil)
			k := keys()[key1.ID]
			if k.LastUsedAt == nil || k.LastUsedAt.Before(key1.CreatedAt.Add(-time.Second)) || k.LastUsedAt.After(time.Now().Add(time.Second)) {
				t.Errorf("used key: lastUsedAt = %v; want between its creation %v and now", deref(k.LastUsedAt), key1.CreatedAt)
			}
		})
	})
}

const broadcastMutation = `mutation($in: PublishEventInput!) { broadcastEvent(input: $in) { ownerCount deliveryCount } }`

type broadcastResult struct{ OwnerCount, DeliveryCount int }

func broadcast(tb testing.TB, admin *client, typ string, payload map[string]any, idempotencyKey string) broadcastResult {
	tb.Helper()
	in := map[string]any{"type": typ, "payload": payload}
	if idempotencyKey != "" {
		in["idempotencyKey"] = idempotencyKey
	}
	var out struct{ BroadcastEvent broadcastResult }
	admin.mustDo(tb, broadcastMutation, map[string]any{"in": in}, &out)
	return out.BroadcastEvent
}

// TestBroadcastEvent: a broadcast publishes one event to each owner with an
// enabled webhook of the type whose filters match, with that owner's
// deliveries, and nothing to any other owner; an idempotency key returns
// the first result and publishes nothing for 24 hours (with another
// payload it is CONFLICT); only an admin key
// acting on its own owner may broadcast.
func TestBroadcastEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := newURL(t)
		if url == "sqlite://:memory:" {
			url = "sqlite://" + filepath.Join(t.TempDir(), "hookline.db")
		}
		ts := newTestServer(t, url)
		rc := newReceiver(t, nil)
		const typ = "shipment.departed"

		if got := broadcast(t, ts.admin, typ, map[string]any{"depot": "FRA"}, ""); got != (broadcastResult{}) {
			t.Fatalf("broadcast without any webhook = %+v; want 0 owners, 0 deliveries", got)
		}

		as := func(owner string) *client { return ts.admin.actingAs(owner) }
		hook := func(owner, path string, in map[string]any) string {
			in["url"] = rc.URL + path
			w, _ := as(owner).createWebhook(t, in)
			return w.ID
		}
		a1 := hook("partner-a", "/a1", map[string]any{"events": []string{typ}})
		a2 := hook("partner-a", "/a2", map[string]any{"events": []string{"*"}})
		a3 := hook("partner-a", "/a3", map[string]any{"events": []string{typ, "*"}}) // one delivery, not two
		b1 := hook("partner-b", "/b1", map[string]any{"events": []string{typ}, "filters": map[string]any{"depot": []string{"FRA", "CDG"}}})
		hook("partner-b", "/b-other", map[string]any{"events": []string{"shipment.arrived"}})
		hook("partner-c", "/c1", map[string]any{"events": []string{typ}, "filters": map[string]any{"depot": []string{"MUC"}}})
		d1 := hook("partner-d", "/d1", map[string]any{"events": []string{typ}})
		as("partner-d").mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": d1}, nil)
		hook("partner-e", "/e1", map[string]any{"events": []string{"shipment.arrived"}})
		member, _ := createKey(t, ts.admin, "partner-a", "", time.Time{})

		t.Run("ErrForbidden", func(t *testing.T) {
			for name, c := range map[string]*client{"member": member, "admin as partner-a": as("partner-a")} {
				resp := c.do(t, broadcastMutation, map[string]any{"in": map[string]any{"type": typ, "payload": map[string]any{"depot": "FRA"}}})
				wantError(t, resp, model.CodeForbidden, "")
				if len(resp.Data) != 0 && string(resp.Data) != "null" {
					t.Errorf("%s: data %s with FORBIDDEN", name, resp.Data)
				}
			}
			for _, p := range []string{"partner-a", "partner-b", "partner-c"} {
				if n := as(p).totalCount(t, "events"); n != 0 {
					t.Errorf("%s has %d events after refused broadcasts; want 0", p, n)
				}
			}
		})

		t.Run("ErrInput", func(t *testing.T) {
			for _, tc := range []struct {
				field string
				in    map[string]any
			}{
				{"type", map[string]any{"type": "", "payload": map[string]any{}}},
				{"type", map[string]any{"type": "*", "payload": map[string]any{}}},
				{"payload", map[string]any{"type": typ, "payload": []any{1}}},
				{"idempotencyKey", map[string]any{"type": typ, "payload": map[string]any{}, "idempotencyKey": ""}},
			} {
				wantError(t, ts.admin.do(t, broadcastMutation, map[string]any{"in": tc.in}), model.CodeBadUserInput, tc.field)
			}
		})

		first := broadcast(t, ts.admin, typ, map[string]any{"depot": "FRA"}, "dep-fra-1")
		if want := (broadcastResult{OwnerCount: 2, DeliveryCount: 4}); first != want {
			t.Fatalf("broadcast = %+v; want %+v (partner-a: 3 webhooks, partner-b: 1)", first, want)
		}

		wantEvents := func(t *testing.T, owner string, n int) []ownerEvent {
			t.Helper()
			evs := eventsOf(t, as(owner))
			if len(evs) != n {
				t.Fatalf("%s has %d events; want %d", owner, len(evs), n)
			}
			return evs
		}
		deliveredTo := func(ev ownerEvent) []string {
			var ids []string
			for _, e := range ev.Deliveries.Edges {
				ids = append(ids, e.Node.WebhookID)
			}
			return sorted(ids...)
		}
		ea := wantEvents(t, "partner-a", 1)[0]
		eb := wantEvents(t, "partner-b", 1)[0]
		for _, p := range []string{"partner-c", "partner-d", "partner-e", "admin"} {
			wantEvents(t, p, 0)
		}
		if ea.ID == eb.ID {
			t.Errorf("partners a and b share the event %s; want one each", ea.ID)
		}
		for _, ev := range []ownerEvent{ea, eb} {
			if ev.Type != typ || ev.Payload["depot"] != "FRA" {
				t.Errorf("broadcast event %s = %s %v; want %s with depot FRA", ev.ID, ev.Type, ev.Payload, typ)
			}
		}
		if got, want := deliveredTo(ea), sorted(a1, a2, a3); !slices.Equal(got, want) {
			t.Errorf("partner-a's event delivers to %v; want %v", got, want)
		}
		if got := deliveredTo(eb); !slices.Equal(got, []string{b1}) {
			t.Errorf("partner-b's event delivers to %v; want [%s]", got, b1)
		}
		// The member key of partner-a sees its event too.
		if evs := eventsOf(t, member); len(evs) != 1 || evs[0].ID != ea.ID {
			t.Errorf("partner-a's member key sees events %+v; want [%s]", evs, ea.ID)
		}
		for path, evID := range map[string]string{"/a1": ea.ID, "/a2": ea.ID, "/a3": ea.ID, "/b1": eb.ID} {
			eventually(t, 10*time.Second, "the broadcast's request to "+path, func() bool { return rc.count(path) == 1 })
			if got := rc.requests(path)[0].Header.Get("webhook-id"); got != evID {
				t.Errorf("%s got webhook-id %s; want its owner's event %s", path, got, evID)
			}
		}
		for _, ev := range []ownerEvent{ea, eb} {
			for _, d := range ev.Deliveries.Edges {
				ts.admin.actingAs(map[string]string{ea.ID: "partner-a", eb.ID: "partner-b"}[ev.ID]).waitStatus(t, d.Node.ID, "SUCCEEDED")
			}
		}
		for _, path := range []string{"/b-other", "/c1", "/d1", "/e1"} {
			if n := rc.count(path); n != 0 {
				t.Errorf("%s got %d requests; want none: its webhook does not match", path, n)
			}
		}

		t.Run("Idempotent", func(t *testing.T) {
			// The same key and payload: the first result, nothing new.
			again := broadcast(t, ts.admin, typ, map[string]any{"depot": "FRA"}, "dep-fra-1")
			if again != first {
				t.Errorf("broadcast with the same key = %+v; want the first result %+v", again, first)
			}
			// The same key, another payload: refused, nothing new.
			resp := ts.admin.do(t, broadcastMutation, map[string]any{"in": map[string]any{"type": typ, "payload": map[string]any{"depot": "MUC"}, "idempotencyKey": "dep-fra-1"}})
			wantError(t, resp, model.CodeConflict, "idempotencyKey")
			wantEvents(t, "partner-a", 1)
			wantEvents(t, "partner-b", 1)
			wantEvents(t, "partner-c", 0)
			// The key is the broadcast's, not the partners' events': partner-a
			// publishing with it gets an event of its own.
			own := member.publish(t, typ, map[string]any{"depot": "HAM"}, "dep-fra-1")
			if own.ID == ea.ID || own.Deliveries.TotalCount != 3 {
				t.Errorf("partner-a publishing with the broadcast's key = event %s with %d deliveries; want a new event with 3", own.ID, own.Deliveries.TotalCount)
			}
			// Another key broadcasts anew: MUC matches partner-a (no filters) and partner-c.
			if got := broadcast(t, ts.admin, typ, map[string]any{"depot": "MUC"}, "dep-muc-1"); got != (broadcastResult{OwnerCount: 2, DeliveryCount: 4}) {
				t.Errorf("broadcast with another key = %+v; want 2 owners, 4 deliveries", got)
			}
			wantEvents(t, "partner-a", 3)
			wantEvents(t, "partner-b", 1)
			if evs := wantEvents(t, "partner-c", 1); evs[0].Payload["depot"] != "MUC" || len(evs[0].Deliveries.Edges) != 1 {
				t.Errorf("partner-c's event = %+v; want the MUC broadcast with one delivery", evs[0])
			}
		})

		t.Run("WindowExpires", func(t *testing.T) {
			db := rawDB(t, url)
			moveBack := func(age time.Duration) {
				t.Helper()
				res, err := db.Exec("UPDATE broadcasts SET created_at = ? WHERE dedup_key = ?", time.Now().UTC().Add(-age), "dep-fra-1")
				if err != nil {
					t.Fatalf("move the broadcast back: %v", err)
				}
				if n, _ := res.RowsAffected(); n != 1 {
					t.Fatalf("UPDATE broadcasts changed %d rows; want 1", n)
				}
			}
			moveBack(23 * time.Hour)
			if got := broadcast(t, ts.admin, typ, map[string]any{"depot": "FRA"}, "dep-fra-1"); got != first {
				t.Errorf("the same key 23h later = %+v; want the first result %+v", got, first)
			}
			wantEvents(t, "partner-b", 1)
			moveBack(25 * time.Hour)
			if got := broadcast(t, ts.admin, typ, map[string]any{"depot": "CDG"}, "dep-fra-1"); got != (broadcastResult{OwnerCount: 2, DeliveryCount: 4}) {
				t.Errorf("the same key 25h later = %+v; want a new broadcast to 2 owners, 4 deliveries", got)
			}
			if evs := wantEvents(t, "partner-b", 2); evs[0].Payload["depot"] != "CDG" {
				t.Errorf("partner-b's newest event = %v; want the CDG broadcast", evs[0].Payload)
			}
			// The key now belongs to the new broadcast.
			if got := broadcast(t, ts.admin, typ, map[string]any{"depot": "CDG"}, "dep-fra-1"); got != (broadcastResult{OwnerCount: 2, DeliveryCount: 4}) {
				t.Errorf("the key after the renewal = %+v", got)
			}
			wantEvents(t, "partner-b", 2)
		})
	})
}

// TestPlatformFlow is the platform's day, end to end: the admin creates a
// key for each partner; a partner registers its webhook with its own key;
// the platform publishes for a partner (Hookline-Owner) and the partner's
// receiver gets the signed delivery; a broadcast reaches exactly the
// partners whose webhooks match; the operator's lists show it all.
func TestPlatformFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		platform := ts.admin
		year := time.Now().AddDate(1, 0, 0).UTC().Truncate(time.Second)

		// 1. A key for each partner, valid for a year.
		acme, acmeKey := createKey(t, platform, "acme-cargo", "", year)
		globex, _ := createKey(t, platform, "globex-freight", "", year)
		initech, _ := createKey(t, platform, "initech-logistics", "", year)
		if acmeKey.Role != "MEMBER" || acmeKey.ExpiresAt == nil || !acmeKey.ExpiresAt.Equal(year) {
			t.Errorf("partner key = %+v; want a MEMBER key expiring %v", acmeKey, year)
		}

		// 2. Each partner registers its webhook with its own key.
		acmeHook, acmeSecret := acme.createWebhook(t, map[string]any{"url": rc.URL + "/acme", "events": []string{"FWB", "DEP"}})
		globexHook, _ := globex.createWebhook(t, map[string]any{"url": rc.URL + "/globex", "events": []string{"DEP"}, "filters": map[string]any{"depot": []string{"FRA"}}})
		initech.createWebhook(t, map[string]any{"url": rc.URL + "/initech", "events": []string{"DEP"}, "filters": map[string]any{"depot": []string{"MUC"}}})

		// 3. The platform publishes acme-cargo's event.
		ev := platform.actingAs("acme-cargo").publish(t, "DEP", map[string]any{"awb": "125-12345675"}, "")
		dlv := onlyDelivery(t, ev)
		if ev.Deliveries.Edges[0].Node.WebhookID != acmeHook.ID {
			t.Fatalf("the event's delivery goes to %s; want acme-cargo's webhook %s", ev.Deliveries.Edges[0].Node.WebhookID, acmeHook.ID)
		}
		eventually(t, 10*time.Second, "acme-cargo's receiver to get the event", func() bool { return rc.count("/acme") == 1 })
		got := rc.requests("/acme")[0]
		if err := verifySignature(t, acmeSecret, got); err != nil {
			t.Errorf("acme-cargo cannot verify the delivery with its secret: %v", err)
		}
		if got.Header.Get("webhook-id") != ev.ID || !strings.Contains(string(got.Body), "125-12345675") {
			t.Errorf("acme-cargo received webhook-id %s, body %s; want event %s with the awb", got.Header.Get("webhook-id"), got.Body, ev.ID)
		}
		// The partner sees the event and the delivery with its own key.
		acme.waitStatus(t, dlv, "SUCCEEDED")
		if evs := eventsOf(t, acme); len(evs) != 1 || evs[0].ID != ev.ID {
			t.Errorf("acme-cargo's events = %+v; want [%s]", evs, ev.ID)
		}
		for name, c := range map[string]*client{"globex-freight": globex, "initech-logistics": initech, "the platform": platform} {
			if n := c.totalCount(t, "events"); n != 0 {
				t.Errorf("%s has %d events after acme-cargo's; want 0", name, n)
			}
		}

		// 4. A broadcast to every partner whose webhooks match.
		res := broadcast(t, platform, "DEP", map[string]any{"depot": "FRA"}, "dep-fra-1")
		if want := (broadcastResult{OwnerCount: 2, DeliveryCount: 2}); res != want {
			t.Fatalf("broadcast = %+v; want %+v (acme-cargo and globex-freight)", res, want)
		}
		eventually(t, 10*time.Second, "the broadcast's deliveries", func() bool { return rc.count("/acme") == 2 && rc.count("/globex") == 1 })
		acmeEvents, globexEvents := eventsOf(t, acme), eventsOf(t, globex)
		if len(acmeEvents) != 2 || acmeEvents[0].Type != "DEP" || acmeEvents[0].Payload["depot"] != "FRA" {
			t.Errorf("acme-cargo's events = %+v; want the broadcast, then its own", acmeEvents)
		}
		if len(globexEvents) != 1 || globexEvents[0].Deliveries.TotalCount != 1 || globexEvents[0].Deliveries.Edges[0].Node.WebhookID != globexHook.ID {
			t.Errorf("globex-freight's events = %+v; want the broadcast with a delivery to %s", globexEvents, globexHook.ID)
		}
		if n := initech.totalCount(t, "events"); n != 0 || rc.count("/initech") != 0 {
			t.Errorf("initech-logistics (depot MUC) has %d events and %d requests; want none", n, rc.count("/initech"))
		}
		for _, d := range globexEvents[0].Deliveries.Edges {
			globex.waitStatus(t, d.Node.ID, "SUCCEEDED")
		}

		// The operator's view.
		p := listOwners(t, platform, map[string]any{"filter": map[string]any{"prefix": "acme-"}})
		if len(p.Edges) != 1 {
			t.Fatalf("owners(prefix: acme-) = %v; want acme-cargo", p.names())
		}
		o := p.Edges[0].Node
		if o.Name != "acme-cargo" || o.WebhookCount != 1 || o.APIKeyCount != 1 || o.LastEventAt == nil || !o.LastEventAt.Equal(acmeEvents[0].CreatedAt) {
			t.Errorf("owner acme-cargo = %+v, lastEventAt %v; want 1 webhook, 1 key, last event at %v", o, deref(o.LastEventAt), acmeEvents[0].CreatedAt)
		}
		var keys struct {
			APIKeys struct{ Edges []struct{ Node keyJSON } }
		}
		platform.mustDo(t, `{ apiKeys(filter: {owner: "acme-cargo"}) { edges { node { `+keyFields+` } } } }`, nil, &keys)
		if len(keys.APIKeys.Edges) != 1 || keys.APIKeys.Edges[0].Node.LastUsedAt == nil {
			t.Errorf("acme-cargo's keys = %+v; want its one key, used", keys.APIKeys.Edges)
		}
	})
}

// auditLine matches one attribute of a slog text line.
var auditAttr = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`)

// auditLines returns the attributes of each "mutation" line of the log.
func auditLines(log string) []map[string]string {
	var out []map[string]string
	for line := range strings.Lines(log) {
		attrs := map[string]string{}
		for _, m := range auditAttr.FindAllStringSubmatch(line, -1) {
			v := m[2]
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			attrs[m[1]] = v
		}
		if attrs["msg"] == "mutation" {
			out = append(out, attrs)
		}
	}
	return out
}

// TestAuditLog: every mutation, over HTTP or a websocket, is logged at info
// with the key's ID, the owner acted on, the operation and its root fields,
// and the outcome; no API key appears in the log.
func TestAuditLog(t *testing.T) {
	logs := &syncBuffer{}
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), logs: logs, logLevel: slog.LevelInfo})
	rc := newReceiver(t, nil)
	acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)

	var made struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	ts.admin.actingAs("acme").mustDo(t, `mutation PlatformHook($url: String!) { createWebhook(input: {url: $url, events: ["*"]}) { webhook { id } } }`,
		map[string]any{"url": rc.URL + "/audit"}, &made)
	acme.mustDo(t, `mutation TwoFields($id: ID!) { publishEvent(input: {type: "audit.test", payload: {}}) { id } updateWebhook(id: $id, input: {description: "d"}) { id } }`,
		map[string]any{"id": made.CreateWebhook.Webhook.ID}, nil)
	wantError(t, acme.do(t, `mutation Escalate { createApiKey(owner: "acme", role: ADMIN) { key } }`, nil), model.CodeForbidden, "")
	var created struct{ CreateApiKey struct{ Key string } }
	ts.admin.mustDo(t, `mutation NewPartnerKey { createApiKey(owner: "globex") { key } }`, nil, &created)
	for _, proto := range []string{protoTransportWS, protoLegacyWS} {
		sub := subscribeWith(t, ts.URL, proto, auth(ts.admin.key, "globex"),
			`mutation OverWebsocket { createWebhook(input: {url: "https://globex.example", events: ["*"]}) { webhook { id } } }`, nil)
		var out json.RawMessage
		sub.receive(t, &out)
	}

	want := map[string][]map[string]string{
		"PlatformHook":  {{"key": ts.admin.keyID, "owner": "acme", "fields": "createWebhook", "outcome": "ok"}},
		"TwoFields":     {{"key": acme.keyID, "owner": "acme", "fields": "publishEvent,updateWebhook", "outcome": "ok"}},
		"Escalate":      {{"key": acme.keyID, "owner": "acme", "fields": "createApiKey", "outcome": "error"}},
		"NewPartnerKey": {{"key": ts.admin.keyID, "owner": "admin", "fields": "createApiKey", "outcome": "ok"}},
		"OverWebsocket": {
			{"key": ts.admin.keyID, "owner": "globex", "fields": "createWebhook", "outcome": "ok"},
			{"key": ts.admin.keyID, "owner": "globex", "fields": "createWebhook", "outcome": "ok"},
		},
	}
	got := map[string][]map[string]string{}
	for _, attrs := range auditLines(logs.String()) {
		got[attrs["operation"]] = append(got[attrs["operation"]], attrs)
	}
	for op, lines := range want {
		if len(got[op]) != len(lines) {
			t.Errorf("operation %s: %d audit lines; want %d", op, len(got[op]), len(lines))
			continue
		}
		for i, w := range lines {
			g := got[op][i]
			if g["level"] != "INFO" {
				t.Errorf("operation %s: level %s; want INFO", op, g["level"])
			}
			for k, v := range w {
				if g[k] != v {
					t.Errorf("operation %s: %s=%q; want %q (line %v)", op, k, g[k], v, g)
				}
			}
		}
	}
	log := logs.String()
	for name, secret := range map[string]string{"admin key": ts.admin.key, "member key": acme.key, "created key": created.CreateApiKey.Key} {
		if secret == "" {
			t.Fatalf("no %s to look for", name)
		}
		if strings.Contains(log, secret) || strings.Contains(log, strings.TrimPrefix(secret, model.APIKeyPrefix)) {
			t.Errorf("the log contains the %s", name)
		}
	}
}
