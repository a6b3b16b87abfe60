package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// fanoutRate is the events per second published while subscribers listen.
const fanoutRate = 1000

// runFanout opens many websocket subscribers on deliveryAttempts, measures
// Hookline's resident memory per idle subscriber, then publishes 1,000
// events a second to one webhook and reports the time from each attempt's
// startedAt to its arrival at the subscribers.
func runFanout(ctx context.Context, b *bench) ([]row, error) {
	n := b.size(1000, 50)
	const eventType = "bench.fanout"
	h, rc, c, err := b.startWithWebhook(ctx, latencyWorkers, eventType, fmt.Sprintf("HOOKLINE_MAX_WEBSOCKETS_PER_KEY=%d", n+16))
	if err != nil {
		return nil, err
	}
	defer h.stop()
	defer rc.close()
	if err := publishAndWait(h, c, rc, eventType, 20); err != nil {
		return nil, err
	}

	subs := newCrowd(h.ctx)
	defer subs.close()
	mem, err := idleMemory(h, subs, n, b.settleLimit())
	if err != nil {
		return nil, err
	}
	memRow := row{Scenario: "fanout", Figure: "server memory per idle subscriber", Value: mem.perSubscriber / 1024, Unit: "KiB",
		Note: mem.note(n)}
	memRow = memRow.want("≤ 64 KiB", memRow.Value <= 64)

	flow, err := flowToSubscribers(h, c, rc, eventType, subs, b.dur(10*time.Second))
	subs.close()
	if err != nil {
		return []row{memRow}, err
	}
	return append(flow.rows(subs.members(), n), memRow), nil
}

// crowd is the subscribers of a run, each reading in its own goroutine
// from the moment it joins, so that pings are answered.
type crowd struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	subs   []*subscriber
}

func newCrowd(ctx context.Context) *crowd {
	ctx, cancel := context.WithCancel(ctx)
	return &crowd{ctx: ctx, cancel: cancel}
}

func (c *crowd) join(s *subscriber) {
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	c.wg.Go(func() { s.run(c.ctx) })
}

// close ends every subscriber and waits for their goroutines.
func (c *crowd) close() {
	c.cancel()
	c.wg.Wait()
}

func (c *crowd) members() []*subscriber {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*subscriber(nil), c.subs...)
}

// received returns the messages all subscribers have received.
func (c *crowd) received() int64 {
	var sum int64
	for _, s := range c.members() {
		sum += s.received.Load()
	}
	return sum
}

// idle is Hookline's memory before and with idle subscribers.
type idle struct {
	before, with  int64
	settled       bool
	perSubscriber float64 // bytes
}

func (m idle) note(n int) string {
	s := fmt.Sprintf("RSS %.1f MiB before, %.1f MiB with %d idle subscribers", float64(m.before)/(1<<20), float64(m.with)/(1<<20), n)
	if !m.settled {
		s += " (RSS had not settled)"
	}
	return s
}

// settleLimit bounds each wait for RSS to settle.
func (b *bench) settleLimit() time.Duration {
	if b.opts.short {
		return 5 * time.Second
	}
	return 15 * time.Second
}

// idleMemory opens n subscribers into subs and measures the RSS they add
// once Hookline has registered them all and its memory has settled.
func idleMemory(h *hookline, subs *crowd, n int, settle time.Duration) (idle, error) {
	var m idle
	before, ok1, err := settledRSS(h.ctx, h.pid, settle)
	if err != nil {
		return m, h.err("measure memory", err)
	}
	if err := openSubscribers(h, subs, n); err != nil {
		return m, err
	}
	if err := waitSubscriptions(h, n); err != nil {
		return m, err
	}
	with, ok2, err := settledRSS(h.ctx, h.pid, settle)
	if err != nil {
		return m, h.err("measure memory", err)
	}
	return idle{before: before, with: with, settled: ok1 && ok2, perSubscriber: float64(with-before) / float64(n)}, nil
}

// openSubscribers opens n subscribers into subs, 16 at a time.
func openSubscribers(h *hookline, subs *crowd, n int) error {
	var (
		mu    sync.Mutex
		first error
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				s, err := subscribe(h.ctx, h, attemptsSubscription)
				if err == nil {
					subs.join(s)
					continue
				}
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%w: subscriber %d: %w", errSubscribe, i, err)
				}
				mu.Unlock()
				return
			}
		})
	}
	wg.Wait()
	if first != nil {
		return h.err("subscribe", first)
	}
	return nil
}

// waitSubscriptions waits until Hookline reports n open subscriptions.
func waitSubscriptions(h *hookline, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		active, err := h.metric(h.ctx, "hookline_active_subscriptions")
		if err != nil {
			return err
		}
		if int(active) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hookline reports %d active subscriptions 30 s after %d subscribed", int(active), n)
		}
		if err := sleep(h.ctx, 50*time.Millisecond); err != nil {
			return h.err("wait for subscriptions", err)
		}
	}
}

// flowResult is what the subscribers saw while events flowed.
type flowResult struct {
	load     loadResult
	attempts int64 // attempts Hookline made (requests at the receiver)
	received int64 // messages at all subscribers
	// CPU during the flow, in % of a core: Hookline's and the bench's
	// (publishers, receiver and subscribers).
	hookCPU, benchCPU float64
	waitNote          string
}

// flowToSubscribers publishes at fanoutRate for d and waits for the
// receiver and then the subscribers to get everything (or stop getting
// anything).
func flowToSubscribers(h *hookline, c *gqlClient, rc *receiver, eventType string, subs *crowd, d time.Duration) (flowResult, error) {
	var f flowResult
	uniqueBefore, requestsBefore := rc.unique.Load(), rc.requests.Load()
	hookCPU, err := startCPU(h.pid)
	if err != nil {
		return f, err
	}
	benchCPU, err := startCPU(os.Getpid())
	if err != nil {
		return f, err
	}
	f.load = paced(h.ctx, fanoutRate, d, latencyWorkers, func(ctx context.Context, seq int64) error {
		return c.publish(ctx, eventType, seq)
	})
	if err := f.load.err(); err != nil {
		return f, h.err("publish", err)
	}
	if _, err := rc.waitUnique(h.ctx, uniqueBefore+f.load.done, 30*time.Second, 10*time.Second); err != nil {
		if h.ctx.Err() != nil {
			return f, h.err("wait for receipts", err)
		}
		f.waitNote = "receiver: " + err.Error()
	}
	f.attempts = rc.requests.Load() - requestsBefore
	if f.hookCPU, err = hookCPU.percent(); err != nil {
		return f, err
	}
	if f.benchCPU, err = benchCPU.percent(); err != nil {
		return f, err
	}
	want := f.attempts * int64(len(subs.members()))
	deadline, last, lastChange := time.Now().Add(30*time.Second), subs.received(), time.Now()
	for f.received = last; f.received < want; f.received = subs.received() {
		if f.received != last {
			last, lastChange = f.received, time.Now()
		}
		if time.Since(lastChange) > 3*time.Second || time.Now().After(deadline) {
			break
		}
		if err := sleep(h.ctx, 20*time.Millisecond); err != nil {
			return f, h.err("wait for subscribers", err)
		}
	}
	return f, nil
}

// rows reports the latency percentiles over all subscribers; call it after
// the subscribers' run has returned.
func (f flowResult) rows(subs []*subscriber, n int) []row {
	var lat hist
	dropped, why := 0, ""
	for _, s := range subs {
		lat.merge(&s.lat)
		if s.ended != "" {
			dropped++
			why = s.ended
		}
	}
	want := f.attempts * int64(len(subs))
	note := fmt.Sprintf("%s of %s messages received (%s attempts × %d subscribers)", thousands(f.received), thousands(want), thousands(f.attempts), len(subs))
	if dropped > 0 {
		note += fmt.Sprintf("; %d subscribers ended by the server, e.g. %s", dropped, why)
	}
	note += fmt.Sprintf("; during the flow, hookline CPU %.0f %% and bench CPU %.0f %% of a core", f.hookCPU, f.benchCPU)
	if f.waitNote != "" {
		note += "; " + f.waitNote
	}
	if s := f.load.note(); s != "" {
		note += "; " + s
	}
	fig := fmt.Sprintf("%s subscribers, %s events/s: attempt started→received ", thousands(int64(n)), thousands(fanoutRate))
	p50 := row{Scenario: "fanout", Figure: fig + "p50", Value: ms(lat.quantile(0.50)), Unit: "ms", Note: note}
	p99 := row{Scenario: "fanout", Figure: fig + "p99", Value: ms(lat.quantile(0.99)), Unit: "ms"}
	return []row{p50, p99.want("≤ 50 ms", p99.Value <= 50)}
}
