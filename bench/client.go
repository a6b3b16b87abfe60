package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// requestTimeout bounds one request of the bench's clients.
const requestTimeout = 60 * time.Second

// newHTTPClient returns a client that keeps up to conns connections per
// host alive, for conns concurrent callers.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// gqlClient sends GraphQL requests to one Hookline with its admin key.
type gqlClient struct {
	url, key string
	http     *http.Client
}

// client returns a GraphQL client for conns concurrent callers.
func (h *hookline) client(conns int) *gqlClient {
	return &gqlClient{url: "http://" + h.addr + "/graphql", key: h.key, http: newHTTPClient(conns)}
}

// do sends query with vars and decodes the response's data into out (when
// not nil). GraphQL errors are returned as errors.
func (c *gqlClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	data, err := c.post(ctx, body)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode data: %w", err)
	}
	return nil
}

// post sends a GraphQL request body and returns the response's data.
func (c *gqlClient) post(ctx context.Context, body []byte) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, raw)
	}
	if len(out.Errors) > 0 {
		e := out.Errors[0]
		return nil, fmt.Errorf("HTTP %d: %s: %s", resp.StatusCode, e.Extensions.Code, e.Message)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, raw)
	}
	return out.Data, nil
}

// createWebhook creates a JSON webhook for the event types and returns its ID.
func (c *gqlClient) createWebhook(ctx context.Context, url string, events ...string) (string, error) {
	var out struct {
		CreateWebhook struct {
			Webhook struct{ ID string }
		}
	}
	err := c.do(ctx, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { webhook { id } } }`,
		map[string]any{"in": map[string]any{"url": url, "events": events}}, &out)
	if err != nil {
		return "", fmt.Errorf("create webhook: %w", err)
	}
	return out.CreateWebhook.Webhook.ID, nil
}

// createWebhooks creates n webhooks for eventType, each at url+"/<i>".
func (c *gqlClient) createWebhooks(ctx context.Context, n int, url, eventType string) error {
	for i := range n {
		if _, err := c.createWebhook(ctx, url+"/"+strconv.Itoa(i), eventType); err != nil {
			return err
		}
	}
	return nil
}

const publishQuery = `mutation($t: String!, $p: JSON!) { publishEvent(input: {type: $t, payload: $p}) { id } }`

// padding makes an event's delivered body about 1 KiB.
var padding = strings.Repeat("x", 900)

// publish publishes one event of type typ whose payload carries seq and
// the time of sending (sentAt, Unix nanoseconds), which receivers read.
// The body is assembled by hand: the bench shares the CPU with Hookline.
func (c *gqlClient) publish(ctx context.Context, typ string, seq int64) error {
	body := make([]byte, 0, 1200)
	body = append(body, `{"query":`...)
	body = strconv.AppendQuote(body, publishQuery)
	body = append(body, `,"variables":{"t":`...)
	body = strconv.AppendQuote(body, typ)
	body = append(body, `,"p":`...)
	body = appendPayload(body, seq)
	body = append(body, "}}"...)
	if _, err := c.post(ctx, body); err != nil {
		return fmt.Errorf("publishEvent: %w", err)
	}
	return nil
}

// publishBatchQuery publishes several events in one call and one transaction.
const publishBatchQuery = `mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id } }`

// publishBatch publishes n events of type typ through publishEvents, with
// payloads as publish makes them (seq, seq+1, …).
func (c *gqlClient) publishBatch(ctx context.Context, typ string, seq int64, n int) error {
	body := make([]byte, 0, 100+n*1100)
	body = append(body, `{"query":`...)
	body = strconv.AppendQuote(body, publishBatchQuery)
	body = append(body, `,"variables":{"in":[`...)
	for i := range n {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"type":`...)
		body = strconv.AppendQuote(body, typ)
		body = append(body, `,"payload":`...)
		body = appendPayload(body, seq+int64(i))
		body = append(body, '}')
	}
	body = append(body, "]}}"...)
	if _, err := c.post(ctx, body); err != nil {
		return fmt.Errorf("publishEvents: %w", err)
	}
	return nil
}

// appendPayload appends {"sentAt":<now>,"seq":<seq>,"awb":…,"pad":…}.
func appendPayload(b []byte, seq int64) []byte {
	b = append(b, `{"sentAt":`...)
	b = strconv.AppendInt(b, time.Now().UnixNano(), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"awb":"125-12345675","pad":"`...)
	b = append(b, padding...)
	return append(b, `"}`...)
}

// metric returns the value of one series from Hookline's /metrics, e.g.
// `hookline_delivery_attempts_total{outcome="failure"}`; 0 when absent.
func (h *hookline) metric(ctx context.Context, series string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+h.addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, h.err("read /metrics", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("read /metrics: %s: %w", series, err)
			}
			return f, nil
		}
	}
	return 0, sc.Err()
}
