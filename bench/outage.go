package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// outageRetrySchedule retries quickly, then every second, long enough that
// no delivery runs out of attempts (about 31 s) before the receiver is back.
var outageRetrySchedule = "100ms,200ms,400ms,800ms" + strings.Repeat(",1s", 30)

// outageSteady is how long after its publication a delivery has left the
// quick first steps of the schedule (1.5 s, +20 % jitter) and retries
// every second: the window measures that steady state.
const outageSteady = 1800 * time.Millisecond

// runOutage leaves deliveries pending while their receiver refuses
// connections, with a retry schedule that keeps them retrying, and reports
// Hookline's CPU during the outage; then brings the receiver back on the
// same port and times until every delivery has arrived.
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
	res := closedLoop(h.ctx, publishers, int64(pending), 0, func(ctx context.Context, seq int64) error {
		return c.publish(ctx, eventType, seq)
	})
	if err := res.err(); err != nil {
		return nil, h.err("publish", err)
	}

	if err := sleep(h.ctx, outageSteady); err != nil {
		return nil, h.err("wait for steady retries", err)
	}
	down, err := measureOutage(h, window)
	if err != nil {
		return nil, err
	}
	if err := rc.up(); err != nil {
		return nil, err
	}
	start := time.Now()
	got, waitErr := rc.waitUnique(h.ctx, res.done, b.waitLimit(), 15*time.Second)
	if h.ctx.Err() != nil {
		return nil, h.err("wait for receipts", waitErr)
	}
	drain := time.Since(start) // how long it waited, when not all arrived
	if waitErr == nil {
		drain = time.Unix(0, rc.last.Load()).Sub(start)
	}

	cpuRow := row{Scenario: "outage", Figure: fmt.Sprintf("CPU while the receiver is down, %s pending, over %s", thousands(res.done), window),
		Value: down.cpu, Unit: "% of a core",
		Note: fmt.Sprintf("%.0f failed attempts/s during the window, which starts %s after publishing (%.1f s) ended", down.attemptsPerSec, outageSteady, res.elapsed.Seconds())}
	note := fmt.Sprintf("retry step 1 s ±20 %%; %s requests for %s deliveries", thousands(rc.requests.Load()), thousands(res.done))
	if waitErr != nil {
		note = fmt.Sprintf("PARTIAL: %d of %d arrived (%v); ", got, res.done, waitErr) + note
	}
	drainRow := row{Scenario: "outage", Figure: "time to deliver all once the receiver is up", Value: drain.Seconds(), Unit: "s", Note: note}
	return []row{cpuRow.want("< 5 %", down.cpu < 5), drainRow}, nil
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
