package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"slices"
	"time"
)

// pageRequests is how many times each page is fetched; the p50 is reported.
const pageRequests = 50

// list is one paginated query of the API.
type list struct {
	name  string // the Query field and the table
	query string
}

var lists = []list{
	{"webhooks", `query($after: String) { webhooks(first: 50, after: $after) {
		edges { cursor node { id url health createdAt } } pageInfo { hasNextPage endCursor } } }`},
	{"deliveries", `query($after: String) { deliveries(first: 50, after: $after) {
		edges { cursor node { id status attemptCount webhookId createdAt } } pageInfo { hasNextPage endCursor } } }`},
}

// page is the part of a connection the bench checks.
type page struct {
	Edges []struct {
		Node struct{ ID string }
	}
}

// runPagination bulk-loads webhooks and deliveries straight into the
// database Hookline migrated, then times the first page of each list and
// a page deep in it through the API: keyset pagination should cost the
// same at any depth.
func runPagination(ctx context.Context, b *bench) ([]row, error) {
	total, deep := b.size(1_000_000, 20_000), b.size(900_000, 18_000)
	h, err := b.start(ctx)
	if err != nil {
		return nil, err
	}
	defer h.stop()
	db, err := openDatabase(h.dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	start := time.Now()
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	hooks, err := bulkLoad(h.ctx, db, webhookTable(), total, base, 1000)
	if err != nil {
		return nil, h.err("bulk load", err)
	}
	if _, err := bulkLoad(h.ctx, db, deliveryTable(hooks), total, base, 0); err != nil {
		return nil, h.err("bulk load", err)
	}
	loaded := fmt.Sprintf("%s webhooks and %s deliveries loaded in %.1f s", thousands(int64(total)), thousands(int64(total)), time.Since(start).Seconds())
	b.logf("pagination: %s", loaded)

	c := h.client(1)
	var rows []row
	for _, l := range lists {
		r, err := paginate(h, c, db, l, deep, total, loaded)
		if err != nil {
			return rows, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// paginate times the first page of l and the page after the row deep
// places down, checking that the deep page starts at the right row.
func paginate(h *hookline, c *gqlClient, db *sql.DB, l list, deep, total int, loaded string) ([]row, error) {
	at, err := rowsAt(h.ctx, db, l.name, deep-1)
	if err != nil {
		return nil, err
	}
	first, _, err := timePage(h, c, l, nil)
	if err != nil {
		return nil, err
	}
	deepP50, got, err := timePage(h, c, l, map[string]any{"after": at[0].cursor()})
	if err != nil {
		return nil, err
	}
	note := ""
	if len(got.Edges) != 50 || got.Edges[0].Node.ID != at[1].id {
		note = fmt.Sprintf("WRONG PAGE: %d edges, first %s; want 50 from %s; ", len(got.Edges), firstID(got), at[1].id)
	}
	fig := fmt.Sprintf("%s(first: 50) of %s rows: ", l.name, thousands(int64(total)))
	firstRow := row{Scenario: "pagination", Figure: fig + "first page p50", Value: ms(first), Unit: "ms", Note: loaded}
	ratio := float64(deepP50) / float64(first)
	deepRow := row{Scenario: "pagination", Figure: fig + thousands(int64(deep)) + " deep p50", Value: ms(deepP50), Unit: "ms",
		Note: note + fmt.Sprintf("%.2f× the first page", ratio)}
	return []row{
		firstRow.want("≤ 5 ms", firstRow.Value <= 5),
		deepRow.want("≤ 5 ms and ≤ 2× first page", deepRow.Value <= 5 && ratio <= 2),
	}, nil
}

// timePage fetches a page pageRequests times after a few warm-up requests
// and returns the median time and the last answer.
func timePage(h *hookline, c *gqlClient, l list, vars map[string]any) (time.Duration, page, error) {
	var got page
	times := make([]time.Duration, 0, pageRequests)
	for i := range pageRequests + 5 {
		var out map[string]page
		start := time.Now()
		if err := c.do(h.ctx, l.query, vars, &out); err != nil {
			return 0, got, h.err(l.name, err)
		}
		got = out[l.name]
		if i >= 5 {
			times = append(times, time.Since(start))
		}
	}
	slices.Sort(times)
	return times[len(times)/2], got, nil
}

func firstID(p page) string {
	if len(p.Edges) == 0 {
		return "none"
	}
	return p.Edges[0].Node.ID
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
