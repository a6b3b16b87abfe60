package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Subscription transports under test.
const (
	protoTransportWS = "graphql-transport-ws" // graphql-ws library, Apollo GraphQLWsLink, GraphiQL
	protoLegacyWS    = "graphql-ws"           // subscriptions-transport-ws, GraphQL Playground
	protoSSE         = "sse"
)

var subscriptionProtocols = []string{protoTransportWS, protoLegacyWS, protoSSE}

// subscription is one GraphQL subscription over a real connection; its
// messages arrive on next, decoded from the payload's data.
type subscription struct {
	next   chan json.RawMessage
	errors chan []gqlError
	done   chan struct{}
	cancel context.CancelFunc
}

// subscribe opens a subscription with the given protocol and API key. It
// fails the test if the server refuses the connection.
func subscribe(tb testing.TB, baseURL, protocol, key, query string, vars map[string]any) *subscription {
	tb.Helper()
	sub, err := trySubscribe(baseURL, protocol, key, query, vars)
	if err != nil {
		tb.Fatalf("subscribe over %s: %v", protocol, err)
	}
	tb.Cleanup(sub.close)
	return sub
}

func trySubscribe(baseURL, protocol, key, query string, vars map[string]any) (*subscription, error) {
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscription{next: make(chan json.RawMessage, 1024), errors: make(chan []gqlError, 8), done: make(chan struct{}), cancel: cancel}
	payload := map[string]any{"query": query, "variables": vars}
	var err error
	if protocol == protoSSE {
		err = sub.runSSE(ctx, baseURL, key, payload)
	} else {
		err = sub.runWebsocket(ctx, baseURL, protocol, key, payload)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return sub, nil
}

func (s *subscription) close() {
	s.cancel()
	<-s.done
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWebsocket connects and completes connection_init with an
// {"Authorization": "Bearer <key>"} payload.
func dialWebsocket(ctx context.Context, baseURL, protocol string, initPayload any) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{protocol}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	init, _ := json.Marshal(initPayload)
	if err := writeWS(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		return nil, err
	}
	for {
		m, err := readWS(ctx, conn)
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return conn, nil
		case "connection_error":
			conn.Close(websocket.StatusNormalClosure, "")
			return nil, &connectionError{payload: string(m.Payload)}
		}
	}
}

type connectionError struct{ payload string }

func (e *connectionError) Error() string { return "connection_error: " + e.payload }

func writeWS(ctx context.Context, conn *websocket.Conn, m wsMessage) error {
	b, _ := json.Marshal(m)
	return conn.Write(ctx, websocket.MessageText, b)
}

func readWS(ctx context.Context, conn *websocket.Conn) (wsMessage, error) {
	_, b, err := conn.Read(ctx)
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	err = json.Unmarshal(b, &m)
	return m, err
}

func (s *subscription) runWebsocket(ctx context.Context, baseURL, protocol, key string, payload map[string]any) error {
	conn, err := dialWebsocket(ctx, baseURL, protocol, map[string]string{"Authorization": "Bearer " + key})
	if err != nil {
		return err
	}
	start := "subscribe"
	if protocol == protoLegacyWS {
		start = "start"
	}
	p, _ := json.Marshal(payload)
	if err := writeWS(ctx, conn, wsMessage{ID: "1", Type: start, Payload: p}); err != nil {
		return err
	}
	go func() {
		defer close(s.done)
		defer conn.CloseNow()
		for {
			m, err := readWS(ctx, conn)
			if err != nil {
				return
			}
			switch m.Type {
			case "ping":
				writeWS(ctx, conn, wsMessage{Type: "pong"})
			case "next", "data":
				s.deliver(m.Payload)
			case "error":
				var errs []gqlError
				if json.Unmarshal(m.Payload, &errs) != nil {
					var one gqlError
					json.Unmarshal(m.Payload, &one)
					errs = []gqlError{one}
				}
				s.errors <- errs
			case "complete":
				return
			}
		}
	}()
	return nil
}

func (s *subscription) deliver(payload json.RawMessage) {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	json.Unmarshal(payload, &resp)
	if len(resp.Errors) > 0 {
		s.errors <- resp.Errors
		return
	}
	s.next <- resp.Data
}

func (s *subscription) runSSE(ctx context.Context, baseURL, key string, payload map[string]any) error {
	body, _ := json.Marshal(payload)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return &httpStatusError{code: resp.StatusCode}
	}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var event string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:") && event == "next":
				s.deliver(json.RawMessage(strings.TrimSpace(strings.TrimPrefix(line, "data:"))))
			case event == "complete":
				return
			}
		}
	}()
	return nil
}

type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string { return http.StatusText(e.code) }

// receive waits for the next message and decodes it into dst.
func (s *subscription) receive(tb testing.TB, dst any) {
	tb.Helper()
	select {
	case data := <-s.next:
		if err := json.Unmarshal(data, dst); err != nil {
			tb.Fatalf("decode subscription data %s: %v", data, err)
		}
	case errs := <-s.errors:
		tb.Fatalf("subscription error: %+v", errs)
	case <-s.done:
		tb.Fatal("subscription ended")
	case <-time.After(10 * time.Second):
		tb.Fatal("no subscription message within 10s")
	}
}

// receiveSkipping is receive, passing over messages that mention skip (the
// probe webhook's), unless skip is empty.
func (s *subscription) receiveSkipping(tb testing.TB, skip string, dst any) {
	tb.Helper()
	for {
		var raw json.RawMessage
		s.receive(tb, &raw)
		if skip != "" && strings.Contains(string(raw), skip) {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatalf("decode subscription data %s: %v", raw, err)
		}
		return
	}
}
