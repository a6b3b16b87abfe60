package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// createWebhooks creates n webhooks and returns their IDs, newest first.
func (c *client) createWebhooks(tb testing.TB, n int) []string {
	tb.Helper()
	ids := make([]string, n)
	for i := range n {
		w, _ := c.createWebhook(tb, map[string]any{"url": fmt.Sprintf("https://example.com/%d", i), "events": []string{"*"}})
		ids[n-1-i] = w.ID
	}
	return ids
}

// checkNoDuplicates reports IDs that occur more than once.
func checkNoDuplicates(tb testing.TB, ids []string) {
	tb.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			tb.Errorf("webhook %s listed twice", id)
		}
		seen[id] = true
	}
}

func TestWebhookPagination(t *testing.T) {
	const n, size = 25, 10
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		want := c.createWebhooks(t, n) // newest first

		t.Run("Forward", func(t *testing.T) {
			var got []string
			vars := map[string]any{"first": size}
			for start := 0; start < n; start += size {
				end := min(start+size, n)
				p := c.listWebhooks(t, vars)
				if !slices.Equal(p.ids(), want[start:end]) {
					t.Errorf("page [%d:%d] = %v; want %v", start, end, p.ids(), want[start:end])
				}
				if got, want := p.PageInfo.HasNextPage, end < n; got != want {
					t.Errorf("page [%d:%d] hasNextPage = %v; want %v", start, end, got, want)
				}
				if got, want := p.PageInfo.HasPreviousPage, start > 0; got != want {
					t.Errorf("page [%d:%d] hasPreviousPage = %v; want %v", start, end, got, want)
				}
				if p.TotalCount != n {
					t.Errorf("page [%d:%d] totalCount = %d; want %d", start, end, p.TotalCount, n)
				}
				got = append(got, p.ids()...)
				if p.PageInfo.EndCursor == nil {
					t.Fatalf("page [%d:%d] endCursor = null", start, end)
				}
				vars["after"] = *p.PageInfo.EndCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("forward traversal = %v; want %v", got, want)
			}
			checkNoDuplicates(t, got)
			if p := c.listWebhooks(t, vars); len(p.Edges) != 0 || p.PageInfo.HasNextPage || !p.PageInfo.HasPreviousPage {
				t.Errorf("page after the last = %v, hasNextPage %v, hasPreviousPage %v; want empty, false, true",
					p.ids(), p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage)
			}
		})

		t.Run("Backward", func(t *testing.T) {
			var pages [][]string
			vars := map[string]any{"last": size}
			for end := n; end > 0; end -= size {
				start := max(end-size, 0)
				p := c.listWebhooks(t, vars)
				if !slices.Equal(p.ids(), want[start:end]) {
					t.Errorf("page [%d:%d] = %v; want %v", start, end, p.ids(), want[start:end])
				}
				if got, want := p.PageInfo.HasPreviousPage, start > 0; got != want {
					t.Errorf("page [%d:%d] hasPreviousPage = %v; want %v", start, end, got, want)
				}
				if got, want := p.PageInfo.HasNextPage, end < n; got != want {
					t.Errorf("page [%d:%d] hasNextPage = %v; want %v", start, end, got, want)
				}
				if p.TotalCount != n {
					t.Errorf("page [%d:%d] totalCount = %d; want %d", start, end, p.TotalCount, n)
				}
				pages = append(pages, p.ids())
				if p.PageInfo.StartCursor == nil {
					t.Fatalf("page [%d:%d] startCursor = null", start, end)
				}
				vars["before"] = *p.PageInfo.StartCursor
			}
			slices.Reverse(pages)
			got := slices.Concat(pages...)
			if !slices.Equal(got, want) {
				t.Errorf("backward traversal, pages reassembled = %v; want %v", got, want)
			}
			checkNoDuplicates(t, got)
		})

		t.Run("BackAndForthFromTheMiddle", func(t *testing.T) {
			p := c.listWebhooks(t, map[string]any{"first": size})
			p = c.listWebhooks(t, map[string]any{"first": size, "after": *p.PageInfo.EndCursor}) // [10:20]
			back := c.listWebhooks(t, map[string]any{"last": 3, "before": *p.PageInfo.StartCursor})
			if !slices.Equal(back.ids(), want[7:10]) || !back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
				t.Errorf("last 3 before [10:20] = %v (hasPrevious %v, hasNext %v); want %v (true, true)",
					back.ids(), back.PageInfo.HasPreviousPage, back.PageInfo.HasNextPage, want[7:10])
			}
		})

		t.Run("DefaultPageSize", func(t *testing.T) {
			p := c.listWebhooks(t, nil)
			if !slices.Equal(p.ids(), want[:model.DefaultPageSize]) || !p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage {
				t.Errorf("webhooks = %d edges (hasNext %v, hasPrevious %v); want the newest %d (true, false)",
					len(p.Edges), p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage, model.DefaultPageSize)
			}
			p = c.listWebhooks(t, map[string]any{"first": 100})
			if !slices.Equal(p.ids(), want) || p.PageInfo.HasNextPage {
				t.Errorf("first 100 = %d edges (hasNext %v); want all %d (false)", len(p.Edges), p.PageInfo.HasNextPage, n)
			}
		})

		t.Run("FirstZero", func(t *testing.T) {
			p := c.listWebhooks(t, map[string]any{"first": 0})
			if len(p.Edges) != 0 || p.TotalCount != n {
				t.Errorf("first 0 = %d edges, totalCount %d; want 0, %d", len(p.Edges), p.TotalCount, n)
			}
		})

		t.Run("Errors", func(t *testing.T) {
			b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
			for _, tc := range []struct {
				name  string
				vars  map[string]any
				field string
			}{
				{"ErrFirstTooLarge", map[string]any{"first": 101}, "first"},
				{"ErrFirstNegative", map[string]any{"first": -1}, "first"},
				{"ErrLastTooLarge", map[string]any{"last": 101}, "last"},
				{"ErrLastNegative", map[string]any{"last": -1}, "last"},
				{"ErrFirstAndLast", map[string]any{"first": 5, "last": 5}, ""},
				{"ErrFirstAndBefore", map[string]any{"first": 5, "before": b64("1:wh_x")}, ""},
				{"ErrLastAndAfter", map[string]any{"last": 5, "after": b64("1:wh_x")}, ""},
				{"ErrAfterGarbage", map[string]any{"after": "garbage"}, "after"},
				{"ErrAfterNotBase64", map[string]any{"after": "!!!"}, "after"},
				{"ErrAfterPaddedBase64", map[string]any{"after": base64.URLEncoding.EncodeToString([]byte("x"))}, "after"},
				{"ErrAfterBase64OfJunk", map[string]any{"after": b64("junk")}, "after"},
				{"ErrAfterNoID", map[string]any{"after": b64("1700000000000000:")}, "after"},
				{"ErrAfterNotANumber", map[string]any{"after": b64("yesterday:wh_x")}, "after"},
				{"ErrAfterNegativeTime", map[string]any{"after": b64("-5:wh_x")}, "after"},
				{"ErrAfterTooLong", map[string]any{"after": b64("1:" + string(make([]byte, 200)))}, "after"},
				{"ErrAfterTimeOutOfRange", map[string]any{"first": 1, "after": b64("999999999999999999:wh_x")}, "after"}, // year 33658
				{"ErrBeforeGarbage", map[string]any{"last": 5, "before": "garbage"}, "before"},
				{"ErrBeforeBase64OfJunk", map[string]any{"before": b64("junk")}, "before"},
				{"ErrFilterEvent", map[string]any{"filter": map[string]any{"event": "a b"}}, "filter.event"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					wantError(t, c.do(t, webhooksPageQuery, tc.vars), model.CodeBadUserInput, tc.field)
				})
			}
		})
	})
}

func TestWebhookPaginationWithInserts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		want := c.createWebhooks(t, 25)

		first := c.listWebhooks(t, map[string]any{"first": 10})
		got := first.ids()
		added := c.createWebhooks(t, 3) // newer than everything listed
		after := *first.PageInfo.EndCursor
		for {
			p := c.listWebhooks(t, map[string]any{"first": 10, "after": after})
			for _, id := range p.ids() {
				if slices.Contains(added, id) {
					t.Errorf("webhook %s created after page 1 appears on a later forward page", id)
				}
			}
			got = append(got, p.ids()...)
			if p.TotalCount != 28 {
				t.Errorf("totalCount = %d; want 28", p.TotalCount)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			if len(got) > 28 {
				t.Fatalf("paging does not end: %d IDs so far", len(got))
			}
			after = *p.PageInfo.EndCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("forward traversal with inserts = %v; want %v", got, want)
		}
		checkNoDuplicates(t, got)

		// The new webhooks are before page 1.
		p := c.listWebhooks(t, map[string]any{"last": 10, "before": *first.PageInfo.StartCursor})
		if !slices.Equal(p.ids(), added) || p.PageInfo.HasPreviousPage || !p.PageInfo.HasNextPage {
			t.Errorf("last 10 before page 1 = %v (hasPrevious %v, hasNext %v); want %v (false, true)",
				p.ids(), p.PageInfo.HasPreviousPage, p.PageInfo.HasNextPage, added)
		}
	})
}

func TestWebhookPaginationWithDeletedCursor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		want := c.createWebhooks(t, 6)

		p := c.listWebhooks(t, map[string]any{"first": 3})
		c.mustDo(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": want[2]}, nil)
		p = c.listWebhooks(t, map[string]any{"first": 3, "after": *p.PageInfo.EndCursor})
		if !slices.Equal(p.ids(), want[3:]) || !p.PageInfo.HasPreviousPage || p.PageInfo.HasNextPage {
			t.Errorf("page after a deleted cursor row = %v (hasPrevious %v, hasNext %v); want %v (true, false)",
				p.ids(), p.PageInfo.HasPreviousPage, p.PageInfo.HasNextPage, want[3:])
		}
	})
}

func TestWebhookFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		other := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		create := func(url string, enabled bool, events ...string) string {
			w, _ := c.createWebhook(t, map[string]any{"url": url, "events": events, "enabled": enabled})
			return w.ID
		}
		a := create("https://a.example.com/orders", true, "order.created")
		b := create("https://b.example.com/all", false, "*")
		pct := create("https://c.example.com/p%20q", true, "order.paid", "shipment.departed")
		und := create("https://d.example.com/a_b", true, "order_created")
		plain := create("https://e.example.com/axb/pxq", true, "orderXcreated", "Order.Paid")
		// Another owner's webhooks never match.
		other.createWebhook(t, map[string]any{"url": "https://a.example.com/orders", "events": []string{"*"}})
		all := []string{plain, und, pct, b, a}

		for _, tc := range []struct {
			name   string
			filter map[string]any
			want   []string
		}{
			{"None", map[string]any{}, all},
			{"EventExact", map[string]any{"event": "order.created"}, []string{b, a}},
			{"EventTwoOfMany", map[string]any{"event": "shipment.departed"}, []string{pct, b}},
			{"EventOnlyViaWildcard", map[string]any{"event": "invoice.sent"}, []string{b}},
			{"EventPrefixDoesNotMatch", map[string]any{"event": "order"}, []string{b}},
			{"EventUnderscoreIsLiteral", map[string]any{"event": "order_created"}, []string{und, b}},
			{"EventIsCaseSensitive", map[string]any{"event": "order.paid"}, []string{pct, b}},
			{"EnabledTrue", map[string]any{"enabled": true}, []string{plain, und, pct, a}},
			{"EnabledFalse", map[string]any{"enabled": false}, []string{b}},
			{"HealthUnknown", map[string]any{"health": "UNKNOWN"}, all},
			{"HealthHealthy", map[string]any{"health": "HEALTHY"}, nil},
			{"URLContains", map[string]any{"urlContains": "example.com/a"}, []string{plain, und, b}},
			{"URLContainsPercentIsLiteral", map[string]any{"urlContains": "%"}, []string{pct}},
			{"URLContainsPercentInMiddle", map[string]any{"urlContains": "p%q"}, nil},
			{"URLContainsUnderscoreIsLiteral", map[string]any{"urlContains": "a_b"}, []string{und}},
			{"URLContainsUnderscoreAlone", map[string]any{"urlContains": "_"}, []string{und}},
			{"URLContainsEscapeCharacter", map[string]any{"urlContains": "!"}, nil},
			{"URLContainsNoMatch", map[string]any{"urlContains": "nowhere"}, nil},
			{"EventAndEnabled", map[string]any{"event": "order.created", "enabled": true}, []string{a}},
			{"EventAndURL", map[string]any{"event": "order.paid", "urlContains": "c.example"}, []string{pct}},
			{"EnabledAndURL", map[string]any{"enabled": false, "urlContains": "example"}, []string{b}},
			{"AllFour", map[string]any{"event": "order.created", "enabled": false, "health": "UNKNOWN", "urlContains": "/all"}, []string{b}},
			{"Contradiction", map[string]any{"event": "order_created", "enabled": false, "urlContains": "a_b"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := c.listWebhooks(t, map[string]any{"filter": tc.filter})
				if !slices.Equal(p.ids(), tc.want) {
					t.Errorf("webhooks(filter: %v) = %v; want %v", tc.filter, p.ids(), tc.want)
				}
				if p.TotalCount != len(tc.want) {
					t.Errorf("webhooks(filter: %v) totalCount = %d; want %d", tc.filter, p.TotalCount, len(tc.want))
				}
			})
		}

		t.Run("PagedWithFilter", func(t *testing.T) {
			filter := map[string]any{"enabled": true}
			want := []string{plain, und, pct, a}
			var got []string
			vars := map[string]any{"first": 3, "filter": filter}
			for i := 0; ; i++ {
				p := c.listWebhooks(t, vars)
				if p.TotalCount != len(want) {
					t.Errorf("page %d totalCount = %d; want %d", i, p.TotalCount, len(want))
				}
				got = append(got, p.ids()...)
				if !p.PageInfo.HasNextPage || i > len(want) {
					break
				}
				vars["after"] = *p.PageInfo.EndCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged webhooks(filter: %v) = %v; want %v", filter, got, want)
			}
		})
	})
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

func TestEventsFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		e1 := acme.publish(t, "order.created", map[string]any{}, "")
		e2 := acme.publish(t, "order.paid", map[string]any{}, "")
		e3 := acme.publish(t, "order.created", map[string]any{}, "")
		e4 := acme.publish(t, "order.created", map[string]any{}, "")
		g1 := globex.publish(t, "order.created", map[string]any{}, "")
		for _, pair := range [][2]eventJSON{{e1, e2}, {e2, e3}, {e3, e4}} {
			if !pair[0].CreatedAt.Before(pair[1].CreatedAt) {
				t.Fatalf("event %s created at %v, not before the next one %s at %v", pair[0].ID, pair[0].CreatedAt, pair[1].ID, pair[1].CreatedAt)
			}
		}
		at := func(e eventJSON) string { return e.CreatedAt.Format(time.RFC3339Nano) }

		for _, tc := range []struct {
			name   string
			c      *client
			filter map[string]any
			want   []eventJSON // newest first
		}{
			{"None", acme, nil, []eventJSON{e4, e3, e2, e1}},
			{"Type", acme, map[string]any{"type": "order.created"}, []eventJSON{e4, e3, e1}},
			{"TypeOther", acme, map[string]any{"type": "order.paid"}, []eventJSON{e2}},
			{"TypeNone", acme, map[string]any{"type": "order.shipped"}, nil},
			{"SinceInclusive", acme, map[string]any{"since": at(e2)}, []eventJSON{e4, e3, e2}},
			{"UntilExclusive", acme, map[string]any{"until": at(e3)}, []eventJSON{e2, e1}},
			{"SinceUntil", acme, map[string]any{"since": at(e2), "until": at(e4)}, []eventJSON{e3, e2}},
			{"SinceAfterAll", acme, map[string]any{"since": e4.CreatedAt.Add(time.Microsecond).Format(time.RFC3339Nano)}, nil},
			{"TypeSince", acme, map[string]any{"type": "order.created", "since": at(e2)}, []eventJSON{e4, e3}},
			{"TypeUntil", acme, map[string]any{"type": "order.created", "until": at(e3)}, []eventJSON{e1}},
			{"TypeSinceUntil", acme, map[string]any{"type": "order.paid", "since": at(e1), "until": at(e4)}, []eventJSON{e2}},
			{"OtherOwnerNone", globex, nil, []eventJSON{g1}},
			{"OtherOwnerType", globex, map[string]any{"type": "order.created"}, []eventJSON{g1}},
			{"OtherOwnerSince", globex, map[string]any{"since": at(e1)}, []eventJSON{g1}},
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
