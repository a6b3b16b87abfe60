package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// gqlClient sends GraphQL requests over HTTP with keep-alive.
type gqlClient struct {
	url, key string
	http     *http.Client
}

func newGQLClient(url, key string, concurrency int) *gqlClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = concurrency
	return &gqlClient{url: url, key: key, http: &http.Client{Transport: t, Timeout: 60 * time.Second}}
}

// do sends one request and decodes data into dst; GraphQL errors are errors.
func (c *gqlClient) do(ctx context.Context, query string, vars map[string]any, dst any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, raw)
	}
	if len(out.Errors) > 0 {
		return fmt.Errorf("graphql: %s", out.Errors[0].Message)
	}
	if dst != nil {
		return json.Unmarshal(out.Data, dst)
	}
	return nil
}

func (c *gqlClient) createWebhook(ctx context.Context, url string, events ...string) (string, error) {
	var out struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	err := c.do(ctx, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { webhook { id } } }`,
		map[string]any{"in": map[string]any{"url": url, "events": events}}, &out)
	return out.CreateWebhook.Webhook.ID, err
}

const publishMutation = `mutation($t: String!, $p: JSON!) { publishEvent(input: {type: $t, payload: $p}) { id } }`

// payload is a ~1 KiB event body carrying its send time.
func payload(n int) map[string]any {
	return map[string]any{"sentAt": time.Now().UnixNano(), "n": n, "awb": "125-12345675", "pad": padding}
}

var padding = string(bytes.Repeat([]byte("x"), 900))
