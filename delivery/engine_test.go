package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// testConfig sends to loopback receivers and retries after milliseconds.
func testConfig() delivery.Config {
	cfg := delivery.DefaultConfig()
	cfg.AllowPrivateTargets = true
	cfg.Workers = 4
	cfg.Timeout = 2 * time.Second
	cfg.Schedule = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	cfg.PollInterval = 20 * time.Millisecond
	return cfg
}

// run starts e until the test ends.
func run(tb testing.TB, e *delivery.Engine) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
}

// receiver answers each request with the status answer returns and counts
// them by webhook-id.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newReceiver(tb testing.TB, answer func(n int) int) *receiver {
	tb.Helper()
	rc := &receiver{seen: map[string]int{}}
	var n atomic.Int64
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.seen[r.Header.Get("webhook-id")]++
		rc.mu.Unlock()
		w.WriteHeader(answer(int(n.Add(1))))
	}))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count(eventID string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.seen[eventID]
}

func newWebhook(tb testing.TB, st *store.Store, owner, url string) *model.Webhook {
	tb.Helper()
	w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: owner, URL: url, Events: []string{"*"},
		Format: model.PayloadFormatJSON, Enabled: true, Secret: model.NewSecret(), Health: model.HealthStatusUnknown}
	if err := st.CreateWebhook(context.Background(), w); err != nil {
		tb.Fatalf("create webhook: %v", err)
	}
	return w
}

// waitStatus waits until the delivery has status and returns it.
func waitStatus(tb testing.TB, st *store.Store, owner, id string, status model.DeliveryStatus) *model.Delivery {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := st.Delivery(context.Background(), owner, id)
		if err != nil {
			tb.Fatalf("delivery %s: %v", id, err)
		}
		if d.Status == status {
			return d
		}
		if time.Now().After(deadline) {
			tb.Fatalf("delivery %s is %s after 10s; want %s", id, d.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func publish(tb testing.TB, e *delivery.Engine, owner string) *model.Event {
	tb.Helper()
	ev, err := e.Publish(context.Background(), owner, model.PublishEventInput{Type: "order.created", Payload: model.JSON(`{"n":1}`)})
	if err != nil {
		tb.Fatalf("Publish: %v", err)
	}
	return ev
}

func onlyDelivery(tb testing.TB, st *store.Store, owner, eventID string) *model.Delivery {
	tb.Helper()
	conn, err := st.Deliveries(context.Background(), owner, model.DeliveryFilter{EventID: &eventID}, model.PageArgs{})
	if err != nil || len(conn.Edges) != 1 {
		tb.Fatalf("deliveries of %s: %v, %v; want one", eventID, conn, err)
	}
	return conn.Edges[0].Node
}

// TestEngineRetriesThenSucceeds: a failed attempt is retried on the
// schedule and the delivery ends SUCCEEDED with every attempt on record.
func TestEngineRetriesThenSucceeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		st := storetest.Open(t, newURL(t))
		rc := newReceiver(t, func(n int) int {
			if n == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		newWebhook(t, st, "acme", rc.URL)
		e := delivery.New(st, testConfig(), slog.New(slog.DiscardHandler))
		run(t, e)
		ev := publish(t, e, "acme")
		d := waitStatus(t, st, "acme", onlyDelivery(t, st, "acme", ev.ID).ID, model.DeliveryStatusSucceeded)
		if d.AttemptCount != 2 || d.NextAttemptAt != nil {
			t.Errorf("delivery = %d attempts, next %v; want 2 and none", d.AttemptCount, d.NextAttemptAt)
		}
		atts, err := st.Attempts(context.Background(), "acme", d.ID, model.MaxPageSize)
		if err != nil || len(atts) != 2 || atts[0].Outcome != model.AttemptOutcomeFailure || atts[1].Outcome != model.AttemptOutcomeSuccess {
			t.Fatalf("attempts = %+v, %v; want a failure then a success", atts, err)
		}
		if atts[0].NextRetryAt == nil {
			t.Error("the failed attempt has no nextRetryAt")
		}
	})
}

// TestEngineClaimsOtherProcessesWork: a delivery stored by another process
// (no engine of its own) is claimed and sent by polling.
func TestEngineClaimsOtherProcessesWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := newURL(t)
		if url == "sqlite://:memory:" {
			url = "sqlite://" + t.TempDir() + "/shared.db"
		}
		publisher := storetest.Open(t, url)
		worker := storetest.Open(t, url)
		rc := newReceiver(t, func(int) int { return http.StatusOK })
		newWebhook(t, publisher, "acme", rc.URL)
		// Never Run: its deliveries stay in the database for another engine.
		idle := delivery.New(publisher, testConfig(), slog.New(slog.DiscardHandler))
		ev := publish(t, idle, "acme")
		run(t, delivery.New(worker, testConfig(), slog.New(slog.DiscardHandler)))
		waitStatus(t, worker, "acme", onlyDelivery(t, worker, "acme", ev.ID).ID, model.DeliveryStatusSucceeded)
		if got := rc.count(ev.ID); got != 1 {
			t.Errorf("receiver got %d requests; want 1", got)
		}
	})
}

// TestPublishManyNamesTheInput: a refused input comes back as an
// *InputError with its index, and nothing is published.
func TestPublishManyNamesTheInput(t *testing.T) {
	st := storetest.Open(t, "sqlite://:memory:")
	e := delivery.New(st, testConfig(), slog.New(slog.DiscardHandler))
	ins := []*model.PublishEventInput{
		{Type: "ok", Payload: model.JSON(`{}`)},
		{Type: "bad", Payload: model.JSON(`[1]`)},
	}
	_, err := e.PublishMany(context.Background(), "acme", ins)
	var in *delivery.InputError
	if !errors.As(err, &in) || in.Index != 1 || model.ErrorCode(err) != model.CodeBadUserInput {
		t.Fatalf("PublishMany = %v; want an InputError at index 1 with BAD_USER_INPUT", err)
	}
	if field := model.AtField("inputs[1]", in.Err).(*model.Error).Field; field != "inputs[1].payload" {
		t.Errorf("field = %q; want inputs[1].payload", field)
	}
	conn, err := st.Events(context.Background(), "acme", nil, model.PageArgs{})
	if err != nil || len(conn.Edges) != 0 {
		t.Errorf("events after a refused batch = %v, %v; want none", conn, err)
	}
	if _, err := e.PublishMany(context.Background(), "acme", nil); model.ErrorCode(err) != model.CodeBadUserInput {
		t.Errorf("PublishMany(no inputs) = %v; want BAD_USER_INPUT", err)
	}
}

// TestPublishManyConcurrentKeys: batches published at once with one
// idempotency key all answer the one event that holds it when they carry
// the same content, each storing its other events; when they carry
// different content, one batch is stored and every other one is refused
// whole with CONFLICT. Single publishes at once with one key and
// different content: one is stored, the others are CONFLICT.
func TestPublishManyConcurrentKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		const n = 8
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		newWebhook(t, st, "acme", "https://receiver.example/hook")
		e := delivery.New(st, testConfig(), slog.New(slog.DiscardHandler))
		publishAll := func(owner string, payload func(i int) string) ([][]*model.Event, []error) {
			evs, errs := make([][]*model.Event, n), make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					key := "shared-key"
					evs[i], errs[i] = e.PublishMany(ctx, owner, []*model.PublishEventInput{
						{Type: "plain", Payload: model.JSON(`{}`)},
						{Type: "keyed", Payload: model.JSON(payload(i)), IdempotencyKey: &key},
					})
				})
			}
			wg.Wait()
			return evs, errs
		}
		count := func(owner string) int {
			conn, err := st.Events(ctx, owner, nil, model.PageArgs{First: ptr(100)})
			if err != nil {
				t.Fatal(err)
			}
			return len(conn.Edges)
		}

		t.Run("OK/SameContent", func(t *testing.T) {
			evs, errs := publishAll("acme", func(int) string { return `{"n": 1}` })
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("PublishMany %d: %v", i, errs[i])
				}
				if evs[i][1].ID != evs[0][1].ID {
					t.Errorf("batch %d's keyed event = %s; want %s, the one that holds the key", i, evs[i][1].ID, evs[0][1].ID)
				}
			}
			if got := count("acme"); got != n+1 {
				t.Errorf("events = %d; want %d plain and one keyed", got, n+1)
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			_, errs := publishAll("acme-2", func(i int) string { return fmt.Sprintf(`{"n": %d}`, i) })
			stored := 0
			for i := range n {
				switch model.ErrorCode(errs[i]) {
				case "":
					stored++
				case model.CodeConflict:
				default:
					t.Errorf("PublishMany %d: %v; want success or CONFLICT", i, errs[i])
				}
			}
			if stored != 1 {
				t.Errorf("%d batches stored; want 1", stored)
			}
			if got := count("acme-2"); got != 2 {
				t.Errorf("events = %d; want the 2 of the one batch stored", got)
			}
		})
		t.Run("ErrConflict/Publish", func(t *testing.T) {
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					key := "single-key"
					_, errs[i] = e.Publish(ctx, "acme-3", model.PublishEventInput{Type: "keyed", Payload: model.JSON(fmt.Sprintf(`{"n": %d}`, i)), IdempotencyKey: &key})
				})
			}
			wg.Wait()
			stored := 0
			for i := range n {
				switch model.ErrorCode(errs[i]) {
				case "":
					stored++
				case model.CodeConflict:
				default:
					t.Errorf("Publish %d: %v; want success or CONFLICT", i, errs[i])
				}
			}
			if got := count("acme-3"); stored != 1 || got != 1 {
				t.Errorf("%d publishes succeeded, %d events stored; want 1 and 1", stored, got)
			}
		})
	})
}

func ptr[T any](v T) *T { return &v }

// flakyRecords is a real store whose RecordAttempts fails the first n calls,
// as during a short database outage.
type flakyRecords struct {
	*store.Store
	failures atomic.Int64
}

func (s *flakyRecords) RecordAttempts(ctx context.Context, batch []model.AttemptRecord) (*model.Recorded, error) {
	if s.failures.Add(-1) >= 0 {
		return nil, errors.New("database unreachable")
	}
	return s.Store.RecordAttempts(ctx, batch)
}

// TestRecorderRetriesThroughAnOutage: an attempt whose record fails at first
// is recorded once the database answers, and is not sent again.
func TestRecorderRetriesThroughAnOutage(t *testing.T) {
	st := &flakyRecords{Store: storetest.Open(t, "sqlite://:memory:")}
	st.failures.Store(2)
	rc := newReceiver(t, func(int) int { return http.StatusOK })
	newWebhook(t, st.Store, "acme", rc.URL)
	e := delivery.New(st, testConfig(), slog.New(slog.DiscardHandler))
	run(t, e)
	ev := publish(t, e, "acme")
	waitStatus(t, st.Store, "acme", onlyDelivery(t, st.Store, "acme", ev.ID).ID, model.DeliveryStatusSucceeded)
	if got := rc.count(ev.ID); got != 1 {
		t.Errorf("receiver got %d requests; want 1", got)
	}
	if left := st.failures.Load(); left >= 0 {
		t.Errorf("RecordAttempts failed %d times fewer than planned", left+1)
	}
}

// TestRedeliverWakesTheEngine: with polling an hour apart, a redelivery is
// sent at once.
func TestRedeliverWakesTheEngine(t *testing.T) {
	st := storetest.Open(t, "sqlite://:memory:")
	rc := newReceiver(t, func(int) int { return http.StatusOK })
	newWebhook(t, st, "acme", rc.URL)
	cfg := testConfig()
	cfg.PollInterval = time.Hour
	e := delivery.New(st, cfg, slog.New(slog.DiscardHandler))
	run(t, e)
	ev := publish(t, e, "acme")
	d := waitStatus(t, st, "acme", onlyDelivery(t, st, "acme", ev.ID).ID, model.DeliveryStatusSucceeded)
	if _, err := e.Redeliver(context.Background(), "acme", d.ID); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rc.count(ev.ID) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the redelivery was not sent within 5s: Redeliver did not wake the engine")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := e.Redeliver(context.Background(), "globex", d.ID); model.ErrorCode(err) != model.CodeNotFound {
		t.Errorf("Redeliver by another owner = %v; want NOT_FOUND", err)
	}
}

// TestBroadcast: one event per owner whose enabled webhook matches the type
// and filters, each with its deliveries; the idempotency key returns the
// first result and publishes nothing more.
func TestBroadcast(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		rc := newReceiver(t, func(int) int { return http.StatusOK })
		hook := func(owner string, events []string, filters string, enabled bool) {
			w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: owner, URL: rc.URL, Events: events,
				Format: model.PayloadFormatJSON, Enabled: enabled, Secret: model.NewSecret(), Health: model.HealthStatusUnknown}
			if filters != "" {
				w.Filters = model.JSON(filters)
			}
			if err := st.CreateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		hook("a", []string{"route.created"}, "", true)
		hook("a", []string{"*"}, "", true) // a second delivery for a, one event
		hook("b", []string{"*"}, `{"depot": ["FRA"]}`, true)
		hook("c", []string{"route.created"}, `{"depot": ["AMS"]}`, true) // filtered out
		hook("d", []string{"route.created"}, "", false)                  // disabled
		hook("e", []string{"route.deleted"}, "", true)                   // another type
		e := delivery.New(st, testConfig(), slog.New(slog.DiscardHandler))
		key := "bc-1"
		in := model.PublishEventInput{Type: "route.created", Payload: model.JSON(`{"depot":"FRA"}`), IdempotencyKey: &key}
		res, err := e.Broadcast(ctx, "platform", in)
		if err != nil || res.OwnerCount != 2 || res.DeliveryCount != 3 {
			t.Fatalf("Broadcast = %+v, %v; want 2 owners, 3 deliveries", res, err)
		}
		for owner, want := range map[string]int{"a": 2, "b": 1, "c": 0, "d": 0, "e": 0, "platform": 0} {
			events, err := st.Events(ctx, owner, nil, model.PageArgs{})
			if err != nil {
				t.Fatal(err)
			}
			wantEvents := min(want, 1)
			if len(events.Edges) != wantEvents {
				t.Errorf("owner %s has %d events; want %d", owner, len(events.Edges), wantEvents)
				continue
			}
			if wantEvents == 1 {
				id := events.Edges[0].Node.ID
				ds, _ := st.Deliveries(ctx, owner, model.DeliveryFilter{EventID: &id}, model.PageArgs{})
				if len(ds.Edges) != want {
					t.Errorf("owner %s's event has %d deliveries; want %d", owner, len(ds.Edges), want)
				}
			}
		}
		again, err := e.Broadcast(ctx, "platform", in)
		if err != nil || *again != *res {
			t.Errorf("Broadcast again with the key = %+v, %v; want the first result %+v", again, err, res)
		}
		if events, _ := st.Events(ctx, "a", nil, model.PageArgs{}); len(events.Edges) != 1 {
			t.Errorf("owner a has %d events after the repeated broadcast; want 1", len(events.Edges))
		}
		if _, err := e.Broadcast(ctx, "platform", model.PublishEventInput{Type: "x", Payload: model.JSON(`[]`)}); model.ErrorCode(err) != model.CodeBadUserInput {
			t.Errorf("Broadcast of a bad payload = %v; want BAD_USER_INPUT", err)
		}
	})
}
