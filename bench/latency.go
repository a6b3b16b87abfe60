package main

import (
	"context"
	"fmt"
	"time"
)

// latencyWorkers bounds the publishes in flight at once while pacing.
const latencyWorkers = 64

// runLatency publishes at a steady 100, then 1,000 events a second to one
// webhook and reports publish-to-receipt percentiles: from the sentAt the
// client puts in the payload just before the request to the receiver's
// clock on arrival (same machine, same clock).
func runLatency(ctx context.Context, b *bench) ([]row, error) {
	const eventType = "bench.latency"
	h, rc, c, err := b.startWithWebhook(ctx, latencyWorkers, eventType)
	if err != nil {
		return nil, err
	}
	defer h.stop()
	defer rc.close()
	// Warm up connections and pools, then forget what that measured.
	if err := publishAndWait(h, c, rc, eventType, 50); err != nil {
		return nil, err
	}

	var rows []row
	for _, rate := range []int{100, 1000} {
		rc.resetLatency()
		sent := rc.unique.Load()
		res := paced(h.ctx, rate, b.dur(10*time.Second), latencyWorkers, func(ctx context.Context, seq int64) error {
			return c.publish(ctx, eventType, seq)
		})
		if err := res.err(); err != nil {
			return rows, h.err(fmt.Sprintf("%d events/s", rate), err)
		}
		got, waitErr := rc.waitUnique(h.ctx, sent+res.done, 30*time.Second, 10*time.Second)
		if h.ctx.Err() != nil {
			return rows, h.err("wait for receipts", waitErr)
		}
		rows = append(rows, latencyRows(rate, rc.latency(), res, got-sent, waitErr)...)
	}
	return rows, nil
}

func latencyRows(rate int, lat hist, res loadResult, got int64, waitErr error) []row {
	fig := fmt.Sprintf("%s events/s: publish→receipt ", thousands(int64(rate)))
	note := res.note()
	if waitErr != nil {
		note = fmt.Sprintf("PARTIAL: %d of %d arrived (%v) %s", got, res.done, waitErr, note)
	}
	p50 := row{Scenario: "latency", Figure: fig + "p50", Value: ms(lat.quantile(0.50)), Unit: "ms", Note: note}
	p95 := row{Scenario: "latency", Figure: fig + "p95", Value: ms(lat.quantile(0.95)), Unit: "ms"}
	p99 := row{Scenario: "latency", Figure: fig + "p99", Value: ms(lat.quantile(0.99)), Unit: "ms"}
	if rate == 1000 {
		p50 = p50.want("≤ 5 ms", p50.Value <= 5)
		p99 = p99.want("≤ 50 ms", p99.Value <= 50)
	}
	return []row{p50, p95, p99}
}

// publishAndWait publishes n events one after another and waits for them.
func publishAndWait(h *hookline, c *gqlClient, rc *receiver, eventType string, n int) error {
	before := rc.unique.Load()
	for i := range n {
		if err := c.publish(h.ctx, eventType, int64(i)); err != nil {
			return h.err("warm up", err)
		}
	}
	if _, err := rc.waitUnique(h.ctx, before+int64(n), 30*time.Second, 10*time.Second); err != nil {
		return h.err("warm up", err)
	}
	return nil
}
