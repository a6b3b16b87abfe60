package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// TestRedeliverInFlight: redeliveries of a delivery whose attempt is under
// way leave it with its worker (no one else can claim it), and once the
// attempt is recorded the delivery is due again at once, for one more
// attempt; then it ends as its last attempt says. A delivery whose lease
// ran out is redelivered at once, as one not in flight.
func TestRedeliverInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w := newHook(t, st)
		d := leased(t, st, w, 1, "token")[0]
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := st.Redeliver(ctx, "acme", d.ID); err != nil {
					t.Errorf("Redeliver: %v", err)
				}
			})
		}
		wg.Wait()
		stored := readDelivery(t, st, d.ID)
		if stored.LeaseToken != "token" || stored.Status != model.DeliveryStatusPending || !stored.RedeliverRequested {
			t.Errorf("delivery redelivered in flight = %s, lease %q, marked %t; want PENDING, lease %q kept, marked",
				stored.Status, stored.LeaseToken, stored.RedeliverRequested, "token")
		}
		if claimed, err := st.ClaimDeliveries(ctx, 10, time.Minute, nil); err != nil || len(claimed) != 0 {
			t.Fatalf("ClaimDeliveries while the attempt is in flight = %d deliveries, %v; want none", len(claimed), err)
		}

		batch := []model.AttemptRecord{succeeded(record(d, w, time.Time{}))}
		got, err := st.RecordAttempts(ctx, batch)
		if err != nil {
			t.Fatalf("RecordAttempts: %v", err)
		}
		stored = storedDue(t, st, d.ID, model.DeliveryStatusRetrying, 1)
		if g := got.Deliveries[0]; g.Status != stored.Status || g.NextAttemptAt == nil || !g.NextAttemptAt.Equal(*stored.NextAttemptAt) {
			t.Errorf("returned delivery = %s due %v; want it as stored, %s due %v", g.Status, g.NextAttemptAt, stored.Status, stored.NextAttemptAt)
		}
		if rec := batch[0]; rec.Status != model.DeliveryStatusRetrying || rec.NextAttemptAt == nil {
			t.Errorf("record after recording = %s, next %v; want RETRYING, due now", rec.Status, rec.NextAttemptAt)
		}

		claimed, err := st.ClaimDeliveries(ctx, 10, time.Minute, nil)
		if err != nil || len(claimed) != 1 || claimed[0].ID != d.ID {
			t.Fatalf("ClaimDeliveries after the record = %d deliveries, %v; want the redelivered one", len(claimed), err)
		}
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{succeeded(record(claimed[0], w, time.Time{}))}); err != nil {
			t.Fatalf("RecordAttempts: %v", err)
		}
		if stored := readDelivery(t, st, d.ID); stored.Status != model.DeliveryStatusSucceeded || stored.AttemptCount != 2 || stored.NextAttemptAt != nil {
			t.Errorf("delivery after the extra attempt = %s after %d attempts, next %v; want SUCCEEDED after 2, no next", stored.Status, stored.AttemptCount, stored.NextAttemptAt)
		}

		// A worker that took it and then vanished: its lease has run out.
		if _, err := st.Redeliver(ctx, "acme", d.ID); err != nil {
			t.Fatal(err)
		}
		if claimed, err = st.ClaimDeliveries(ctx, 10, -time.Second, nil); err != nil || len(claimed) != 1 {
			t.Fatalf("ClaimDeliveries = %d deliveries, %v; want 1", len(claimed), err)
		}
		if _, err := st.Redeliver(ctx, "acme", d.ID); err != nil {
			t.Fatal(err)
		}
		if stored := storedDue(t, st, d.ID, model.DeliveryStatusRetrying, 2); stored.LeaseToken != "" || stored.RedeliverRequested {
			t.Errorf("delivery redelivered after its lease ran out: lease %q, marked %t; want no lease, no mark", stored.LeaseToken, stored.RedeliverRequested)
		}
	})
}

// TestRedeliverPingInFlight: a ping is in flight from its creation, which
// leases it to the caller without an end, until its attempt is recorded; a
// redelivery meanwhile makes it due again then.
func TestRedeliverPingInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w := newHook(t, st)
		ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: "webhook.ping", Payload: model.JSON(`{}`)}
		d := &model.Delivery{ID: model.NewID(model.PrefixDelivery), Owner: "acme", EventID: ev.ID, WebhookID: w.ID, Status: model.DeliveryStatusPending}
		if err := st.CreatePing(ctx, ev, d); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Redeliver(ctx, "acme", d.ID); err != nil {
			t.Fatal(err)
		}
		if s := readDelivery(t, st, d.ID); s.LeaseToken != d.LeaseToken || !s.RedeliverRequested || s.NextAttemptAt != nil {
			t.Errorf("ping redelivered in flight: lease %q, marked %t, next %v; want lease %q kept, marked, no next",
				s.LeaseToken, s.RedeliverRequested, s.NextAttemptAt, d.LeaseToken)
		}
		if claimed, err := st.ClaimDeliveries(ctx, 10, time.Minute, nil); err != nil || len(claimed) != 0 {
			t.Fatalf("ClaimDeliveries while the ping is in flight = %d deliveries, %v; want none", len(claimed), err)
		}
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{succeeded(record(d, w, time.Time{}))}); err != nil {
			t.Fatal(err)
		}
		storedDue(t, st, d.ID, model.DeliveryStatusRetrying, 1)
	})
}

// TestReplayFailedInFlight: a replay re-queues a RETRYING delivery whose
// attempt is under way as Redeliver does (it stays with its worker and is
// due again once the attempt is recorded, whatever the attempt's answer
// asked for), and a RETRYING one that waits for its next attempt at once.
func TestReplayFailedInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w := newHook(t, st)
		ds := leased(t, st, w, 2, "token")
		later := time.Now().Add(time.Hour)
		_, err := st.RecordAttempts(ctx, []model.AttemptRecord{record(ds[0], w, time.Now().Add(-time.Second)), record(ds[1], w, later)})
		if err != nil {
			t.Fatal(err)
		}
		claimed, err := st.ClaimDeliveries(ctx, 10, time.Minute, nil)
		if err != nil || len(claimed) != 1 || claimed[0].ID != ds[0].ID {
			t.Fatalf("ClaimDeliveries = %d deliveries, %v; want the one due", len(claimed), err)
		}

		if n, err := st.ReplayFailed(ctx, "acme", w.ID, time.Now().Add(-time.Hour)); err != nil || n != 2 {
			t.Fatalf("ReplayFailed = %d, %v; want 2", n, err)
		}
		if s := readDelivery(t, st, ds[0].ID); s.LeaseToken != claimed[0].LeaseToken || !s.RedeliverRequested || s.Status != model.DeliveryStatusRetrying {
			t.Errorf("replayed delivery in flight = %s, lease %q, marked %t; want RETRYING, its lease %q kept, marked",
				s.Status, s.LeaseToken, s.RedeliverRequested, claimed[0].LeaseToken)
		}
		storedDue(t, st, ds[1].ID, model.DeliveryStatusRetrying, 1)

		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{record(claimed[0], w, later)}); err != nil {
			t.Fatal(err)
		}
		storedDue(t, st, ds[0].ID, model.DeliveryStatusRetrying, 2)
	})
}

// succeeded turns a record into that of a successful attempt.
func succeeded(rec model.AttemptRecord) model.AttemptRecord {
	rec.Status, rec.NextAttemptAt, rec.Attempt.Outcome = model.DeliveryStatusSucceeded, nil, model.AttemptOutcomeSuccess
	return rec
}

// storedDue checks that the delivery is due now, without a lease or a
// redelivery mark, in status after attempts attempts, and returns it.
func storedDue(tb testing.TB, st *store.Store, id string, status model.DeliveryStatus, attempts int) *model.Delivery {
	tb.Helper()
	d := readDelivery(tb, st, id)
	if d.Status != status || d.AttemptCount != attempts || d.LeaseToken != "" || d.RedeliverRequested ||
		d.NextAttemptAt == nil || d.NextAttemptAt.After(time.Now()) {
		tb.Errorf("delivery %s = %s after %d attempts, lease %q, marked %t, next %v; want %s after %d, due now, no lease, no mark",
			id, d.Status, d.AttemptCount, d.LeaseToken, d.RedeliverRequested, d.NextAttemptAt, status, attempts)
	}
	return d
}
