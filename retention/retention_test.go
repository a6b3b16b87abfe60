package retention_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/retention"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// tally is an Observer that adds up what it is told.
type tally struct {
	mu      sync.Mutex
	swept   model.Swept
	batches int
}

func (t *tally) ObserveSweep(s model.Swept) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.swept, t.batches = t.swept.Add(s), t.batches+1
}

func (t *tally) total() model.Swept {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.swept
}

// seed gives owner a webhook and n events, each with a delivery that
// succeeded at its first attempt, plus one event still pending and one
// event without deliveries.
func seed(tb testing.TB, st *store.Store, owner string, n int) (pending *model.Delivery) {
	tb.Helper()
	ctx := context.Background()
	w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: owner, URL: "https://example.com/h", Events: []string{"*"},
		Format: model.PayloadFormatJSON, Enabled: true, Secret: model.NewSecret(), Health: model.HealthStatusUnknown}
	if err := st.CreateWebhook(ctx, w); err != nil {
		tb.Fatal(err)
	}
	publish := func(match bool) []*model.Delivery {
		ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: owner, Type: "t", Payload: model.JSON(`{}`)}
		until := time.Now().UTC().Add(time.Minute)
		var ds []*model.Delivery
		_, _, err := st.PublishEvents(ctx, []*model.Event{ev}, func(*model.Event, *model.Webhook) bool { return match },
			func(_ *model.Event, d *model.Delivery, _ *model.Webhook) {
				d.LeaseToken, d.NextAttemptAt = "lease", &until
				ds = append(ds, d)
			})
		if err != nil {
			tb.Fatal(err)
		}
		return ds
	}
	for range n {
		d := publish(true)[0]
		code := 200
		rec := model.AttemptRecord{Delivery: d, Webhook: w, Status: model.DeliveryStatusSucceeded,
			Attempt: &model.DeliveryAttempt{ID: model.NewID(model.PrefixAttempt), Owner: owner, DeliveryID: d.ID, WebhookID: w.ID,
				EventID: d.EventID, EventType: "t", AttemptNumber: 1, Outcome: model.AttemptOutcomeSuccess, StatusCode: &code,
				StartedAt: time.Now().UTC(), RequestHeaders: []model.Header{}, ResponseHeaders: []model.Header{}}}
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{rec}); err != nil {
			tb.Fatal(err)
		}
	}
	publish(false)
	return publish(true)[0]
}

func count(tb testing.TB, st *store.Store, owner string) (events, deliveries int) {
	tb.Helper()
	ctx := context.Background()
	evs, err := st.Events(ctx, owner, nil, model.PageArgs{})
	if err != nil {
		tb.Fatal(err)
	}
	ds, err := st.Deliveries(ctx, owner, model.DeliveryFilter{}, model.PageArgs{})
	if err != nil {
		tb.Fatal(err)
	}
	events, _ = evs.TotalCount(ctx)
	deliveries, _ = ds.TotalCount(ctx)
	return events, deliveries
}

// TestPass: a pass deletes, batch after batch, what is older than the
// period by the sweeper's clock and keeps what is unfinished; it tells
// the observer of every batch. Nothing is due by the real clock.
func TestPass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		pending := seed(t, st, "acme", 7)
		cfg := retention.Config{Period: time.Hour, Batch: 4}
		if swept, err := retention.New(st, cfg, slog.New(slog.DiscardHandler)).Pass(ctx); err != nil || swept.Total() != 0 {
			t.Errorf("Pass now = %+v, %v; want nothing due", swept, err)
		}

		obs := &tally{}
		cfg.Observer = obs
		cfg.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		swept, err := retention.New(st, cfg, slog.New(slog.DiscardHandler)).Pass(ctx)
		if want := (model.Swept{Events: 8, Deliveries: 7, Attempts: 7}); err != nil || swept != want {
			t.Errorf("Pass two hours on = %+v, %v; want %+v", swept, err, want)
		}
		if obs.total() != swept || obs.batches < 5 {
			t.Errorf("observer told %+v in %d batches; want %+v in at least 5 batches of 4 rows", obs.total(), obs.batches, swept)
		}
		if events, deliveries := count(t, st, "acme"); events != 1 || deliveries != 1 {
			t.Errorf("left %d events, %d deliveries; want the pending one", events, deliveries)
		}
		if _, err := st.Delivery(ctx, "acme", pending.ID); err != nil {
			t.Errorf("pending delivery: %v", err)
		}
	})
}

// TestPassWithZeroPeriod keeps everything, and still removes owners being
// deleted.
func TestPassWithZeroPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		seed(t, st, "acme", 3)
		seed(t, st, "globex", 3)
		if _, err := st.DeleteOwner(ctx, "globex"); err != nil {
			t.Fatal(err)
		}
		cfg := retention.Config{Now: func() time.Time { return time.Now().Add(10000 * time.Hour) }}
		swept, err := retention.New(st, cfg, slog.New(slog.DiscardHandler)).Pass(ctx)
		if want := (model.Swept{Events: 5, Deliveries: 4, Attempts: 3}); err != nil || swept != want {
			t.Errorf("Pass = %+v, %v; want globex's rows, %+v", swept, err, want)
		}
		if events, deliveries := count(t, st, "acme"); events != 5 || deliveries != 4 {
			t.Errorf("acme has %d events, %d deliveries; want all 5 and 4 kept", events, deliveries)
		}
		owners, err := st.Owners(ctx, nil, nil, nil)
		if err != nil || len(owners.Edges) != 1 || owners.Edges[0].Node.Name != "acme" {
			t.Errorf("owners = %+v, %v; want acme alone", owners, err)
		}
	})
}

// failing is a Store whose sweeps fail, as a database that is down does.
type failing struct{ calls chan struct{} }

func (f failing) SweepOwners(context.Context, int) (model.Swept, []string, bool, error) {
	f.calls <- struct{}{}
	return model.Swept{}, nil, false, errors.New("database is down")
}

func (failing) SweepDeliveries(context.Context, time.Time, int) (model.Swept, bool, error) {
	panic("not reached")
}

func (failing) SweepEvents(context.Context, time.Time, string, int) (model.Swept, string, error) {
	panic("not reached")
}

// TestRunSweepsEveryIntervalUntilTheContextEnds: Run sweeps at once, again
// after each interval also after a failed pass, and returns nil when its
// context ends.
func TestRunSweepsEveryIntervalUntilTheContextEnds(t *testing.T) {
	f := failing{calls: make(chan struct{}, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- retention.New(f, retention.Config{Interval: 10 * time.Millisecond}, slog.New(slog.DiscardHandler)).Run(ctx)
	}()
	for i := range 3 {
		select {
		case <-f.calls:
		case <-time.After(5 * time.Second):
			t.Fatalf("pass %d did not come", i+1)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
