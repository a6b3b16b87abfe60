package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runCeiling measures a plain net/http client POSTing 1 KiB bodies to the
// same kind of receiver at the same concurrency as Hookline's workers: the
// physical reference of this machine.
func runCeiling(ctx context.Context, e *env) ([]row, error) {
	rc, err := newReceiver(false)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	const concurrency = 32
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = concurrency
	client := &http.Client{Transport: t}
	body := bytes.Repeat([]byte("x"), 1024)
	d := seconds(e, 10)
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				resp, err := client.Post(rc.url("/ceiling"), "application/json", bytes.NewReader(body))
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		})
	}
	wg.Wait()
	e.ceiling = float64(n.Load()) / d.Seconds()
	return []row{{Scenario: "ceiling", Figure: "plain net/http POSTs, 32 concurrent", Value: e.ceiling, Unit: "req/s"}}, nil
}

func seconds(e *env, full int) time.Duration {
	if e.short {
		return time.Second
	}
	return time.Duration(full) * time.Second
}

// publishAll publishes n events of type typ from 16 clients.
func publishAll(ctx context.Context, c *gqlClient, n int, typ string) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n) && ctx.Err() == nil; i = next.Add(1) {
				if err := c.do(ctx, publishMutation, map[string]any{"t": typ, "p": payload(int(i))}, nil); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// runThroughput: events through publishEvent matching 1, then 10 webhooks;
// deliveries per second from the first publish to the last receipt.
func runThroughput(ctx context.Context, e *env) ([]row, error) {
	var rows []row
	for _, fan := range []int{1, 10} {
		events := 20000 / fan
		if e.short {
			events = 1000 / fan
		}
		r, err := throughput(ctx, e, events, fan)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func throughput(ctx context.Context, e *env, events, fan int) (row, error) {
	p, err := startHookline(ctx, e)
	if err != nil {
		return row{}, err
	}
	defer p.stop()
	rc, err := newReceiver(false)
	if err != nil {
		return row{}, err
	}
	defer rc.close()
	c := p.client(16)
	for i := range fan {
		if _, err := c.createWebhook(ctx, rc.url(fmt.Sprintf("/t%d", i)), "bench.throughput"); err != nil {
			return row{}, err
		}
	}
	start := time.Now()
	if err := publishAll(ctx, c, events, "bench.throughput"); err != nil {
		return row{}, err
	}
	want := int64(events * fan)
	got := rc.waitFor(want, 3*time.Minute)
	elapsed := time.Duration(rc.last.Load() - start.UnixNano())
	rate := float64(got) / elapsed.Seconds()
	r := row{Scenario: "throughput", Figure: fmt.Sprintf("%d events × %d webhook(s): deliveries/s", events, fan),
		Value: rate, Unit: "/s", Ratio: ratio(rate, e.ceiling), Target: "≥ 10,000/s"}
	if fan == 1 {
		r.Target = "≥ 10,000/s and ≥ 35 % of ceiling"
	}
	if got < want {
		r.Note = fmt.Sprintf("only %d of %d arrived", got, want)
	}
	return r, nil
}

// runLatency: publish-to-receipt latency at a paced rate.
func runLatency(ctx context.Context, e *env) ([]row, error) {
	var rows []row
	for _, perSecond := range []int{100, 1000} {
		p, err := startHookline(ctx, e)
		if err != nil {
			return nil, err
		}
		rc, err := newReceiver(true)
		if err != nil {
			p.stop()
			return nil, err
		}
		c := p.client(64)
		if _, err := c.createWebhook(ctx, rc.url("/latency"), "bench.latency"); err != nil {
			p.stop()
			rc.close()
			return nil, err
		}
		d := seconds(e, 10)
		total := int(d.Seconds()) * perSecond
		interval := time.Second / time.Duration(perSecond)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		tick := time.NewTicker(interval)
		var failed atomic.Int64
		for i := range total {
			<-tick.C
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := c.do(ctx, publishMutation, map[string]any{"t": "bench.latency", "p": payload(i)}, nil); err != nil {
					failed.Add(1)
				}
			})
		}
		tick.Stop()
		wg.Wait()
		got := rc.waitFor(int64(total)-failed.Load(), time.Minute)
		p50, p95, p99 := rc.percentiles()
		note := ""
		if got < int64(total) {
			note = fmt.Sprintf("%d of %d arrived, %d publishes failed", got, total, failed.Load())
		}
		target := ""
		if perSecond == 1000 {
			target = "p50 ≤ 5 ms, p99 ≤ 50 ms"
		}
		fig := fmt.Sprintf("%d events/s", perSecond)
		rows = append(rows,
			row{Scenario: "latency", Figure: fig + ": publish→receipt p50", Value: ms(p50), Unit: "ms", Target: target, Note: note},
			row{Scenario: "latency", Figure: fig + ": publish→receipt p95", Value: ms(p95), Unit: "ms"},
			row{Scenario: "latency", Figure: fig + ": publish→receipt p99", Value: ms(p99), Unit: "ms", Target: target})
		p.stop()
		rc.close()
	}
	return rows, nil
}

// runIngest: publishEvent calls per second while the receiver is down, so
// deliveries fail and wait an hour before their retry.
func runIngest(ctx context.Context, e *env) ([]row, error) {
	p, err := startHookline(ctx, e, "HOOKLINE_RETRY_SCHEDULE=1h")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	c := p.client(16)
	if _, err := c.createWebhook(ctx, "http://127.0.0.1:9/closed", "bench.ingest"); err != nil {
		return nil, err
	}
	n := 20000
	if e.short {
		n = 1000
	}
	start := time.Now()
	if err := publishAll(ctx, c, n, "bench.ingest"); err != nil {
		return nil, err
	}
	rate := float64(n) / time.Since(start).Seconds()

	// The same events through publishEvents, 100 per call.
	const batch = 100
	var next atomic.Int64
	var failed atomic.Int64
	start = time.Now()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for b := next.Add(1); b <= int64(n/batch) && ctx.Err() == nil; b = next.Add(1) {
				inputs := make([]map[string]any, batch)
				for i := range inputs {
					inputs[i] = map[string]any{"type": "bench.ingest", "payload": payload(i)}
				}
				if err := c.do(ctx, `mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id } }`, map[string]any{"in": inputs}, nil); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	batched := float64(n) / time.Since(start).Seconds()
	note := ""
	if f := failed.Load(); f > 0 {
		note = fmt.Sprintf("%d batches failed", f)
	}
	return []row{
		{Scenario: "ingest", Figure: fmt.Sprintf("publishEvent calls/s, 16 clients, %d events", n), Value: rate, Unit: "/s", Target: "≥ 5,000/s",
			Note: "concurrent publishes share commits"},
		{Scenario: "ingest", Figure: fmt.Sprintf("events/s through publishEvents, %d per call, 16 clients", batch), Value: batched, Unit: "/s", Target: "≥ 5,000/s", Note: note},
	}, nil
}

// runOutage: deliveries pending while the receiver refuses connections:
// Hookline's CPU while it is down, then the time to drain once it is up.
func runOutage(ctx context.Context, e *env) ([]row, error) {
	// Retries every step (±20 %): while none is due, Hookline should be idle.
	// The step outlasts publishing and the measuring window, so that the
	// window sees the process waiting, not retrying.
	step := 30 * time.Second
	if e.short {
		step = 3 * time.Second
	}
	p, err := startHookline(ctx, e, fmt.Sprintf("HOOKLINE_RETRY_SCHEDULE=%s,%s,%s,%s", step, step, step, step))
	if err != nil {
		return nil, err
	}
	defer p.stop()
	rc, err := newReceiver(false)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	c := p.client(16)
	if _, err := c.createWebhook(ctx, rc.url("/outage"), "bench.outage"); err != nil {
		return nil, err
	}
	rc.down()
	n := 10000
	if e.short {
		n = 1000
	}
	if err := publishAll(ctx, c, n, "bench.outage"); err != nil {
		return nil, err
	}
	time.Sleep(step / 30) // the first attempts fail at once; measure while none is due
	window := step / 6
	cpu0, err := p.cpuSeconds()
	if err != nil {
		return nil, err
	}
	time.Sleep(window)
	cpu1, err := p.cpuSeconds()
	if err != nil {
		return nil, err
	}
	busy := 100 * (cpu1 - cpu0) / window.Seconds()
	if err := rc.up(); err != nil {
		return nil, err
	}
	start := time.Now()
	got := rc.waitFor(int64(n), 3*time.Minute)
	drain := time.Since(start)
	r := row{Scenario: "outage", Figure: fmt.Sprintf("time to drain %d deliveries once the receiver is up", n), Value: drain.Seconds(), Unit: "s",
		Note: fmt.Sprintf("bounded by the retry step (%s ±20 %%) still to run", step)}
	if got < int64(n) {
		r.Note = fmt.Sprintf("only %d of %d arrived", got, n)
	}
	return []row{
		{Scenario: "outage", Figure: fmt.Sprintf("CPU while the receiver is down (%d pending)", n), Value: busy, Unit: "% of a core", Target: "< 5 %"},
		r,
	}, nil
}
