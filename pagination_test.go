package main

import (
	"encoding/base64"
	"fmt"
	"slices"
	"testing"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

const webhooksPageQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: WebhookFilter) {
	webhooks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
		totalCount
		edges { cursor node { id } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	}
}`

type webhookPage struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   struct{ ID string }
	}
	PageInfo struct {
		HasNextPage     bool
		HasPreviousPage bool
		StartCursor     *string
		EndCursor       *string
	}
}

func (p webhookPage) ids() []string {
	ids := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		ids[i] = e.Node.ID
	}
	return ids
}

// listWebhooks fetches one page of webhooks with vars as the query's
// arguments and checks that startCursor and endCursor match its edges.
func (c *client) listWebhooks(tb testing.TB, vars map[string]any) webhookPage {
	tb.Helper()
	var out struct{ Webhooks webhookPage }
	c.mustDo(tb, webhooksPageQuery, vars, &out)
	p := out.Webhooks
	start, end := p.PageInfo.StartCursor, p.PageInfo.EndCursor
	if len(p.Edges) == 0 {
		if start != nil || end != nil {
			tb.Errorf("empty page: startCursor %v, endCursor %v; want null", derefCursor(start), derefCursor(end))
		}
		return p
	}
	if start == nil || *start != p.Edges[0].Cursor {
		tb.Errorf("startCursor = %v; want the first edge's cursor %q", derefCursor(start), p.Edges[0].Cursor)
	}
	if end == nil || *end != p.Edges[len(p.Edges)-1].Cursor {
		tb.Errorf("endCursor = %v; want the last edge's cursor %q", derefCursor(end), p.Edges[len(p.Edges)-1].Cursor)
	}
	return p
}

func derefCursor(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

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
