package main

import (
	"context"
	"fmt"
	"time"
)

// outageRetrySchedule retries three times quickly, then waits an hour: the
// outage window falls when every delivery waits for that long step.
const outageRetrySchedule = "100ms,200ms,400ms,1h"

// outageQuickAttempts is how many attempts a delivery makes before the long
// step: the first and the three quick retries.
const outageQuickAttempts = 4

// runOutage leaves deliveries pending while their receiver refuses
// connections. Once every delivery has made its quick attempts and waits
// for a retry an hour away, it reports Hookline's CPU over the window: the
// cost of waiting. Then it brings the receiver back on the same port,
// re-queues the deliveries with replayFailedDeliveries, as an operator
// would, and times until every one has arrived.
func runOutage(ctx context.Context, b *bench) ([]row, error) {
	pending := b.size(10_000, 1_000)
	window := b.dur(5 * time.Second)
	const eventType = "bench.outage"
	h, rc, c, err := b.startWithWebhook(ctx, publishers, eventType, "HOOKLINE_RETRY_SCHEDULE="+outageRetrySchedule)
	if err != nil {
		return nil, err
	}
	defer h.stop()
	defer rc.close()
	if err := rc.down(); err != nil {
		return nil, fmt.Errorf("receiver down: %w", err)
	}
	since := time.Now().Add(-time.Minute)
	res := closedLoop(h.ctx, publishers, int64(pending), 0, func(ctx context.Context, seq int64) error {
		return c.publish(ctx, eventType, seq)
	})
	if err := res.err(); err != nil {
		return nil, h.err("publish", err)
	}
	settled, err := waitFailures(h, float64(outageQuickAttempts*res.done), b.waitLimit())
	if err != nil {
		return nil, err
	}
	down, err := measureOutage(h, window)
	if err != nil {
		return nil, err
	}

	if err := rc.up(); err != nil {
		return nil, err
	}
	var hooks struct {
		Webhooks struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	if err := c.do(h.ctx, `{ webhooks(first: 1) { edges { node { id } } } }`, nil, &hooks); err != nil || len(hooks.Webhooks.Edges) != 1 {
		return nil, h.err("find the webhook", fmt.Errorf("%d webhooks, %v", len(hooks.Webhooks.Edges), err))
	}
	start := time.Now()
	var replayed struct{ ReplayFailedDeliveries int }
	err = c.do(h.ctx, `mutation($id: ID!, $since: Time!) { replayFailedDeliveries(webhookId: $id, since: $since) }`,
		map[string]any{"id": hooks.Webhooks.Edges[0].Node.ID, "since": since.UTC().Format(time.RFC3339Nano)}, &replayed)
	if err != nil {
		return nil, h.err("replayFailedDeliveries", err)
	}
	got, waitErr := rc.waitUnique(h.ctx, res.done, b.waitLimit(), 15*time.Second)
	if h.ctx.Err() != nil {
		return nil, h.err("wait for receipts", waitErr)
	}
	drain := time.Since(start) // how long it waited, when not all arrived
	if waitErr == nil {
		drain = time.Unix(0, rc.last.Load()).Sub(start)
	}

	cpuRow := row{Scenario: "outage", Figure: fmt.Sprintf("CPU while the receiver is down, %s pending, none due, over %s", thousands(res.done), window),
		Value: down.cpu, Unit: "% of a core",
		Note: fmt.Sprintf("%.0f failed attempts/s during the window; the %s quick refused attempts were all made %.1f s after publishing (%.1f s) ended",
			down.attemptsPerSec, thousands(outageQuickAttempts*res.done), settled.Seconds(), res.elapsed.Seconds())}
	note := fmt.Sprintf("from replayFailedDeliveries (%s re-queued); %s requests for %s deliveries", thousands(int64(replayed.ReplayFailedDeliveries)), thousands(rc.requests.Load()), thousands(res.done))
	if waitErr != nil {
		note = fmt.Sprintf("PARTIAL: %d of %d arrived (%v); ", got, res.done, waitErr) + note
	}
	drainRow := row{Scenario: "outage", Figure: "time to deliver all once the receiver is up", Value: drain.Seconds(), Unit: "s", Note: note}
	return []row{cpuRow.want("< 5 %", down.cpu < 5), drainRow}, nil
}

// waitFailures waits until Hookline has counted want failed attempts and
// returns how long that took from now.
func waitFailures(h *hookline, want float64, limit time.Duration) (time.Duration, error) {
	const failures = `hookline_delivery_attempts_total{outcome="failure"}`
	start := time.Now()
	for {
		n, err := h.metric(h.ctx, failures)
		if err != nil {
			return 0, h.err("read failed attempts", err)
		}
		if n >= want {
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("only %.0f of %.0f failed attempts after %s", n, want, limit)
		}
		if err := sleep(h.ctx, 100*time.Millisecond); err != nil {
			return 0, h.err("wait for failed attempts", err)
		}
	}
}

// outageFigures is what Hookline did while its receiver was down.
type outageFigures struct {
	cpu            float64 // % of a core
	attemptsPerSec float64
}

// measureOutage samples CPU time and failed attempts over window.
func measureOutage(h *hookline, window time.Duration) (outageFigures, error) {
	const failures = `hookline_delivery_attempts_total{outcome="failure"}`
	before, err := h.metric(h.ctx, failures)
	if err != nil {
		return outageFigures{}, err
	}
	cpu, err := startCPU(h.pid)
	if err != nil {
		return outageFigures{}, err
	}
	if err := sleep(h.ctx, window); err != nil {
		return outageFigures{}, h.err("outage window", err)
	}
	busy, err := cpu.percent()
	if err != nil {
		return outageFigures{}, err
	}
	after, err := h.metric(h.ctx, failures)
	if err != nil {
		return outageFigures{}, err
	}
	return outageFigures{cpu: busy, attemptsPerSec: (after - before) / window.Seconds()}, nil
}
