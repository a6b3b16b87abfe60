package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// runStorage publishes events with a ~1 KiB payload to one webhook whose
// receiver fails each delivery twice and then accepts it, so that every
// delivery ends SUCCEEDED after 3 attempts, and reports what the database
// holds per delivery: on MySQL the data and index length of Hookline's
// tables after ANALYZE TABLE, on SQLite the file's size after a checkpoint.
func runStorage(ctx context.Context, b *bench) ([]row, error) {
	const eventType = "bench.storage"
	n := b.size(10_000, 1_000)
	h, err := b.start(ctx, "HOOKLINE_RETRY_SCHEDULE=10ms,10ms,10ms", "HOOKLINE_RETENTION=0")
	if err != nil {
		return nil, err
	}
	defer h.stop()
	rc, err := startReceiver()
	if err != nil {
		return nil, err
	}
	defer rc.close()
	rc.mu.Lock()
	rc.failFirst, rc.tries = 2, map[string]int{}
	rc.mu.Unlock()
	c := h.client(16)
	if _, err := c.createWebhook(h.ctx, rc.url("/storage"), eventType); err != nil {
		return nil, h.err("set up", err)
	}
	start := time.Now()
	res := closedLoop(h.ctx, 16, int64(n), 0, func(ctx context.Context, seq int64) error {
		return c.publish(ctx, eventType, seq)
	})
	if err := res.err(); err != nil {
		return nil, h.err("publish", err)
	}
	if got, err := rc.waitUnique(h.ctx, int64(n), 5*time.Minute, 30*time.Second); err != nil {
		return nil, h.err(fmt.Sprintf("wait for deliveries (%d of %d arrived)", got, n), err)
	}
	if err := waitMetric(h, `hookline_deliveries_finished_total{status="succeeded"}`, float64(n), time.Minute); err != nil {
		return nil, err
	}
	b.logf("storage: %s deliveries, 3 attempts each, in %.1f s", thousands(int64(n)), time.Since(start).Seconds())

	db, err := openDatabase(h.dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var (
		total  int64
		tables map[string]int64
		how    string
	)
	if name := mysqlDatabase(h.dbURL); name != "" {
		tables, err = mysqlTableSizes(h.ctx, db, name)
		how = "data + index length of every table after ANALYZE TABLE"
	} else {
		total, err = sqliteFileSize(h.ctx, db, strings.TrimPrefix(h.dbURL, "sqlite://"))
		how = "the file's size after a checkpoint"
	}
	if err != nil {
		return nil, h.err("measure the database", err)
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		total += tables[name]
		if tables[name] >= 64<<10 {
			parts = append(parts, fmt.Sprintf("%s %.0f", name, float64(tables[name])/float64(n)))
		}
	}
	note := fmt.Sprintf("%s deliveries of a ~1 KiB payload, each failing twice then succeeding; %s, %.1f MB in all",
		thousands(int64(n)), how, float64(total)/1e6)
	if tries := rc.requests.Load(); tries != int64(3*n) {
		note = fmt.Sprintf("WRONG ATTEMPT COUNT: %d requests, want %d; %s", tries, 3*n, note)
	}
	if len(parts) > 0 {
		note += "; bytes per delivery by table: " + strings.Join(parts, ", ")
	}
	r := row{Scenario: "storage", Figure: "bytes on disk per delivery (3 attempts)", Value: float64(total) / float64(n), Unit: "B", Note: note}
	return []row{r.want("≤ 4 KiB", r.Value <= 4096)}, nil
}

// waitMetric waits until a series of /metrics reaches want.
func waitMetric(h *hookline, series string, want float64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		v, err := h.metric(h.ctx, series)
		if err != nil {
			return err
		}
		if v >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s = %v after %s; want %v", series, v, limit, want)
		}
		if err := sleep(h.ctx, 50*time.Millisecond); err != nil {
			return h.err("wait for "+series, err)
		}
	}
}

// mysqlTableSizes refreshes the statistics of every table of the database
// and returns each one's data and index length.
func mysqlTableSizes(ctx context.Context, db *sql.DB, name string) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", name)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range names {
		// ANALYZE TABLE answers with a result set, which must be read.
		r, err := db.QueryContext(ctx, "ANALYZE TABLE `"+t+"`")
		if err != nil {
			return nil, fmt.Errorf("analyze %s: %w", t, err)
		}
		for r.Next() {
		}
		r.Close()
	}
	sizes := map[string]int64{}
	rows, err = db.QueryContext(ctx, "SELECT table_name, data_length + index_length FROM information_schema.tables WHERE table_schema = ?", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var size int64
		if err := rows.Scan(&t, &size); err != nil {
			return nil, err
		}
		sizes[t] = size
	}
	return sizes, rows.Err()
}

// sqliteFileSize moves the write-ahead log into the database file and
// returns the file's size, with whatever log is left.
func sqliteFileSize(ctx context.Context, db *sql.DB, path string) (int64, error) {
	var busy, logged, moved int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		if err == nil {
			total += fi.Size()
		}
	}
	return total, nil
}
