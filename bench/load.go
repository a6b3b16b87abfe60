package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxFailures stops a load early: past it, Hookline is broken, not slow.
const maxFailures = 100

// lateAfter is how far behind its schedule a paced call counts as late.
const lateAfter = 5 * time.Millisecond

// loadResult is what a load generator did.
type loadResult struct {
	done     int64 // calls that succeeded
	failed   int64
	late     int64 // paced calls started more than lateAfter behind schedule
	firstErr error
	elapsed  time.Duration
}

// err returns an error when too many calls failed to trust the figures.
func (r loadResult) err() error {
	if r.failed >= maxFailures {
		return fmt.Errorf("%d calls failed, the first with: %w", r.failed, r.firstErr)
	}
	return nil
}

// note describes failures and lateness for a row's note, or "".
func (r loadResult) note() string {
	var s string
	if r.failed > 0 {
		s = fmt.Sprintf("%d calls failed (first: %v)", r.failed, r.firstErr)
	}
	if r.late > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%d of %d calls started over %s behind schedule (every client waiting for Hookline, or the bench short of CPU)", r.late, r.done+r.failed, lateAfter)
	}
	return s
}

// counter collects calls' outcomes from many goroutines.
type counter struct {
	done, failed atomic.Int64
	once         sync.Once
	firstErr     error
	stop         context.CancelFunc
}

func (c *counter) record(err error) {
	if err == nil {
		c.done.Add(1)
		return
	}
	c.once.Do(func() { c.firstErr = err })
	if c.failed.Add(1) >= maxFailures {
		c.stop()
	}
}

func (c *counter) result(start time.Time) loadResult {
	return loadResult{done: c.done.Load(), failed: c.failed.Load(), firstErr: c.firstErr, elapsed: time.Since(start)}
}

// closedLoop runs fn from workers goroutines, each calling again as soon as
// its call returns, until n calls were made (n > 0) or d passed (d > 0),
// whichever comes first. fn gets the call's sequence number.
func closedLoop(ctx context.Context, workers int, n int64, d time.Duration, fn func(ctx context.Context, seq int64) error) loadResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &counter{stop: cancel}
	var next atomic.Int64
	start := time.Now()
	var deadline time.Time
	if d > 0 {
		deadline = start.Add(d)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				seq := next.Add(1) - 1
				if (n > 0 && seq >= n) || (d > 0 && time.Now().After(deadline)) {
					return
				}
				c.record(fn(ctx, seq))
			}
		})
	}
	wg.Wait()
	return c.result(start)
}

// paced calls fn rate times a second for d (open loop: the schedule does
// not wait for answers), from at most workers calls at once. When all are
// busy the schedule slips, and the slipped calls are counted as late.
func paced(ctx context.Context, rate int, d time.Duration, workers int, fn func(ctx context.Context, seq int64) error) loadResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &counter{stop: cancel}
	total := int64(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	seqs := make(chan int64)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for seq := range seqs {
				c.record(fn(ctx, seq))
			}
		})
	}
	start := time.Now()
	var late int64
schedule:
	for seq := range total {
		at := start.Add(time.Duration(seq) * interval)
		if wait := time.Until(at); wait > 0 {
			if sleep(ctx, wait) != nil {
				break
			}
		} else if -wait > lateAfter {
			late++
		}
		select {
		case seqs <- seq:
		case <-ctx.Done():
			break schedule
		}
	}
	close(seqs)
	wg.Wait()
	r := c.result(start)
	r.late = late
	return r
}
