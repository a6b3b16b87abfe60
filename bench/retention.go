package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/model"
)

// retentionRate is the publishing rate, events/s, during both latency windows.
const retentionRate = 100

// retentionKinds are the label values of hookline_retention_deleted_total.
var retentionKinds = []string{"events", "deliveries", "attempts"}

// runRetention bulk-loads finished deliveries, each with one attempt and
// its event, all older than the default retention (720h), into a Hookline
// that keeps everything (HOOKLINE_RETENTION=0). It restarts Hookline on
// the same database, still keeping everything, and measures
// publish-to-receipt latency at 100 events/s; then it restarts it with
// the default retention and a sweep every second, measures the latency
// again while the sweeper deletes, and reports the rows deleted per
// second from the first to the last.
func runRetention(ctx context.Context, b *bench) ([]row, error) {
	const eventType = "bench.retention"
	n := b.size(1_000_000, 20_000)
	window := b.dur(20 * time.Second)
	h, rc, c, err := b.startWithWebhook(ctx, latencyWorkers, eventType, "HOOKLINE_RETENTION=0")
	if err != nil {
		return nil, err
	}
	running := h
	defer func() { running.stop() }()
	defer rc.close()
	db, err := openDatabase(h.dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	webhookID, err := onlyWebhook(h.ctx, db)
	if err != nil {
		return nil, h.err("find the webhook", err)
	}
	start := time.Now()
	if err := loadFinished(h.ctx, db, n, webhookID, eventType); err != nil {
		return nil, h.err("bulk load", err)
	}
	loaded := fmt.Sprintf("%s finished deliveries, each with 1 attempt and its event (~1 KiB payload and body), loaded in %.1f s",
		thousands(int64(n)), time.Since(start).Seconds())
	b.logf("retention: %s", loaded)

	// Both windows run on a fresh process, warmed up alike.
	if h, err = h.restart(ctx, "HOOKLINE_RETENTION=0"); err != nil {
		return nil, err
	}
	running = h
	c = h.client(latencyWorkers)
	without, err := latencyWindow(h, c, rc, eventType, window, 1_000_000)
	if err != nil {
		return nil, err
	}

	if h, err = h.restart(ctx, "HOOKLINE_RETENTION=720h", "HOOKLINE_RETENTION_INTERVAL=1s"); err != nil {
		return nil, err
	}
	running = h
	c = h.client(latencyWorkers)
	total := int64(3 * n)
	progress := make(chan sweepProgress, 1)
	go func() { progress <- watchSweep(h, total, 30*time.Minute) }()
	during, err := latencyWindow(h, c, rc, eventType, window, 2_000_000)
	if err != nil {
		return nil, err
	}
	sweptDuring, err := deletedSoFar(h)
	if err != nil {
		return nil, err
	}
	sw := <-progress
	if sw.err != nil {
		return nil, sw.err
	}

	note := loaded + "; from the first row deleted to the last (polled every 100 ms)"
	if sw.deleted != total {
		note = fmt.Sprintf("INCOMPLETE: %d of %d rows deleted; %s", sw.deleted, total, note)
	}
	rate := row{Scenario: "retention", Figure: fmt.Sprintf("rows deleted/s (%s rows)", thousands(total)),
		Value: float64(sw.deleted) / sw.took.Seconds(), Unit: "rows/s", Note: fmt.Sprintf("%.1f s; %s", sw.took.Seconds(), note)}
	stillSweeping := sweptDuring < total
	windowNote := fmt.Sprintf("%s window at %d events/s", window, retentionRate)
	if !stillSweeping {
		windowNote += "; THE SWEEP ENDED BEFORE THE WINDOW DID"
	}
	p99 := without.lat.quantile(0.99)
	base := row{Scenario: "retention", Figure: fmt.Sprintf("%d events/s: publish→receipt p99 without a sweep", retentionRate),
		Value: ms(p99), Unit: "ms", Note: without.note}
	ratio := float64(during.lat.quantile(0.99)) / float64(max(p99, time.Microsecond))
	sweeping := row{Scenario: "retention", Figure: fmt.Sprintf("%d events/s: publish→receipt p99 during the sweep", retentionRate),
		Value: ms(during.lat.quantile(0.99)), Unit: "ms", Note: fmt.Sprintf("%.2f× without; p50 %.1f ms against %.1f ms; %s%s",
			ratio, ms(during.lat.quantile(0.5)), ms(without.lat.quantile(0.5)), windowNote, joinNote(during.note))}
	return []row{
		rate.want("≥ 20,000/s", rate.Value >= 20_000),
		base,
		sweeping.want("≤ 1.5× without", ratio <= 1.5),
	}, nil
}

// window is one latency measurement.
type window struct {
	lat  hist
	note string
}

// latencyWindow publishes 50 events one after another to warm up a fresh
// process, then at retentionRate for d, waits for the receipts and returns
// the latencies of the second part. Payloads carry seqBase+i.
func latencyWindow(h *hookline, c *gqlClient, rc *receiver, eventType string, d time.Duration, seqBase int64) (window, error) {
	const warm = 50
	before := rc.unique.Load()
	for i := range warm {
		if err := c.publish(h.ctx, eventType, seqBase+int64(i)); err != nil {
			return window{}, h.err("warm up", err)
		}
	}
	if _, err := rc.waitUnique(h.ctx, before+warm, 30*time.Second, 10*time.Second); err != nil {
		return window{}, h.err("warm up", err)
	}
	seqBase += warm
	rc.resetLatency()
	sent := rc.unique.Load()
	res := paced(h.ctx, retentionRate, d, latencyWorkers, func(ctx context.Context, seq int64) error {
		return c.publish(ctx, eventType, seqBase+seq)
	})
	if err := res.err(); err != nil {
		return window{}, h.err("publish", err)
	}
	got, err := rc.waitUnique(h.ctx, sent+res.done, 60*time.Second, 30*time.Second)
	if h.ctx.Err() != nil {
		return window{}, h.err("wait for receipts", err)
	}
	w := window{lat: rc.latency(), note: res.note()}
	if err != nil {
		w.note = fmt.Sprintf("PARTIAL: %d of %d arrived (%v) %s", got-sent, res.done, err, w.note)
	}
	return w, nil
}

func joinNote(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

// deletedSoFar adds up hookline_retention_deleted_total over its kinds.
func deletedSoFar(h *hookline) (int64, error) {
	var sum float64
	for _, kind := range retentionKinds {
		v, err := h.metric(h.ctx, `hookline_retention_deleted_total{kind="`+kind+`"}`)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return int64(sum), nil
}

// sweepProgress is how a sweep went: rows deleted, and the time from the
// first to the last.
type sweepProgress struct {
	deleted int64
	took    time.Duration
	err     error
}

// watchSweep polls the deletion counters every 100 ms until they reach
// total, for at most limit, or until they stop moving for a minute.
func watchSweep(h *hookline, total int64, limit time.Duration) sweepProgress {
	deadline := time.Now().Add(limit)
	var first, lastChange time.Time
	last := int64(0)
	for {
		got, err := deletedSoFar(h)
		if err != nil {
			return sweepProgress{deleted: got, err: err}
		}
		now := time.Now()
		if got > 0 && first.IsZero() {
			first = now
		}
		if got != last {
			last, lastChange = got, now
		}
		if got >= total || (!lastChange.IsZero() && now.Sub(lastChange) > time.Minute) || now.After(deadline) {
			return sweepProgress{deleted: got, took: max(lastChange.Sub(first), 100*time.Millisecond)}
		}
		if err := sleep(h.ctx, 100*time.Millisecond); err != nil {
			return sweepProgress{deleted: got, err: h.err("wait for the sweep", err)}
		}
	}
}

// onlyWebhook returns the ID of the one webhook in the database.
func onlyWebhook(ctx context.Context, db *sql.DB) (string, error) {
	var id string
	err := db.QueryRowContext(ctx, "SELECT id FROM webhooks").Scan(&id)
	return id, err
}

// seqID returns the ID of row i of a bulk load: prefix, a stem for the run
// and i, so that one table's rows can name another's.
func seqID(prefix, stem string, i int) string {
	return fmt.Sprintf("%s%s%016d", prefix, stem, i)
}

// loadFinished bulk-loads n events of benchOwner created 800 hours ago,
// one microsecond apart, each with a SUCCEEDED delivery to the webhook
// and its one attempt: a month and more of history, all due for
// retention's default of 720 hours.
func loadFinished(ctx context.Context, db *sql.DB, n int, webhookID, eventType string) error {
	stem := randomHex(5)
	eventID := func(i int) string { return seqID(model.PrefixEvent, stem, i) }
	deliveryID := func(i int) string { return seqID(model.PrefixDelivery, stem, i) }
	base := time.Now().UTC().Add(-800 * time.Hour).Truncate(time.Microsecond)
	payload := `{"sentAt":0,"seq":0,"awb":"125-12345675","pad":"` + padding + `"}`
	body := `{"type":"` + eventType + `","timestamp":"2026-01-01T00:00:00Z","data":` + payload + `}`
	headers := `[{"name":"Content-Type","value":"application/json"},{"name":"webhook-id","value":"x"},{"name":"webhook-signature","value":"v1,redacted"}]`
	tables := []table{
		{
			name: "events", prefix: model.PrefixEvent, id: eventID,
			columns: []string{"id", "owner", "type", "payload", "request_id", "created_at"},
			values: func(i int, id string, at time.Time) []any {
				return []any{id, benchOwner, eventType, payload, "bench", at}
			},
		},
		{
			name: "deliveries", prefix: model.PrefixDelivery, id: deliveryID,
			columns: []string{"id", "owner", "event_id", "webhook_id", "status", "attempt_count", "lease_token", "created_at", "updated_at"},
			values: func(i int, id string, at time.Time) []any {
				return []any{id, benchOwner, eventID(i), webhookID, "SUCCEEDED", 1, "", at, at.Add(time.Second)}
			},
		},
		{
			name: "delivery_attempts", prefix: model.PrefixAttempt,
			columns: []string{"id", "owner", "delivery_id", "webhook_id", "event_id", "event_type", "attempt_number", "outcome", "status_code",
				"duration_ms", "request_headers", "request_body", "response_headers", "response_body", "started_at", "request_id"},
			values: func(i int, id string, at time.Time) []any {
				return []any{id, benchOwner, deliveryID(i), webhookID, eventID(i), eventType, 1, "SUCCESS", 204,
					3, headers, body, "[]", "", at, "bench"}
			},
		},
	}
	for _, t := range tables {
		if _, err := bulkLoad(ctx, db, t, n, base, 0); err != nil {
			return err
		}
	}
	return nil
}

// mysqlDatabase returns the database name of a mysql:// URL, "" for SQLite.
func mysqlDatabase(dbURL string) string {
	rest, ok := strings.CutPrefix(dbURL, "mysql://")
	if !ok {
		return ""
	}
	_, name, _ := strings.Cut(rest, ")/")
	name, _, _ = strings.Cut(name, "?")
	return name
}
