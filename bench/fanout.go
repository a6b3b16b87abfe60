package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// runFanout: many websocket subscribers on deliveryAttempts while events
// flow: attempt-started-to-received latency, and memory per idle subscriber.
func runFanout(ctx context.Context, e *env) ([]row, error) {
	subscribers := 1000
	if e.short {
		subscribers = 50
	}
	p, err := startHookline(ctx, e, fmt.Sprintf("HOOKLINE_MAX_WEBSOCKETS_PER_KEY=%d", subscribers+10))
	if err != nil {
		return nil, err
	}
	defer p.stop()
	rc, err := newReceiver(false)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	c := p.client(64)
	if _, err := c.createWebhook(ctx, rc.url("/fanout"), "bench.fanout"); err != nil {
		return nil, err
	}
	rssBefore, err := settledRSS(p)
	if err != nil {
		return nil, err
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		received  atomic.Int64
	)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range subscribers {
		conn, err := subscribe(subCtx, p)
		if err != nil {
			return nil, fmt.Errorf("subscriber %d: %w", i, err)
		}
		wg.Go(func() {
			defer conn.CloseNow()
			for {
				_, b, err := conn.Read(subCtx)
				if err != nil {
					return
				}
				now := time.Now()
				var m struct {
					Type    string
					Payload struct {
						Data struct {
							DeliveryAttempts struct{ StartedAt time.Time }
						}
					}
				}
				if json.Unmarshal(b, &m) != nil {
					continue
				}
				switch m.Type {
				case "ping":
					conn.Write(subCtx, websocket.MessageText, []byte(`{"type":"pong"}`))
				case "next":
					received.Add(1)
					mu.Lock()
					latencies = append(latencies, now.Sub(m.Payload.Data.DeliveryAttempts.StartedAt))
					mu.Unlock()
				}
			}
		})
	}
	rssIdle, err := settledRSS(p)
	if err != nil {
		return nil, err
	}
	perSub := float64(rssIdle-rssBefore) / float64(subscribers) / 1024

	// 1,000 events/s for the window; each attempt goes to every subscriber.
	d := seconds(e, 10)
	total := int(d.Seconds()) * 1000
	tick := time.NewTicker(time.Millisecond)
	var pubs sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range total {
		<-tick.C
		sem <- struct{}{}
		pubs.Go(func() {
			defer func() { <-sem }()
			c.do(ctx, publishMutation, map[string]any{"t": "bench.fanout", "p": payload(i)}, nil)
		})
	}
	tick.Stop()
	pubs.Wait()
	want := int64(total) * int64(subscribers)
	deadline := time.Now().Add(time.Minute)
	for received.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	mu.Lock()
	p50, p99 := pct(latencies, 50), pct(latencies, 99)
	mu.Unlock()
	note := ""
	if got := received.Load(); got < want {
		note = fmt.Sprintf("%d of %d messages received (slow subscribers are dropped by design)", got, want)
	}
	fig := fmt.Sprintf("%d subscribers, 1,000 events/s", subscribers)
	return []row{
		{Scenario: "fanout", Figure: fig + ": attempt started→received p50", Value: ms(p50), Unit: "ms", Note: note},
		{Scenario: "fanout", Figure: fig + ": attempt started→received p99", Value: ms(p99), Unit: "ms", Target: "≤ 50 ms"},
		{Scenario: "fanout", Figure: "server memory per idle subscriber", Value: perSub, Unit: "KiB", Target: "≤ 64 KiB"},
	}, nil
}

// subscribe opens a graphql-transport-ws subscription to deliveryAttempts.
func subscribe(ctx context.Context, p *proc) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, "ws://"+p.addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	init := fmt.Sprintf(`{"type":"connection_init","payload":{"Authorization":"Bearer %s"}}`, p.key)
	if err := conn.Write(ctx, websocket.MessageText, []byte(init)); err != nil {
		return nil, err
	}
	if _, b, err := conn.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
		return nil, fmt.Errorf("connection_init: %v %s", err, b)
	}
	sub := `{"id":"1","type":"subscribe","payload":{"query":"subscription { deliveryAttempts { id attemptNumber outcome startedAt } }"}}`
	return conn, conn.Write(ctx, websocket.MessageText, []byte(sub))
}

// settledRSS waits for the process's resident memory to stop moving (within
// 1 % over half a second, at most 10 s) and returns it.
func settledRSS(p *proc) (int64, error) {
	runtime.GC()
	prev, err := p.rssBytes()
	if err != nil {
		return 0, err
	}
	for range 20 {
		time.Sleep(500 * time.Millisecond)
		cur, err := p.rssBytes()
		if err != nil {
			return 0, err
		}
		if diff := cur - prev; diff < prev/100 && -diff < prev/100 {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}
