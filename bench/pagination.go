package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite"
	"github.com/go-sql-driver/mysql"

	"github.com/hookline/hookline/model"
)

// runPagination bulk-loads webhooks and deliveries straight into the
// database Hookline migrated, then times the first page and a page deep in
// the list through the API: keyset pagination should cost the same.
func runPagination(ctx context.Context, e *env) ([]row, error) {
	rows, deep := 1_000_000, 900_000
	if e.short {
		rows, deep = 20_000, 18_000
	}
	p, err := startHookline(ctx, e)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	db, err := openRaw(p.dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	hookIDs, err := bulkLoad(ctx, db, "webhooks", rows, base, func(i int, id string, at time.Time) []any {
		return []any{id, "admin", "https://example.com/" + strconv.Itoa(i), "", `["bench.page"]`, nil, "JSON", true, "[]",
			"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "", "", "", "UNKNOWN", 0, at, at}
	}, "id, owner, url, description, events, filters, format, enabled, headers, secret, previous_secret, bearer_token, shared_token, health, consecutive_failures, created_at, updated_at")
	if err != nil {
		return nil, err
	}
	_, err = bulkLoad(ctx, db, "deliveries", rows, base, func(i int, id string, at time.Time) []any {
		return []any{id, "admin", "evt_none", hookIDs[i%len(hookIDs)], "SUCCEEDED", 1, nil, "", at, at}
	}, "id, owner, event_id, webhook_id, status, attempt_count, next_attempt_at, lease_token, created_at, updated_at")
	if err != nil {
		return nil, err
	}

	c := p.client(4)
	var out []row
	for _, list := range []struct{ name, query, idPrefix string }{
		{"webhooks", `query($after: String) { webhooks(first: 50, after: $after) { edges { cursor } } }`, model.PrefixWebhook},
		{"deliveries", `query($after: String) { deliveries(first: 50, after: $after) { edges { cursor } } }`, model.PrefixDelivery},
	} {
		// Newest first: the row `deep` places down is number rows-1-deep in load order.
		at := base.Add(time.Duration(rows-1-deep) * time.Microsecond)
		id, err := idAt(ctx, db, list.name, at)
		if err != nil {
			return nil, err
		}
		cursor := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + ":" + id))
		first, err := timeQuery(ctx, c, list.query, nil)
		if err != nil {
			return nil, err
		}
		deepP50, err := timeQuery(ctx, c, list.query, map[string]any{"after": cursor})
		if err != nil {
			return nil, err
		}
		out = append(out,
			row{Scenario: "pagination", Figure: fmt.Sprintf("%s(first: 50), first page, p50 of %d rows", list.name, rows), Value: ms(first), Unit: "ms", Target: "≤ 5 ms"},
			row{Scenario: "pagination", Figure: fmt.Sprintf("%s(first: 50), %d deep, p50", list.name, deep), Value: ms(deepP50), Unit: "ms",
				Target: "≤ 5 ms, within 2× of the first page", Note: fmt.Sprintf("%.1f× the first page", float64(deepP50)/float64(max(first, 1)))})
	}
	return out, nil
}

func openRaw(url string) (*sql.DB, error) {
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(url, "mysql://"))
	if err != nil {
		return nil, err
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	return sql.Open("mysql", cfg.FormatDSN())
}

// bulkLoad inserts n rows in multi-row statements, 500 rows each, in
// transactions of 20,000 rows; row i is created at base + i µs. It returns the IDs.
func bulkLoad(ctx context.Context, db *sql.DB, table string, n int, base time.Time, values func(i int, id string, at time.Time) []any, columns string) ([]string, error) {
	prefix := model.PrefixWebhook
	if table == "deliveries" {
		prefix = model.PrefixDelivery
	}
	ncol := len(strings.Split(columns, ","))
	placeholder := "(" + strings.TrimSuffix(strings.Repeat("?,", ncol), ",") + ")"
	ids := make([]string, 0, n)
	for start := 0; start < n; start += 20000 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		for chunk := start; chunk < min(start+20000, n); chunk += 500 {
			end := min(chunk+500, n)
			args := make([]any, 0, (end-chunk)*ncol)
			for i := chunk; i < end; i++ {
				id := model.NewID(prefix)
				ids = append(ids, id)
				args = append(args, values(i, id, base.Add(time.Duration(i)*time.Microsecond))...)
			}
			q := "INSERT INTO " + table + " (" + columns + ") VALUES " + strings.TrimSuffix(strings.Repeat(placeholder+",", end-chunk), ",")
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				tx.Rollback()
				return nil, fmt.Errorf("load %s: %w", table, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func idAt(ctx context.Context, db *sql.DB, table string, at time.Time) (string, error) {
	var id string
	err := db.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE created_at = ? LIMIT 1", at).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("find the deep row of %s: %w", table, err)
	}
	return id, nil
}

// timeQuery runs a query 50 times and returns the median duration.
func timeQuery(ctx context.Context, c *gqlClient, query string, vars map[string]any) (time.Duration, error) {
	var ds []time.Duration
	for range 50 {
		start := time.Now()
		var out struct {
			Webhooks, Deliveries *struct{ Edges []struct{ Cursor string } }
		}
		if err := c.do(ctx, query, vars, &out); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}
