package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// attemptsSubscription is what every fan-out subscriber asks for.
const attemptsSubscription = `subscription { deliveryAttempts { id attemptNumber outcome startedAt } }`

// subscriber is one graphql-transport-ws connection with one subscription.
// It records, for every "next" message, the time from the attempt's
// startedAt to its arrival.
type subscriber struct {
	conn     *websocket.Conn
	lat      hist // owned by run until it returns
	received atomic.Int64
	// ended says why the server ended the subscription, when it did
	// (e.g. a SLOW_SUBSCRIBER error); set before run returns.
	ended string
}

// subscribe connects to Hookline's websocket endpoint, authenticates in
// connection_init, waits for connection_ack and subscribes to query.
// All of it is bounded by handshakeTimeout.
func subscribe(ctx context.Context, h *hookline, query string) (*subscriber, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+h.addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	s := &subscriber{conn: conn}
	if err := s.handshake(ctx, h.key, query); err != nil {
		conn.CloseNow()
		return nil, err
	}
	return s, nil
}

// handshakeTimeout bounds a subscriber's dial, connection_init and subscribe.
const handshakeTimeout = 15 * time.Second

func (s *subscriber) handshake(ctx context.Context, key, query string) error {
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + key}})
	if err := s.conn.Write(ctx, websocket.MessageText, init); err != nil {
		return fmt.Errorf("connection_init: %w", err)
	}
	for {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("wait for connection_ack: %w", err)
		}
		var m struct{ Type string }
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("wait for connection_ack: %w", err)
		}
		switch m.Type {
		case "connection_ack":
			sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": query}})
			if err := s.conn.Write(ctx, websocket.MessageText, sub); err != nil {
				return fmt.Errorf("subscribe: %w", err)
			}
			return nil
		case "ping":
			if err := s.pong(ctx); err != nil {
				return err
			}
		default:
			return fmt.Errorf("wait for connection_ack: got %.200s", b)
		}
	}
}

func (s *subscriber) pong(ctx context.Context) error {
	if err := s.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`)); err != nil {
		return fmt.Errorf("pong: %w", err)
	}
	return nil
}

var (
	nextType  = []byte(`"type":"next"`)
	startedAt = []byte(`"startedAt":"`)
)

// run reads messages until ctx ends or the server ends the subscription,
// answering pings. It closes the connection when it returns.
func (s *subscriber) run(ctx context.Context) {
	defer s.conn.CloseNow()
	for {
		_, b, err := s.conn.Read(ctx)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				s.ended = "connection closed: " + err.Error()
			}
			return
		}
		// Cheap path for the flood of "next" messages.
		if bytes.Contains(b, nextType) {
			if t, ok := startedAtOf(b); ok {
				s.lat.add(now.Sub(t))
			}
			s.received.Add(1)
			continue
		}
		var m struct{ Type string }
		json.Unmarshal(b, &m)
		switch m.Type {
		case "ping":
			if s.pong(ctx) != nil {
				return
			}
		case "pong":
		default: // error, complete: the server ended the subscription
			s.ended = fmt.Sprintf("%.300s", b)
			return
		}
	}
}

// startedAtOf finds "startedAt":"<RFC 3339>" in a message.
func startedAtOf(b []byte) (time.Time, bool) {
	i := bytes.Index(b, startedAt)
	if i < 0 {
		return time.Time{}, false
	}
	rest := b[i+len(startedAt):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// errSubscribe wraps a failure to open one of many subscribers.
var errSubscribe = errors.New("open subscribers")
