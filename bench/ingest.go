package main

import (
	"context"
	"fmt"
	"net"
	"time"
)

// batchSize is how many events one publishEvents call carries (its maximum).
const batchSize = 100

// runIngest measures publishEvent calls per second from 16 clients while
// the webhook's receiver is gone (its URL is a closed port): every delivery
// fails at once and waits an hour for its retry, so the figure is the cost
// of accepting events. Then the same with publishEvents, 100 events a call.
func runIngest(ctx context.Context, b *bench) ([]row, error) {
	single, err := ingest(ctx, b, false)
	if err != nil {
		return nil, err
	}
	batched, err := ingest(ctx, b, true)
	if err != nil {
		return []row{single}, err
	}
	return []row{single, batched}, nil
}

func ingest(ctx context.Context, b *bench, batched bool) (row, error) {
	var zero row
	h, err := b.start(ctx, "HOOKLINE_RETRY_SCHEDULE=1h")
	if err != nil {
		return zero, err
	}
	defer h.stop()
	closed, err := closedPort()
	if err != nil {
		return zero, err
	}
	c := h.client(publishers)
	const eventType = "bench.ingest"
	if _, err := c.createWebhook(h.ctx, "http://"+closed+"/ingest", eventType); err != nil {
		return zero, h.err("set up", err)
	}
	cpu, err := startCPU(h.pid)
	if err != nil {
		return zero, err
	}
	split, err := startCPUSplit(cpu, b.opts.db == "mysql")
	if err != nil {
		return zero, err
	}
	perCall := 1
	res := closedLoop(h.ctx, publishers, 0, b.dur(10*time.Second), func(ctx context.Context, seq int64) error {
		if batched {
			return c.publishBatch(ctx, eventType, seq*batchSize, batchSize)
		}
		return c.publish(ctx, eventType, seq)
	})
	if batched {
		perCall = batchSize
	}
	if err := res.err(); err != nil {
		return zero, h.err("publish", err)
	}
	if h.ctx.Err() != nil {
		return zero, context.Cause(h.ctx)
	}
	busy, err := cpu.percent()
	if err != nil {
		return zero, err
	}
	events := res.done * int64(perCall)
	rate := float64(events) / res.elapsed.Seconds()
	where, err := split.note(events, "event")
	if err != nil {
		return zero, err
	}
	note := fmt.Sprintf("%s events in %.1f s; hookline CPU %.0f %% of a core; %s", thousands(events), res.elapsed.Seconds(), busy, where)
	if n := res.note(); n != "" {
		note += "; " + n
	}
	figure := fmt.Sprintf("publishEvent calls/s, %d clients, receiver down", publishers)
	if batched {
		figure = fmt.Sprintf("events/s through publishEvents, %d per call, %d clients, receiver down", batchSize, publishers)
	}
	r := row{Scenario: "ingest", Figure: figure, Value: rate, Unit: "/s", Note: note}
	return r.want("≥ 5,000/s", rate >= 5000), nil
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a closed port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}
