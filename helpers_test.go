package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/metrics"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// testServer is Hookline's real HTTP handler on a real database.
type testServer struct {
	*httptest.Server
	store *store.Store
	feed  feed.Feed
	admin *client
}

// newTestServer starts Hookline's handler and delivery engine on the
// database at url with an admin key of owner "admin". Deliveries may go to
// loopback receivers and retry after milliseconds.
func newTestServer(tb testing.TB, url string) *testServer {
	tb.Helper()
	return newTestServerWith(tb, url, testDeliveryConfig())
}

func testDeliveryConfig() delivery.Config {
	cfg := delivery.DefaultConfig()
	cfg.AllowPrivateTargets = true
	cfg.Workers = 8
	cfg.Timeout = 2 * time.Second
	cfg.Schedule = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}
	cfg.PollInterval = 50 * time.Millisecond
	return cfg
}

func newTestServerWith(tb testing.TB, url string, cfg delivery.Config) *testServer {
	tb.Helper()
	return newTestServerOpts(tb, testOptions{url: url, delivery: cfg})
}

type testOptions struct {
	url      string
	delivery delivery.Config
	feed     feed.Feed    // nil: a feed.Local
	noEngine bool         // publish only; another process delivers
	config   *Config      // nil: DefaultConfig()
	stopping *atomic.Bool // nil: never shutting down
	logs     io.Writer    // also gets the warnings and errors logged
}

func newTestServerOpts(tb testing.TB, o testOptions) *testServer {
	tb.Helper()
	lw := &testLogWriter{tb: tb}
	var logTo io.Writer = lw
	if o.logs != nil {
		logTo = io.MultiWriter(lw, o.logs)
	}
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelWarn}))
	changes := o.feed
	if changes == nil {
		changes = feed.NewLocal()
	}
	tb.Cleanup(func() { changes.Close() })
	st := storetest.OpenWith(tb, o.url, store.Options{Logger: slog.New(slog.DiscardHandler), Changes: changes})
	m := metrics.New(st, log)
	o.delivery.Observer = m
	engine := delivery.New(st, o.delivery, log)
	if !o.noEngine {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			engine.Run(ctx)
		}()
		tb.Cleanup(func() { cancel(); <-done })
	}
	cfg := o.config
	if cfg == nil {
		def := DefaultConfig()
		cfg = &def
	}
	// Websockets outlive httptest's Close (they are hijacked): their base
	// context ends first, and what they log while they wind down is not
	// the finished test's business.
	base, cancelBase := context.WithCancel(context.Background())
	srv := httptest.NewUnstartedServer(httpapi.New(cfg.HTTP, httpapi.Deps{Store: st, Engine: engine, Feed: changes, Metrics: m, Log: log, Stopping: o.stopping}))
	srv.Config.BaseContext = func(net.Listener) context.Context { return base }
	srv.Start()
	tb.Cleanup(srv.Close)
	tb.Cleanup(cancelBase)
	tb.Cleanup(func() { lw.stopped.Store(true) })
	ts := &testServer{Server: srv, store: st, feed: changes}
	ts.admin = ts.newKey(tb, "admin", model.ApiKeyRoleAdmin)
	return ts
}

// newKey stores an API key for owner and returns a client that uses it.
func (ts *testServer) newKey(tb testing.TB, owner string, role model.ApiKeyRole) *client {
	tb.Helper()
	secret := model.NewAPIKeySecret()
	k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: owner, Role: role, Hash: model.HashAPIKey(secret)}
	if err := ts.store.CreateAPIKey(context.Background(), k); err != nil {
		tb.Fatalf("create api key: %v", err)
	}
	return &client{url: ts.URL + "/graphql", key: secret, keyID: k.ID}
}

// client sends GraphQL requests over HTTP with an API key.
type client struct {
	url   string
	key   string
	keyID string
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// do sends one GraphQL request and decodes the response envelope.
func (c *client) do(tb testing.TB, query string, vars map[string]any) gqlResponse {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", c.url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("decode response %q: %v", raw, err)
	}
	out.Status = resp.StatusCode
	return out
}

// mustDo sends a request that must succeed and decodes its data into dst.
func (c *client) mustDo(tb testing.TB, query string, vars map[string]any, dst any) {
	tb.Helper()
	resp := c.do(tb, query, vars)
	if len(resp.Errors) > 0 {
		tb.Fatalf("unexpected errors: %+v\nquery: %s", resp.Errors, query)
	}
	if dst != nil {
		if err := json.Unmarshal(resp.Data, dst); err != nil {
			tb.Fatalf("decode data %s: %v", resp.Data, err)
		}
	}
}

// wantError asserts that resp failed with code and, if field is not empty,
// extensions.field; it returns the first error.
func wantError(tb testing.TB, resp gqlResponse, code, field string) gqlError {
	tb.Helper()
	if len(resp.Errors) == 0 {
		tb.Fatalf("want %s error, got data %s", code, resp.Data)
	}
	e := resp.Errors[0]
	if got := e.Extensions["code"]; got != code {
		tb.Fatalf("error code = %v; want %s (message %q)", got, code, e.Message)
	}
	if field != "" && e.Extensions["field"] != field {
		tb.Fatalf("error field = %v; want %s (message %q)", e.Extensions["field"], field, e.Message)
	}
	if field != "" && !strings.Contains(e.Message, field) {
		tb.Errorf("error message %q does not name the field %s", e.Message, field)
	}
	return e
}

const webhookFields = `id url description events filters format enabled headers { name value }
	hasBearerToken hasSharedToken health createdAt updatedAt`

type webhookJSON struct {
	ID             string          `json:"id"`
	URL            string          `json:"url"`
	Description    string          `json:"description"`
	Events         []string        `json:"events"`
	Filters        json.RawMessage `json:"filters"`
	Format         string          `json:"format"`
	Enabled        bool            `json:"enabled"`
	Headers        []model.Header  `json:"headers"`
	HasBearerToken bool            `json:"hasBearerToken"`
	HasSharedToken bool            `json:"hasSharedToken"`
	Health         string          `json:"health"`
	CreatedAt      string          `json:"createdAt"`
	UpdatedAt      string          `json:"updatedAt"`
}

// createWebhook creates a webhook from input and returns it with its secret.
func (c *client) createWebhook(tb testing.TB, input map[string]any) (webhookJSON, string) {
	tb.Helper()
	var out struct {
		CreateWebhook struct {
			Webhook webhookJSON `json:"webhook"`
			Secret  string      `json:"secret"`
		} `json:"createWebhook"`
	}
	c.mustDo(tb, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { secret webhook { `+webhookFields+` } } }`,
		map[string]any{"in": input}, &out)
	return out.CreateWebhook.Webhook, out.CreateWebhook.Secret
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testLogWriter sends the server's warnings and errors to the test log
// until the test ends.
type testLogWriter struct {
	tb      testing.TB
	stopped atomic.Bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	if !w.stopped.Load() {
		w.tb.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// sampleHeap reads the heap in use every 10 ms, from a collected start,
// until stop is called; stop returns the start and the peak.
func sampleHeap(tb testing.TB) (stop func() (start, peak uint64)) {
	tb.Helper()
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	start := m.HeapInuse
	var peakHeap atomic.Uint64
	sampling, stopSampling := context.WithCancel(context.Background())
	var sampler sync.WaitGroup
	sampler.Go(func() {
		var m runtime.MemStats
		for tick := time.NewTicker(10 * time.Millisecond); ; {
			runtime.ReadMemStats(&m)
			peakHeap.Store(max(peakHeap.Load(), m.HeapInuse))
			select {
			case <-sampling.Done():
				tick.Stop()
				return
			case <-tick.C:
			}
		}
	})
	stop = func() (uint64, uint64) {
		stopSampling()
		sampler.Wait()
		return start, peakHeap.Load()
	}
	tb.Cleanup(func() { stop() })
	return stop
}
