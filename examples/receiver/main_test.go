package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
)

// signed returns a delivery of an event to a webhook with secret, as
// Hookline builds it, signed at.
func signed(tb testing.TB, secret string, at time.Time) outbound.Request {
	tb.Helper()
	w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), URL: "http://127.0.0.1:9000/hooks", Format: model.PayloadFormatJSON, Secret: secret}
	ev := &model.Event{ID: model.NewID(model.PrefixEvent), Type: "order.created", Payload: model.JSON(`{"order":42}`), CreatedAt: at}
	req, err := outbound.NewRequest(ev, w, at, "Hookline/test")
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// serve sends req to a receiver with secret and returns the status and
// what it printed.
func serve(tb testing.TB, secret string, req outbound.Request) (int, string) {
	tb.Helper()
	var out bytes.Buffer
	h, err := newHandler(secret, &out)
	if err != nil {
		tb.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(req.Body))
	r.Header = req.Header.Clone()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, out.String()
}

func TestReceiverVerifies(t *testing.T) {
	secret := model.NewSecret()
	t.Run("OK", func(t *testing.T) {
		req := signed(t, secret, time.Now())
		status, out := serve(t, secret, req)
		if status != http.StatusNoContent {
			t.Errorf("status = %d; want 204", status)
		}
		for _, want := range []string{"valid signature", req.Header.Get("webhook-id"), "order.created", `"order":42`} {
			if !strings.Contains(out, want) {
				t.Errorf("printed %q; want it to show %q", out, want)
			}
		}
	})
	t.Run("OKDuringRotation", func(t *testing.T) {
		// Signed with the new and the previous secret: the receiver still
		// holds the previous one.
		newSecret := model.NewSecret()
		w := &model.Webhook{URL: "http://127.0.0.1:9000/hooks", Format: model.PayloadFormatJSON, Secret: secret}
		w.RotateSecret(newSecret, time.Now())
		ev := &model.Event{ID: model.NewID(model.PrefixEvent), Type: "t", Payload: model.JSON(`{}`), CreatedAt: time.Now()}
		req, err := outbound.NewRequest(ev, w, time.Now(), "Hookline/test")
		if err != nil {
			t.Fatal(err)
		}
		if status, out := serve(t, secret, req); status != http.StatusNoContent {
			t.Errorf("status = %d, printed %q; want 204", status, out)
		}
	})

	refused := map[string]func(tb testing.TB, req *outbound.Request){
		"ErrTamperedBody": func(_ testing.TB, req *outbound.Request) {
			req.Body = bytes.Replace(req.Body, []byte(`"order":42`), []byte(`"order":43`), 1)
		},
		"ErrTamperedID": func(_ testing.TB, req *outbound.Request) {
			req.Header.Set("webhook-id", model.NewID(model.PrefixEvent))
		},
		"ErrTamperedTimestamp": func(_ testing.TB, req *outbound.Request) {
			ts, _ := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
			req.Header.Set("webhook-timestamp", strconv.FormatInt(ts+1, 10))
		},
		"ErrOtherSecret": func(tb testing.TB, req *outbound.Request) { *req = signed(tb, model.NewSecret(), time.Now()) },
		"ErrNoSignature": func(_ testing.TB, req *outbound.Request) { req.Header.Del("webhook-signature") },
		"ErrStale":       func(tb testing.TB, req *outbound.Request) { *req = signed(tb, secret, time.Now().Add(-10*time.Minute)) },
	}
	for name, tamper := range refused {
		t.Run(name, func(t *testing.T) {
			req := signed(t, secret, time.Now())
			tamper(t, &req)
			status, out := serve(t, secret, req)
			if status != http.StatusUnauthorized {
				t.Errorf("status = %d; want 401", status)
			}
			if !strings.Contains(out, "INVALID signature") {
				t.Errorf("printed %q; want the verdict INVALID signature", out)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	for name, secret := range map[string]string{"ErrNoSecret": "", "ErrNotASecret": "hunter2", "ErrBadBase64": "whsec_!!!"} {
		t.Run(name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "HOOKLINE_WEBHOOK_SECRET" {
					return secret
				}
				return ""
			}
			err := run(t.Context(), []string{"-addr", "127.0.0.1:0"}, getenv, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), "HOOKLINE_WEBHOOK_SECRET") {
				t.Errorf("run with secret %q = %v; want an error naming HOOKLINE_WEBHOOK_SECRET", secret, err)
			}
		})
	}
}

// TestReceiverWithHookline runs the receiver and an in-process Hookline
// (its HTTP API and delivery engine on SQLite): the webhook's deliveries are
// accepted, and those of a webhook with another secret are refused and
// recorded as failed attempts with status 401.
func TestReceiverWithHookline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	api := startHookline(t, ctx, &wg)

	var created struct {
		CreateWebhook struct {
			Webhook struct{ ID string }
			Secret  string
		}
	}
	// As in the README: the webhook first, for its secret, then the
	// receiver with it, then the webhook moved to the receiver's address.
	create := `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { webhook { id } secret } }`
	api.do(t, create, map[string]any{"in": map[string]any{"url": "http://127.0.0.1:9/hooks", "events": []string{"order.created"}}}, &created)
	var other struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	api.do(t, create, map[string]any{"in": map[string]any{"url": "http://127.0.0.1:9/other", "events": []string{"order.created"}, "secret": model.NewSecret()}}, &other)

	out := &syncBuffer{}
	ready := make(chan string, 1)
	getenv := func(k string) string {
		if k == "HOOKLINE_WEBHOOK_SECRET" {
			return created.CreateWebhook.Secret
		}
		return ""
	}
	wg.Go(func() {
		if err := run(ctx, []string{"-addr", "127.0.0.1:0"}, getenv, out, func(a string) { ready <- a }); err != nil {
			t.Errorf("receiver: %v", err)
		}
	})
	var addr string
	select {
	case addr = <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("receiver did not start; printed %q", out)
	}
	update := `mutation($id: ID!, $url: String!) { updateWebhook(id: $id, input: {url: $url}) { id } }`
	api.do(t, update, map[string]any{"id": created.CreateWebhook.Webhook.ID, "url": "http://" + addr + "/hooks"}, nil)
	api.do(t, update, map[string]any{"id": other.CreateWebhook.Webhook.ID, "url": "http://" + addr + "/other"}, nil)

	api.do(t, `mutation { publishEvent(input: {type: "order.created", payload: {order: 42}}) { id } }`, nil, nil)

	type attempts struct {
		Deliveries struct {
			Edges []struct {
				Node struct {
					WebhookID string
					Status    string
					Attempts  []struct {
						Outcome    string
						StatusCode *int
					}
				}
			}
		}
	}
	statuses := func() map[string]attempts {
		got := map[string]attempts{}
		for _, id := range []string{created.CreateWebhook.Webhook.ID, other.CreateWebhook.Webhook.ID} {
			var a attempts
			api.do(t, `query($id: ID!) { deliveries(first: 1, filter: {webhookId: $id}) { edges { node { webhookId status attempts(last: 1) { outcome statusCode } } } } }`,
				map[string]any{"id": id}, &a)
			got[id] = a
		}
		return got
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := statuses()
		good, bad := got[created.CreateWebhook.Webhook.ID].Deliveries.Edges, got[other.CreateWebhook.Webhook.ID].Deliveries.Edges
		if len(good) == 1 && good[0].Node.Status == "SUCCEEDED" && len(bad) == 1 && len(bad[0].Node.Attempts) == 1 {
			if a := bad[0].Node.Attempts[0]; a.Outcome != "FAILURE" || a.StatusCode == nil || *a.StatusCode != http.StatusUnauthorized {
				t.Errorf("attempt of the webhook with another secret = %s %v; want FAILURE 401", a.Outcome, a.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries after 15s: %+v; receiver printed:\n%s", got, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	printed := out.String()
	for _, want := range []string{"/hooks", "order.created  valid signature", `"order":42`, "/other", "INVALID signature"} {
		if !strings.Contains(printed, want) {
			t.Errorf("receiver printed:\n%s\nwant it to show %q", printed, want)
		}
	}
}

// hookline is a GraphQL client of an in-process Hookline.
type hookline struct{ url, key string }

// startHookline starts Hookline's HTTP API and delivery engine on an
// in-memory SQLite database, with private targets allowed, until ctx ends.
func startHookline(t *testing.T, ctx context.Context, wg *sync.WaitGroup) *hookline {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	changes := feed.NewLocal()
	t.Cleanup(func() { changes.Close() })
	st, err := store.Open(ctx, "sqlite://:memory:", store.Options{Logger: log, Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := delivery.DefaultConfig()
	cfg.AllowPrivateTargets = true
	cfg.Timeout = 5 * time.Second
	cfg.Schedule = []time.Duration{time.Hour} // one attempt in the test's time
	cfg.PollInterval = 50 * time.Millisecond
	engine := delivery.New(st, cfg, log)
	wg.Go(func() { engine.Run(ctx) })
	srv := httptest.NewServer(httpapi.New(httpapi.DefaultConfig(), httpapi.Deps{Store: st, Engine: engine, Feed: changes, Log: log}))
	t.Cleanup(srv.Close)
	key := model.NewAPIKeySecret()
	if err := st.CreateAPIKey(ctx, &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: "acme", Role: model.ApiKeyRoleMember, Hash: model.HashAPIKey(key)}); err != nil {
		t.Fatal(err)
	}
	return &hookline{url: srv.URL + "/graphql", key: key}
}

// do runs a GraphQL operation that must succeed and decodes its data into dst.
func (h *hookline) do(tb testing.TB, query string, vars map[string]any, dst any) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatalf("decode response: %v", err)
	}
	if len(out.Errors) > 0 {
		tb.Fatalf("%s: errors %+v", query, out.Errors)
	}
	if dst != nil {
		if err := json.Unmarshal(out.Data, dst); err != nil {
			tb.Fatal(err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
