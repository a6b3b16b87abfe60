package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// rawDB opens the database at url with database/sql, beside the store, so a
// test can read rows as stored. The drivers ("sqlite", "mysql") are
// registered by package store. A sqlite://:memory: URL cannot be shared, so
// callers give a file.
func rawDB(tb testing.TB, url string) *sql.DB {
	tb.Helper()
	scheme, rest, _ := strings.Cut(url, "://")
	var db *sql.DB
	var err error
	switch scheme {
	case "sqlite":
		db, err = sql.Open("sqlite", "file:"+rest+"?_pragma=busy_timeout(5000)")
	case "mysql":
		db, err = sql.Open("mysql", rest)
	default:
		tb.Fatalf("rawDB: unknown database URL %q", url)
	}
	if err != nil {
		tb.Fatalf("open %s database: %v", scheme, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
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

// TestNodeResolvesEventsDeliveriesAttempts checks that node(id:) resolves
// evt_, dlv_ and att_ IDs to their type for the owner, and to null for
// another owner (a member or an admin) and for IDs that do not exist.
func TestNodeResolvesEventsDeliveriesAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		rc := newReceiver(t, nil)
		wh, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/acme", "events": []string{"*"}})
		ev := acme.publish(t, "order.created", map[string]any{"n": 1}, "")
		if len(ev.Deliveries.Edges) != 1 {
			t.Fatalf("publish made %d deliveries; want 1", len(ev.Deliveries.Edges))
		}
		d := acme.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
		if len(d.Attempts) != 1 {
			t.Fatalf("delivery has %d attempts; want 1", len(d.Attempts))
		}
		att := d.Attempts[0]

		const q = `query($id: ID!) { node(id: $id) { __typename id
			... on Event { type }
			... on Delivery { webhookId status }
			... on DeliveryAttempt { attemptNumber outcome } } }`
		type nodeJSON struct {
			Typename      string `json:"__typename"`
			ID            string
			Type          string
			WebhookID     string
			Status        string
			AttemptNumber int
			Outcome       string
		}
		for _, tc := range []struct {
			name string
			id   string
			want nodeJSON
		}{
			{"Event", ev.ID, nodeJSON{Typename: "Event", ID: ev.ID, Type: "order.created"}},
			{"Delivery", d.ID, nodeJSON{Typename: "Delivery", ID: d.ID, WebhookID: wh.ID, Status: "SUCCEEDED"}},
			{"DeliveryAttempt", att.ID, nodeJSON{Typename: "DeliveryAttempt", ID: att.ID, AttemptNumber: 1, Outcome: "SUCCESS"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var out struct{ Node *nodeJSON }
				acme.mustDo(t, q, map[string]any{"id": tc.id}, &out)
				if out.Node == nil || *out.Node != tc.want {
					t.Errorf("acme: node(%s) = %+v; want %+v", tc.id, out.Node, tc.want)
				}
				for _, other := range []struct {
					name string
					c    *client
				}{{"globex", globex}, {"admin", ts.admin}} {
					out.Node = nil
					other.c.mustDo(t, q, map[string]any{"id": tc.id}, &out)
					if out.Node != nil {
						t.Errorf("%s: node(acme's %s) = %+v; want null", other.name, tc.id, *out.Node)
					}
				}
			})
		}
		for _, prefix := range []string{model.PrefixEvent, model.PrefixDelivery, model.PrefixAttempt} {
			id := model.NewID(prefix)
			var out struct{ Node *nodeJSON }
			acme.mustDo(t, q, map[string]any{"id": id}, &out)
			if out.Node != nil {
				t.Errorf("acme: node(%s, which does not exist) = %+v; want null", id, *out.Node)
			}
		}
	})
}

type connPage struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   struct {
			ID        string
			CreatedAt time.Time
		}
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

func (p connPage) ids() []string {
	ids := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		ids[i] = e.Node.ID
	}
	return ids
}

// checkNewestFirst reports edges out of (createdAt, id) descending order.
func (p connPage) checkNewestFirst(tb testing.TB, what string) {
	tb.Helper()
	for i := 1; i < len(p.Edges); i++ {
		a, b := p.Edges[i-1].Node, p.Edges[i].Node
		if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
			tb.Errorf("%s: %s (%v) listed before %s (%v); want newest first", what, a.ID, a.CreatedAt, b.ID, b.CreatedAt)
		}
	}
}

// pageThrough follows first/after from the start with pages of size, and
// returns every ID in order. Each page's totalCount must be total.
func pageThrough(tb testing.TB, c *client, query, field string, filter map[string]any, size, total int) []string {
	tb.Helper()
	var all []string
	var after any
	for pages := 0; ; pages++ {
		if pages > total+1 {
			tb.Fatalf("%s(filter: %v): still paging after %d pages", field, filter, pages)
		}
		var out map[string]connPage
		c.mustDo(tb, query, map[string]any{"first": size, "after": after, "filter": filter}, &out)
		p := out[field]
		if p.TotalCount != total {
			tb.Errorf("%s(first: %d, after: %v, filter: %v).totalCount = %d; want %d", field, size, after, filter, p.TotalCount, total)
		}
		if len(p.Edges) > size {
			tb.Fatalf("%s(first: %d) returned %d edges", field, size, len(p.Edges))
		}
		all = append(all, p.ids()...)
		if wantNext := len(all) < total; p.PageInfo.HasNextPage != wantNext {
			tb.Errorf("%s(first: %d, after: %v, filter: %v).hasNextPage = %v after %d of %d rows; want %v",
				field, size, after, filter, p.PageInfo.HasNextPage, len(all), total, wantNext)
		}
		if !p.PageInfo.HasNextPage || p.PageInfo.EndCursor == nil {
			return all
		}
		after = *p.PageInfo.EndCursor
	}
}

const eventsPageQuery = `query($first: Int, $after: String, $filter: EventFilter) {
	events(first: $first, after: $after, filter: $filter) {
		totalCount edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }`

type publishedEvent struct {
	ID        string
	Type      string
	CreatedAt time.Time
}

func (c *client) publishTimed(tb testing.TB, typ string) publishedEvent {
	tb.Helper()
	var out struct{ PublishEvent publishedEvent }
	c.mustDo(tb, `mutation($in: PublishEventInput!) { publishEvent(input: $in) { id type createdAt } }`,
		map[string]any{"in": map[string]any{"type": typ, "payload": map[string]any{}}}, &out)
	return out.PublishEvent
}

func TestEventsFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		e1 := acme.publishTimed(t, "order.created")
		e2 := acme.publishTimed(t, "order.paid")
		e3 := acme.publishTimed(t, "order.created")
		e4 := acme.publishTimed(t, "order.created")
		g1 := globex.publishTimed(t, "order.created")
		for _, pair := range [][2]publishedEvent{{e1, e2}, {e2, e3}, {e3, e4}} {
			if !pair[0].CreatedAt.Before(pair[1].CreatedAt) {
				t.Fatalf("event %s created at %v, not before the next one %s at %v", pair[0].ID, pair[0].CreatedAt, pair[1].ID, pair[1].CreatedAt)
			}
		}
		at := func(e publishedEvent) string { return e.CreatedAt.Format(time.RFC3339Nano) }

		for _, tc := range []struct {
			name   string
			c      *client
			filter map[string]any
			want   []publishedEvent // newest first
		}{
			{"None", acme, nil, []publishedEvent{e4, e3, e2, e1}},
			{"Type", acme, map[string]any{"type": "order.created"}, []publishedEvent{e4, e3, e1}},
			{"TypeOther", acme, map[string]any{"type": "order.paid"}, []publishedEvent{e2}},
			{"TypeNone", acme, map[string]any{"type": "order.shipped"}, nil},
			{"SinceInclusive", acme, map[string]any{"since": at(e2)}, []publishedEvent{e4, e3, e2}},
			{"UntilExclusive", acme, map[string]any{"until": at(e3)}, []publishedEvent{e2, e1}},
			{"SinceUntil", acme, map[string]any{"since": at(e2), "until": at(e4)}, []publishedEvent{e3, e2}},
			{"SinceAfterAll", acme, map[string]any{"since": e4.CreatedAt.Add(time.Microsecond).Format(time.RFC3339Nano)}, nil},
			{"TypeSince", acme, map[string]any{"type": "order.created", "since": at(e2)}, []publishedEvent{e4, e3}},
			{"TypeUntil", acme, map[string]any{"type": "order.created", "until": at(e3)}, []publishedEvent{e1}},
			{"TypeSinceUntil", acme, map[string]any{"type": "order.paid", "since": at(e1), "until": at(e4)}, []publishedEvent{e2}},
			{"OtherOwnerNone", globex, nil, []publishedEvent{g1}},
			{"OtherOwnerType", globex, map[string]any{"type": "order.created"}, []publishedEvent{g1}},
			{"OtherOwnerSince", globex, map[string]any{"since": at(e1)}, []publishedEvent{g1}},
			{"AdminSeesNone", ts.admin, nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := []string{}
				for _, e := range tc.want {
					want = append(want, e.ID)
				}
				var out struct{ Events connPage }
				tc.c.mustDo(t, eventsPageQuery, map[string]any{"first": 100, "filter": tc.filter}, &out)
				if got := out.Events.ids(); !slices.Equal(got, want) || out.Events.TotalCount != len(want) {
					t.Errorf("events(filter: %v) = %v (totalCount %d); want %v (%d)", tc.filter, got, out.Events.TotalCount, want, len(want))
				}
				if got := pageThrough(t, tc.c, eventsPageQuery, "events", tc.filter, 2, len(want)); !slices.Equal(got, want) {
					t.Errorf("events(filter: %v) paged by 2 = %v; want %v", tc.filter, got, want)
				}
			})
		}

		t.Run("CursorOfAnotherOwner", func(t *testing.T) {
			var out struct{ Events connPage }
			acme.mustDo(t, eventsPageQuery, map[string]any{"first": 1}, &out)
			if out.Events.PageInfo.EndCursor == nil {
				t.Fatal("acme's first page has no endCursor")
			}
			globex.mustDo(t, eventsPageQuery, map[string]any{"first": 100, "after": *out.Events.PageInfo.EndCursor}, &out)
			for _, id := range out.Events.ids() {
				if id != g1.ID {
					t.Errorf("globex: events(after: acme's cursor) lists %s; want only its own", id)
				}
			}
		})
	})
}

const deliveriesPageQuery = `query($first: Int, $after: String, $filter: DeliveryFilter) {
	deliveries(first: $first, after: $after, filter: $filter) {
		totalCount edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }`

func TestDeliveriesFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		ok := newReceiver(t, nil)
		failing := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError })
		whOK, _ := acme.createWebhook(t, map[string]any{"url": ok.URL + "/acme", "events": []string{"*"}})
		whFail, _ := acme.createWebhook(t, map[string]any{"url": failing.URL + "/acme", "events": []string{"*"}})
		whG, _ := globex.createWebhook(t, map[string]any{"url": ok.URL + "/globex", "events": []string{"*"}})

		type row struct{ webhook, event, status string }
		rows := map[string]row{} // acme's deliveries by ID
		var events []string
		for _, typ := range []string{"order.created", "order.paid", "order.created"} {
			ev := acme.publish(t, typ, map[string]any{}, "")
			events = append(events, ev.ID)
			for _, e := range ev.Deliveries.Edges {
				status := "SUCCEEDED"
				if e.Node.WebhookID == whFail.ID {
					status = "DEAD"
				}
				rows[e.Node.ID] = row{e.Node.WebhookID, ev.ID, status}
			}
		}
		gEv := globex.publish(t, "order.created", map[string]any{}, "")
		if len(rows) != 6 || len(gEv.Deliveries.Edges) != 1 {
			t.Fatalf("acme has %d deliveries, globex %d; want 6 and 1", len(rows), len(gEv.Deliveries.Edges))
		}
		gDlv := gEv.Deliveries.Edges[0].Node.ID
		for id, r := range rows {
			acme.waitStatus(t, id, r.status)
		}
		globex.waitStatus(t, gDlv, "SUCCEEDED")

		// match lists acme's deliveries for which keep holds, in any order.
		match := func(keep func(row) bool) []string {
			ids := []string{}
			for id, r := range rows {
				if keep(r) {
					ids = append(ids, id)
				}
			}
			return ids
		}
		all := func(row) bool { return true }
		for _, tc := range []struct {
			name   string
			c      *client
			filter map[string]any
			want   []string
		}{
			{"None", acme, nil, match(all)},
			{"WebhookID", acme, map[string]any{"webhookId": whOK.ID}, match(func(r row) bool { return r.webhook == whOK.ID })},
			{"WebhookIDFailing", acme, map[string]any{"webhookId": whFail.ID}, match(func(r row) bool { return r.webhook == whFail.ID })},
			{"EventID", acme, map[string]any{"eventId": events[1]}, match(func(r row) bool { return r.event == events[1] })},
			{"StatusSucceeded", acme, map[string]any{"status": "SUCCEEDED"}, match(func(r row) bool { return r.status == "SUCCEEDED" })},
			{"StatusDead", acme, map[string]any{"status": "DEAD"}, match(func(r row) bool { return r.status == "DEAD" })},
			{"StatusPending", acme, map[string]any{"status": "PENDING"}, nil},
			{"WebhookIDAndStatusNone", acme, map[string]any{"webhookId": whOK.ID, "status": "DEAD"}, nil},
			{"WebhookIDAndEventID", acme, map[string]any{"webhookId": whFail.ID, "eventId": events[0]},
				match(func(r row) bool { return r.webhook == whFail.ID && r.event == events[0] })},
			{"AllThree", acme, map[string]any{"webhookId": whOK.ID, "eventId": events[2], "status": "SUCCEEDED"},
				match(func(r row) bool { return r.webhook == whOK.ID && r.event == events[2] })},
			{"OtherOwnersWebhookID", acme, map[string]any{"webhookId": whG.ID}, nil},
			{"OtherOwnersEventID", acme, map[string]any{"eventId": gEv.ID}, nil},
			{"OtherOwnerNone", globex, nil, []string{gDlv}},
			{"OtherOwnerStatus", globex, map[string]any{"status": "SUCCEEDED"}, []string{gDlv}},
			{"OtherOwnerAcmesWebhookID", globex, map[string]any{"webhookId": whOK.ID}, nil},
			{"OtherOwnerAcmesEventID", globex, map[string]any{"eventId": events[0]}, nil},
			{"OtherOwnerDead", globex, map[string]any{"status": "DEAD"}, nil},
			{"AdminSeesNone", ts.admin, nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var out struct{ Deliveries connPage }
				tc.c.mustDo(t, deliveriesPageQuery, map[string]any{"first": 100, "filter": tc.filter}, &out)
				p := out.Deliveries
				p.checkNewestFirst(t, fmt.Sprintf("deliveries(filter: %v)", tc.filter))
				got, want := slices.Sorted(slices.Values(p.ids())), slices.Sorted(slices.Values(tc.want))
				if !slices.Equal(got, want) || p.TotalCount != len(want) {
					t.Errorf("deliveries(filter: %v) = %v (totalCount %d); want %v (%d)", tc.filter, got, p.TotalCount, want, len(want))
				}
				if paged := pageThrough(t, tc.c, deliveriesPageQuery, "deliveries", tc.filter, 2, len(want)); len(want) > 0 && !slices.Equal(paged, p.ids()) {
					t.Errorf("deliveries(filter: %v) paged by 2 = %v; want %v, as in one page", tc.filter, paged, p.ids())
				}
			})
		}
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
