package main

import (
	"context"
	"fmt"
	"time"
)

// publishers is how many clients publish at once in the closed-loop scenarios.
const publishers = 16

// runThroughput publishes events through publishEvent as fast as 16 clients
// can, each event matching 1 webhook, then 10, and reports deliveries per
// second from the first publish to the last receipt.
func runThroughput(ctx context.Context, b *bench) ([]row, error) {
	events := b.size(20_000, 1_000)
	var rows []row
	for _, fanout := range []int{1, 10} {
		r, err := throughput(ctx, b, events, fanout)
		if err != nil {
			return rows, fmt.Errorf("%d webhook(s) per event: %w", fanout, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// throughput runs one phase on a fresh Hookline.
func throughput(ctx context.Context, b *bench, events, fanout int) (row, error) {
	h, err := b.start(ctx)
	if err != nil {
		return row{}, err
	}
	defer h.stop()
	rc, err := startReceiver()
	if err != nil {
		return row{}, err
	}
	defer rc.close()
	c := h.client(publishers)
	const eventType = "bench.throughput"
	if err := c.createWebhooks(h.ctx, fanout, rc.url("/throughput"), eventType); err != nil {
		return row{}, h.err("set up", err)
	}

	cpu, err := startCPU(h.pid)
	if err != nil {
		return row{}, err
	}
	split, err := startCPUSplit(cpu, b.opts.db == "mysql")
	if err != nil {
		return row{}, err
	}
	start := time.Now()
	res := closedLoop(h.ctx, publishers, int64(events), 0, func(ctx context.Context, seq int64) error {
		return c.publish(ctx, eventType, seq)
	})
	if err := res.err(); err != nil {
		return row{}, h.err("publish", err)
	}
	want := res.done * int64(fanout)
	got, waitErr := rc.waitUnique(h.ctx, want, b.waitLimit(), 15*time.Second)
	if h.ctx.Err() != nil {
		return row{}, h.err("wait for receipts", waitErr)
	}
	busy, err := cpu.percent()
	if err != nil {
		return row{}, err
	}
	var rate float64
	if got > 0 {
		rate = float64(got) / time.Unix(0, rc.last.Load()).Sub(start).Seconds()
	}

	where, err := split.note(got, "delivery")
	if err != nil {
		return row{}, err
	}
	note := fmt.Sprintf("publishing took %.1f s (%.0f events/s); hookline CPU %.0f %% of a core; %s",
		res.elapsed.Seconds(), float64(res.done)/res.elapsed.Seconds(), busy, where)
	if waitErr != nil {
		note = fmt.Sprintf("PARTIAL: %d of %d deliveries arrived (%v); ", got, want, waitErr) + note
	}
	if dup := rc.requests.Load() - rc.unique.Load(); dup > 0 {
		note += fmt.Sprintf("; %d duplicate requests", dup)
	}
	if n := res.note(); n != "" {
		note += "; " + n
	}
	hooks := "1 webhook"
	if fanout > 1 {
		hooks = fmt.Sprintf("%d webhooks", fanout)
	}
	r := row{Scenario: "throughput", Figure: fmt.Sprintf("%s events × %s, %d clients: deliveries/s", thousands(int64(events)), hooks, publishers),
		Value: rate, Unit: "/s", Note: note}.toCeiling(b.ceiling)
	met := rate >= 10_000 && (r.Ratio == nil || *r.Ratio >= 0.35)
	return r.want("≥ 10,000/s and ≥ 35 % of ceiling", met), nil
}

// waitLimit bounds the wait for deliveries after publishing ends.
func (b *bench) waitLimit() time.Duration {
	if b.opts.short {
		return 30 * time.Second
	}
	return 120 * time.Second
}
