package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

func TestTenancyWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)

		wa, _ := acme.createWebhook(t, map[string]any{"url": "https://acme.example/hooks", "events": []string{"order.created", "order.paid"}, "description": "acme's"})
		wg, _ := globex.createWebhook(t, map[string]any{"url": "https://globex.example/hooks", "events": []string{"*"}})
		// Positive control: the owner sees its webhook.
		if got := acme.getWebhook(t, wa.ID); !reflect.DeepEqual(got, wa) {
			t.Fatalf("acme's webhook as seen by acme = %+v; want %+v", got, wa)
		}

		t.Run("WebhookIsNull", func(t *testing.T) {
			var out struct{ Webhook *webhookJSON }
			globex.mustDo(t, `query($id: ID!) { webhook(id: $id) { id url } }`, map[string]any{"id": wa.ID}, &out)
			if out.Webhook != nil {
				t.Errorf("globex: webhook(acme's id) = %+v; want null", out.Webhook)
			}
		})

		t.Run("NodeIsNull", func(t *testing.T) {
			var out struct{ Node *webhookJSON }
			globex.mustDo(t, `query($id: ID!) { node(id: $id) { id ... on Webhook { url } } }`, map[string]any{"id": wa.ID}, &out)
			if out.Node != nil {
				t.Errorf("globex: node(acme's webhook id) = %+v; want null", out.Node)
			}
			acme.mustDo(t, `query($id: ID!) { node(id: $id) { id ... on Webhook { url } } }`, map[string]any{"id": wa.ID}, &out)
			if out.Node == nil || out.Node.ID != wa.ID {
				t.Errorf("acme: node(own webhook id) = %+v; want the webhook", out.Node)
			}
		})

		t.Run("ListExcludes", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				c    *client
				want []string
			}{
				{"globex", globex, []string{wg.ID}},
				{"acme", acme, []string{wa.ID}},
				{"admin", ts.admin, []string{}},
			} {
				p := tc.c.listWebhooks(t, map[string]any{"first": 100})
				if !slices.Equal(p.ids(), tc.want) || p.TotalCount != len(tc.want) {
					t.Errorf("%s: webhooks = %v (totalCount %d); want %v (%d)", tc.name, p.ids(), p.TotalCount, tc.want, len(tc.want))
				}
				// Both webhooks match this filter; each owner still sees only its own.
				p = tc.c.listWebhooks(t, map[string]any{"filter": map[string]any{"event": "order.created"}})
				if !slices.Equal(p.ids(), tc.want) || p.TotalCount != len(tc.want) {
					t.Errorf("%s: webhooks(filter: {event: order.created}) = %v (totalCount %d); want %v (%d)",
						tc.name, p.ids(), p.TotalCount, tc.want, len(tc.want))
				}
			}
		})

		for _, tc := range []struct {
			name     string
			mutation string
		}{
			{"UpdateWebhook", `mutation($id: ID!) { updateWebhook(id: $id, input: {url: "https://evil.example", enabled: false}) { id } }`},
			{"RemoveWebhookEvents", `mutation($id: ID!) { removeWebhookEvents(id: $id, events: ["order.paid"]) { id } }`},
			{"RotateWebhookSecret", `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`},
			{"DeleteWebhook", `mutation($id: ID!) { deleteWebhook(id: $id) }`},
		} {
			t.Run(tc.name+"IsNotFound", func(t *testing.T) {
				resp := globex.do(t, tc.mutation, map[string]any{"id": wa.ID})
				e := wantError(t, resp, model.CodeNotFound, "")
				if strings.Contains(e.Message, "acme") {
					t.Errorf("error message %q names the other owner", e.Message)
				}
				if got := acme.getWebhook(t, wa.ID); !reflect.DeepEqual(got, wa) {
					t.Errorf("acme's webhook after globex's %s = %+v; want unchanged %+v", tc.name, got, wa)
				}
				// The same mutation on an ID that does not exist answers alike.
				resp = globex.do(t, tc.mutation, map[string]any{"id": model.NewID(model.PrefixWebhook)})
				wantError(t, resp, model.CodeNotFound, "")
			})
		}
	})
}

// authResponse sends a GraphQL request with the raw Authorization header
// (none when empty) and returns the status, headers and body.
func authResponse(tb testing.TB, url, authorization string) (int, http.Header, []byte) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// wantUnauthenticated asserts a 401 whose body is exactly
// {"errors":[{"message":..., "extensions":{"code":"UNAUTHENTICATED"}}]}.
func wantUnauthenticated(tb testing.TB, url, authorization string) {
	tb.Helper()
	status, hdr, body := authResponse(tb, url, authorization)
	if status != http.StatusUnauthorized {
		tb.Errorf("Authorization %q: status = %d; want 401 (body %s)", authorization, status, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Authorization %q: Content-Type = %q; want application/json", authorization, ct)
	}
	if hdr.Get("WWW-Authenticate") == "" {
		tb.Errorf("Authorization %q: no WWW-Authenticate header on a 401", authorization)
	}
	var got struct {
		Errors []map[string]json.RawMessage `json:"errors"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || json.Unmarshal(body, &got) != nil {
		tb.Fatalf("Authorization %q: body %s is not JSON: %v", authorization, body, err)
	}
	if len(top) != 1 || top["errors"] == nil || len(got.Errors) != 1 {
		tb.Fatalf("Authorization %q: body = %s; want {\"errors\":[one error]}", authorization, body)
	}
	e := got.Errors[0]
	var msg string
	if len(e) != 2 || json.Unmarshal(e["message"], &msg) != nil || msg == "" {
		tb.Errorf("Authorization %q: error = %s; want exactly a message and extensions", authorization, body)
	}
	var ext map[string]any
	json.Unmarshal(e["extensions"], &ext)
	if want := map[string]any{"code": model.CodeUnauthenticated}; !reflect.DeepEqual(ext, want) {
		tb.Errorf("Authorization %q: extensions = %v; want %v", authorization, ext, want)
	}
}

type apiKeyJSON struct {
	ID    string
	Owner string
	Name  *string
	Role  string
}

func TestTenancyAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		wa, _ := acme.createWebhook(t, map[string]any{"url": "https://acme.example/hooks", "events": []string{"*"}})

		const createKey = `mutation($owner: String!, $name: String, $role: ApiKeyRole) {
			createApiKey(owner: $owner, name: $name, role: $role) { key apiKey { id owner name role } } }`
		type createKeyOut struct {
			CreateApiKey struct {
				Key    string
				APIKey apiKeyJSON
			}
		}
		const revokeKey = `mutation($id: ID!) { revokeApiKey(id: $id) }`
		me := func(t *testing.T, c *client) apiKeyJSON {
			t.Helper()
			var out struct{ Me apiKeyJSON }
			c.mustDo(t, `{ me { id owner name role } }`, nil, &out)
			return out.Me
		}

		t.Run("ErrMemberCreateAPIKeyForbidden", func(t *testing.T) {
			resp := acme.do(t, createKey, map[string]any{"owner": "acme"})
			wantError(t, resp, model.CodeForbidden, "")
			resp = acme.do(t, createKey, map[string]any{"owner": "acme", "role": "ADMIN"})
			wantError(t, resp, model.CodeForbidden, "")
		})

		t.Run("ErrMemberRevokeAPIKeyForbidden", func(t *testing.T) {
			for _, id := range []string{globex.keyID, ts.admin.keyID, acme.keyID} {
				resp := acme.do(t, revokeKey, map[string]any{"id": id})
				wantError(t, resp, model.CodeForbidden, "")
			}
			if got := me(t, globex); got.ID != globex.keyID {
				t.Errorf("globex key after a member tried to revoke it: me.id = %q; want %q", got.ID, globex.keyID)
			}
		})

		t.Run("AdminCreatesAndRevokesKey", func(t *testing.T) {
			var out createKeyOut
			ts.admin.mustDo(t, createKey, map[string]any{"owner": "acme", "name": "acme ci"}, &out)
			created := out.CreateApiKey
			if !strings.HasPrefix(created.Key, model.APIKeyPrefix) || !model.ValidID(created.APIKey.ID, model.PrefixAPIKey) {
				t.Errorf("createApiKey = key %q, id %q; want an hkl_ key and a key_ ID", created.Key, created.APIKey.ID)
			}
			if created.APIKey.Owner != "acme" || created.APIKey.Role != "MEMBER" || created.APIKey.Name == nil || *created.APIKey.Name != "acme ci" {
				t.Errorf("createApiKey.apiKey = %+v; want owner acme, role MEMBER, name acme ci", created.APIKey)
			}
			ci := &client{url: ts.URL + "/graphql", key: created.Key, keyID: created.APIKey.ID}
			if got := me(t, ci); got.ID != created.APIKey.ID || got.Owner != "acme" || got.Role != "MEMBER" {
				t.Errorf("me with the new key = %+v; want id %s, owner acme, role MEMBER", got, created.APIKey.ID)
			}
			// Tenancy is by owner: the new key sees the webhook another acme key created.
			if p := ci.listWebhooks(t, nil); !slices.Equal(p.ids(), []string{wa.ID}) {
				t.Errorf("webhooks with the new acme key = %v; want [%s]", p.ids(), wa.ID)
			}

			var revoked struct{ RevokeApiKey string }
			ts.admin.mustDo(t, revokeKey, map[string]any{"id": created.APIKey.ID}, &revoked)
			if revoked.RevokeApiKey != created.APIKey.ID {
				t.Errorf("revokeApiKey = %q; want %q", revoked.RevokeApiKey, created.APIKey.ID)
			}
			wantUnauthenticated(t, ts.URL, "Bearer "+created.Key)
			if got := me(t, acme); got.ID != acme.keyID {
				t.Errorf("acme's other key after the revocation: me.id = %q; want %q", got.ID, acme.keyID)
			}
			wantError(t, ts.admin.do(t, revokeKey, map[string]any{"id": created.APIKey.ID}), model.CodeNotFound, "")
		})

		t.Run("ErrRevokeLastAdminKey", func(t *testing.T) {
			resp := ts.admin.do(t, revokeKey, map[string]any{"id": ts.admin.keyID})
			wantError(t, resp, model.CodeBadUserInput, "id")
			if got := me(t, ts.admin); got.Role != "ADMIN" {
				t.Fatalf("admin after refused revocation: me.role = %q; want ADMIN", got.Role)
			}

			// With a second admin key the first can go, and then the second is the last.
			var out createKeyOut
			ts.admin.mustDo(t, createKey, map[string]any{"owner": "admin", "role": "ADMIN"}, &out)
			second := &client{url: ts.URL + "/graphql", key: out.CreateApiKey.Key, keyID: out.CreateApiKey.APIKey.ID}
			second.mustDo(t, revokeKey, map[string]any{"id": ts.admin.keyID}, nil)
			wantUnauthenticated(t, ts.URL, "Bearer "+ts.admin.key)
			resp = second.do(t, revokeKey, map[string]any{"id": second.keyID})
			wantError(t, resp, model.CodeBadUserInput, "id")
			if got := me(t, second); got.Role != "ADMIN" {
				t.Errorf("last admin after refused self-revocation: me.role = %q; want ADMIN", got.Role)
			}
			ts.admin = second
		})

		t.Run("ErrUnauthenticated", func(t *testing.T) {
			for _, tc := range []struct{ name, authorization string }{
				{"Missing", ""},
				{"WrongKey", "Bearer " + model.NewAPIKeySecret()},
				{"Basic", "Basic xyz"},
				{"BearerEmpty", "Bearer "},
				{"KeyWithoutScheme", acme.key},
			} {
				t.Run(tc.name, func(t *testing.T) { wantUnauthenticated(t, ts.URL, tc.authorization) })
			}
		})

		t.Run("NodeOfAnotherOwnersKeyIsNull", func(t *testing.T) {
			const q = `query($id: ID!) { node(id: $id) { id ... on ApiKey { owner } } }`
			var out struct{ Node *apiKeyJSON }
			acme.mustDo(t, q, map[string]any{"id": acme.keyID}, &out)
			if out.Node == nil || out.Node.ID != acme.keyID || out.Node.Owner != "acme" {
				t.Errorf("acme: node(own key) = %+v; want the key", out.Node)
			}
			for _, id := range []string{globex.keyID, ts.admin.keyID} {
				out.Node = nil
				acme.mustDo(t, q, map[string]any{"id": id}, &out)
				if out.Node != nil {
					t.Errorf("acme: node(%s) = %+v; want null", id, out.Node)
				}
			}
		})
	})
}

// rawRows returns every row of every table as text, by table name.
func rawRows(tb testing.TB, db *sql.DB, dialect string) map[string][][]string {
	tb.Helper()
	list := "SHOW TABLES"
	if dialect == "sqlite" {
		list = "SELECT name FROM sqlite_master WHERE type = 'table'"
	}
	var tables []string
	rows, err := db.Query(list)
	if err != nil {
		tb.Fatalf("%s: %v", list, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		tb.Fatal(err)
	}
	out := map[string][][]string{}
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM `" + table + "`")
		if err != nil {
			tb.Fatalf("read table %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatalf("scan table %s: %v", table, err)
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					row[i] = string(b)
				} else {
					row[i] = fmt.Sprint(v)
				}
			}
			out[table] = append(out[table], row)
		}
		if err := rows.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// TestAPIKeysStoredHashed creates a key through createApiKey, then reads the
// database raw: the key's row is there, and neither the key nor its random
// part appears in any column of any table (on SQLite, in no byte of the
// database files either).
func TestAPIKeysStoredHashed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := newURL(t)
		dir := ""
		if url == "sqlite://:memory:" {
			dir = t.TempDir()
			url = "sqlite://" + filepath.Join(dir, "hookline.db")
		}
		dialect, _, _ := strings.Cut(url, "://")
		ts := newTestServer(t, url)

		var out struct {
			CreateApiKey struct {
				Key    string
				APIKey struct{ ID string }
			}
		}
		ts.admin.mustDo(t, `mutation { createApiKey(owner: "acme", name: "ci", role: MEMBER) { key apiKey { id } } }`, nil, &out)
		key, id := out.CreateApiKey.Key, out.CreateApiKey.APIKey.ID
		if len(key) < 32 || id == "" {
			t.Fatalf("createApiKey = key %q, id %q; want a key and its id", key, id)
		}
		// Positive control: the key works, so it was stored in some form.
		member := &client{url: ts.URL + "/graphql", key: key}
		var me struct{ Me struct{ ID string } }
		member.mustDo(t, `{ me { id } }`, nil, &me)
		if me.Me.ID != id {
			t.Fatalf("me.id with the new key = %q; want %q", me.Me.ID, id)
		}

		secrets := []string{key, strings.TrimPrefix(key, model.APIKeyPrefix)}
		tables := rawRows(t, rawDB(t, url), dialect)
		found := false
		for _, row := range tables["api_keys"] {
			found = found || slices.Contains(row, id)
		}
		if !found {
			t.Fatalf("api_keys has no row with id %s; rows: %v", id, tables["api_keys"])
		}
		for table, rows := range tables {
			for _, row := range rows {
				for _, s := range secrets {
					if cell := strings.Join(row, " | "); strings.Contains(cell, s) {
						t.Errorf("table %s stores the API key in plain text: %s", table, cell)
					}
				}
			}
		}
		if dir == "" {
			return
		}
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if strings.Contains(string(b), s) {
					t.Errorf("database file %s contains the API key in plain text", f.Name())
				}
			}
		}
	})
}

func TestSubscriptionTenantIsolation(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	rc := newReceiver(t, nil)
	acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
	globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
	acmeHook, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/acme", "events": []string{"*"}})
	globexProbe, _ := globex.createWebhook(t, map[string]any{"url": rc.URL + "/globex", "events": []string{"none"}})

	for _, proto := range subscriptionProtocols {
		t.Run(proto, func(t *testing.T) {
			attempts := subscribe(t, ts.URL, proto, globex.key, attemptQuery, nil)
			// A filter naming the other owner's webhook changes nothing.
			targeted := subscribe(t, ts.URL, proto, globex.key, attemptQuery, map[string]any{"f": map[string]any{"webhookId": acmeHook.ID}})
			hooks := subscribe(t, ts.URL, proto, globex.key, `subscription { webhookUpdated { id } }`, nil)
			liven(t, attempts, globexProbe.ID, func() { globex.ping(t, globexProbe.ID) })

			ev := acme.publish(t, "order.created", map[string]any{}, "")
			acme.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
			acme.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {description: "changed"}) { id } }`, map[string]any{"id": acmeHook.ID}, nil)
			acme.mustDo(t, `mutation($id: ID!) { pingWebhook(id: $id) { health } }`, map[string]any{"id": acmeHook.ID}, nil)

			globex.ping(t, globexProbe.ID)
			if leaked := until(t, attempts, globexProbe.ID, ""); len(leaked) != 0 {
				t.Errorf("globex received acme's attempts: %s", leaked)
			}
			globex.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {description: "mine"}) { id } }`, map[string]any{"id": globexProbe.ID}, nil)
			if leaked := until(t, hooks, globexProbe.ID, ""); len(leaked) != 0 {
				t.Errorf("globex received acme's webhook changes: %s", leaked)
			}
			select {
			case data := <-targeted.next:
				t.Errorf("a subscription filtered on another owner's webhook received %s", data)
			default:
			}
		})
	}
}

// TestAuthorizationHeader: the scheme is case-insensitive (RFC 7235), and a
// request with two Authorization headers is refused with 400.
func TestAuthorizationHeader(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		status, _, body := authResponse(t, ts.URL, scheme+" "+ts.admin.key)
		if status != http.StatusOK || !strings.Contains(string(body), `"me"`) {
			t.Errorf("%s <key>: %d %s; want 200 and me", scheme, status, body)
		}
	}
	wantUnauthenticated(t, ts.URL, "Basic "+ts.admin.key)
	wantUnauthenticated(t, ts.URL, "Bearer"+ts.admin.key)

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("Authorization", "Bearer "+ts.admin.key)
	req.Header.Add("Authorization", "Bearer "+ts.admin.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	json.NewDecoder(resp.Body).Decode(&out)
	out.Status = resp.StatusCode
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two Authorization headers: status %d; want 400", resp.StatusCode)
	}
	wantError(t, out, model.CodeBadUserInput, "Authorization")
}
