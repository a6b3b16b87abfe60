package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // to count rows of a SQLite file directly

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// hookOf creates a webhook of owner subscribed to every event type.
func hookOf(tb testing.TB, st *store.Store, owner string) *model.Webhook {
	tb.Helper()
	w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: owner, URL: "https://example.com/h", Events: []string{"*"},
		Format: model.PayloadFormatJSON, Enabled: true, Secret: model.NewSecret(), Health: model.HealthStatusUnknown}
	if err := st.CreateWebhook(context.Background(), w); err != nil {
		tb.Fatalf("create webhook: %v", err)
	}
	return w
}

// publishTo publishes an event of owner with a delivery to each of hooks
// (none: an event without deliveries) and returns it with its deliveries,
// leased as a worker holds them.
func publishTo(tb testing.TB, st *store.Store, owner string, hooks ...*model.Webhook) (*model.Event, []*model.Delivery) {
	tb.Helper()
	ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: owner, Type: "t", Payload: model.JSON(`{}`)}
	until := time.Now().UTC().Add(time.Minute)
	var out []*model.Delivery
	_, _, err := st.PublishEvents(context.Background(), []*model.Event{ev},
		func(_ *model.Event, w *model.Webhook) bool {
			return slices.ContainsFunc(hooks, func(h *model.Webhook) bool { return h.ID == w.ID })
		},
		func(_ *model.Event, d *model.Delivery, _ *model.Webhook) {
			d.LeaseToken, d.NextAttemptAt = "lease", &until
			out = append(out, d)
		})
	if err != nil {
		tb.Fatalf("publish: %v", err)
	}
	return ev, out
}

// attempt records an attempt of d, which its caller holds, leaving d in
// status; a RETRYING delivery is due again at once. It returns d as it
// now is.
func attempt(tb testing.TB, st *store.Store, d *model.Delivery, w *model.Webhook, status model.DeliveryStatus) *model.Delivery {
	tb.Helper()
	rec := record(d, w, time.Now().UTC().Add(-time.Second))
	rec.Status = status
	if status != model.DeliveryStatusRetrying {
		rec.NextAttemptAt, rec.Attempt.NextRetryAt = nil, nil
	}
	if status == model.DeliveryStatusSucceeded {
		rec.Attempt.Outcome = model.AttemptOutcomeSuccess
	}
	got, err := st.RecordAttempts(context.Background(), []model.AttemptRecord{rec})
	if err != nil {
		tb.Fatalf("record attempt: %v", err)
	}
	return got.Deliveries[0]
}

// claimed claims the due deliveries and returns d as claimed.
func claimed(tb testing.TB, st *store.Store, d *model.Delivery) *model.Delivery {
	tb.Helper()
	ds, err := st.ClaimDeliveries(context.Background(), 100, time.Minute, nil)
	if err != nil {
		tb.Fatalf("claim: %v", err)
	}
	for _, c := range ds {
		if c.ID == d.ID {
			return c
		}
	}
	tb.Fatalf("delivery %s was not due", d.ID)
	return nil
}

// sweepAll runs the passes a sweeper makes until nothing is due before
// before, limit rows per batch, and returns what they deleted. Every batch
// must stay within limit rows of each kind. It reports failures with
// Errorf, so that it may run in a goroutine of its own.
func sweepAll(tb testing.TB, st *store.Store, before time.Time, limit int) model.Swept {
	tb.Helper()
	ctx := context.Background()
	var total model.Swept
	for more := true; more; {
		var swept model.Swept
		var err error
		if swept, more, err = st.SweepDeliveries(ctx, before, limit); err != nil {
			tb.Errorf("SweepDeliveries: %v", err)
			return total
		}
		if swept.Deliveries+swept.Attempts > limit && swept.Deliveries > 1 {
			tb.Errorf("a batch deleted %+v; want at most %d rows", swept, limit)
		}
		total = total.Add(swept)
	}
	for pos := ""; ; {
		swept, next, err := st.SweepEvents(ctx, before, pos, limit)
		if err != nil {
			tb.Errorf("SweepEvents: %v", err)
			return total
		}
		if swept.Events > limit {
			tb.Errorf("a batch deleted %d events; want at most %d", swept.Events, limit)
		}
		total = total.Add(swept)
		if pos = next; pos == "" {
			break
		}
	}
	return total
}

// sharedURL returns a database URL that several Stores can open: a SQLite
// file instead of a private in-memory database.
func sharedURL(tb testing.TB, newURL func(testing.TB) string) string {
	if url := newURL(tb); url != "sqlite://:memory:" {
		return url
	}
	return "sqlite://" + tb.TempDir() + "/shared.db"
}

// ownerTables are the tables that hold an owner's rows, with the column
// that names the owner.
var ownerTables = map[string]string{
	"owners": "name", "api_keys": "owner", "webhooks": "owner", "webhook_events": "owner", "events": "owner",
	"deliveries": "owner", "delivery_attempts": "owner", "broadcasts": "owner",
}

// ownerRows counts the owner's rows in every table, reading the database
// at url directly.
func ownerRows(tb testing.TB, url, owner string) map[string]int {
	tb.Helper()
	driver, dsn, _ := strings.Cut(url, "://")
	if driver == "sqlite" {
		dsn = "file:" + dsn
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	counts := map[string]int{}
	for table, column := range ownerTables {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE "+column+" = ?", owner).Scan(&n); err != nil {
			tb.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// TestRetentionSweepsWhatIsFinishedAndOld: a finished delivery (SUCCEEDED,
// DEAD, CANCELLED) last changed before the cutoff goes with its attempts;
// an unfinished one stays however old, and so does a finished one changed
// since. An old event goes once no delivery is left, or if it never had
// one; an event with a delivery left stays. What is gone is gone from
// lookups and counts.
func TestRetentionSweepsWhatIsFinishedAndOld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w1, w2 := hookOf(t, st, "acme"), hookOf(t, st, "acme")
		type item struct {
			event *model.Event
			d     *model.Delivery
			gone  bool // the delivery, with its attempts
		}
		one := func(status model.DeliveryStatus, attempts int) *item {
			ev, ds := publishTo(t, st, "acme", w1)
			d := ds[0]
			for i := range attempts {
				if i > 0 {
					d = claimed(t, st, d)
				}
				s := status
				if i < attempts-1 {
					s = model.DeliveryStatusRetrying
				}
				d = attempt(t, st, d, w1, s)
			}
			return &item{event: ev, d: d}
		}
		succeeded, dead := one(model.DeliveryStatusSucceeded, 1), one(model.DeliveryStatusDead, 2)
		cancelled := one(model.DeliveryStatusPending, 0)
		if err := st.CancelDelivery(ctx, cancelled.d); err != nil {
			t.Fatal(err)
		}
		retrying, pending := one(model.DeliveryStatusRetrying, 1), one(model.DeliveryStatusPending, 0)
		succeeded.gone, dead.gone, cancelled.gone = true, true, true
		// One event, two deliveries: one finished, one not.
		mixedEvent, mixed := publishTo(t, st, "acme", w1, w2)
		attempt(t, st, mixed[0], w1, model.DeliveryStatusSucceeded)
		lonely, _ := publishTo(t, st, "acme") // no delivery at all
		changedSince := one(model.DeliveryStatusPending, 0)

		time.Sleep(2 * time.Millisecond)
		cutoff := time.Now()
		time.Sleep(2 * time.Millisecond)
		changedSince.d = attempt(t, st, changedSince.d, w1, model.DeliveryStatusSucceeded)
		recent := one(model.DeliveryStatusSucceeded, 1)

		got := sweepAll(t, st, cutoff, 500)
		if want := (model.Swept{Events: 4, Deliveries: 4, Attempts: 4}); got != want {
			t.Errorf("swept %+v; want %+v", got, want)
		}
		for name, it := range map[string]*item{"succeeded": succeeded, "dead": dead, "cancelled": cancelled, "retrying": retrying,
			"pending": pending, "changed since": changedSince, "recent": recent} {
			_, err := st.Delivery(ctx, "acme", it.d.ID)
			if gone := model.ErrorCode(err) == model.CodeNotFound; gone != it.gone {
				t.Errorf("%s delivery: Delivery = %v; want gone %t", name, err, it.gone)
			}
			_, err = st.Event(ctx, "acme", it.event.ID)
			if gone := model.ErrorCode(err) == model.CodeNotFound; gone != it.gone {
				t.Errorf("%s event: Event = %v; want gone %t", name, err, it.gone)
			}
			atts, err := st.Attempts(ctx, "acme", it.d.ID, 10)
			if err != nil || (len(atts) == 0) != (it.gone || it.d.AttemptCount == 0) {
				t.Errorf("%s: %d attempts left, %v", name, len(atts), err)
			}
			if it.gone && it.d.LastAttemptID != nil {
				if _, err := st.Attempt(ctx, "acme", *it.d.LastAttemptID); model.ErrorCode(err) != model.CodeNotFound {
					t.Errorf("%s: Attempt = %v; want NOT_FOUND", name, err)
				}
			}
		}
		if _, err := st.Event(ctx, "acme", lonely.ID); model.ErrorCode(err) != model.CodeNotFound {
			t.Errorf("old event without deliveries: Event = %v; want NOT_FOUND", err)
		}
		if _, err := st.Event(ctx, "acme", mixedEvent.ID); err != nil {
			t.Errorf("old event with an unfinished delivery: Event = %v; want it kept", err)
		}
		if _, err := st.Delivery(ctx, "acme", mixed[0].ID); model.ErrorCode(err) != model.CodeNotFound {
			t.Errorf("its finished delivery: Delivery = %v; want NOT_FOUND", err)
		}
		deliveries, err := st.Deliveries(ctx, "acme", model.DeliveryFilter{}, model.PageArgs{})
		if n, _ := deliveries.TotalCount(ctx); err != nil || n != 5 {
			t.Errorf("deliveries totalCount = %d, %v; want 5", n, err)
		}
		events, err := st.Events(ctx, "acme", nil, model.PageArgs{})
		if n, _ := events.TotalCount(ctx); err != nil || n != 5 {
			t.Errorf("events totalCount = %d, %v; want 5", n, err)
		}
		if oldest, err := st.OldestEvent(ctx); err != nil || oldest == nil || !oldest.Equal(retrying.event.CreatedAt) {
			t.Errorf("OldestEvent = %v, %v; want %v, the oldest kept", oldest, err, retrying.event.CreatedAt)
		}
		if again := sweepAll(t, st, cutoff, 500); again.Total() != 0 {
			t.Errorf("a second pass swept %+v; want nothing", again)
		}
	})
}

// TestRetentionBatchesAreBounded: a batch deletes at most limit rows, a
// delivery counting with its attempts (and one delivery at least, however
// many attempts it has); the event sweep moves on past events it keeps.
func TestRetentionBatchesAreBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w := hookOf(t, st, "acme")
		for range 6 {
			_, ds := publishTo(t, st, "acme", w)
			attempt(t, st, claimed(t, st, attempt(t, st, ds[0], w, model.DeliveryStatusRetrying)), w, model.DeliveryStatusSucceeded)
			publishTo(t, st, "acme", w) // kept: pending
		}
		before := time.Now().Add(time.Hour)
		var batches []model.Swept
		for more := true; more; {
			swept, m, err := st.SweepDeliveries(ctx, before, 7)
			if err != nil {
				t.Fatal(err)
			}
			batches, more = append(batches, swept), m
		}
		want := []model.Swept{{Deliveries: 2, Attempts: 4}, {Deliveries: 2, Attempts: 4}, {Deliveries: 2, Attempts: 4}}
		if !slices.Equal(batches, want) {
			t.Errorf("batches of 7 rows = %+v; want %+v", batches, want)
		}

		_, ds := publishTo(t, st, "acme", w)
		attempt(t, st, claimed(t, st, attempt(t, st, ds[0], w, model.DeliveryStatusRetrying)), w, model.DeliveryStatusDead)
		if swept, _, err := st.SweepDeliveries(ctx, before, 2); err != nil || swept != (model.Swept{Deliveries: 1, Attempts: 2}) {
			t.Errorf("a delivery of 3 rows in batches of 2: swept %+v, %v; want it all the same", swept, err)
		}

		var events []int
		for pos := ""; ; {
			swept, next, err := st.SweepEvents(ctx, before, pos, 4)
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, swept.Events)
			if pos = next; pos == "" {
				break
			}
		}
		// 13 events, oldest first: 6 pairs of (gone, kept), then the last gone.
		if want := []int{2, 2, 2, 1}; !slices.Equal(events, want) {
			t.Errorf("events deleted per batch of 4 = %v; want %v", events, want)
		}
		if _, _, err := st.SweepEvents(ctx, before, "not a cursor", 4); model.ErrorCode(err) != model.CodeBadUserInput {
			t.Errorf("SweepEvents after a bad position = %v; want BAD_USER_INPUT", err)
		}
	})
}

// TestSweepersTogether: three processes sweeping one database at once
// delete every expired row exactly once, without errors or deadlocks.
func TestSweepersTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := sharedURL(t, newURL)
		st := storetest.Open(t, url)
		w := hookOf(t, st, "acme")
		const n = 120
		for range n {
			_, ds := publishTo(t, st, "acme", w)
			attempt(t, st, ds[0], w, model.DeliveryStatusSucceeded)
			publishTo(t, st, "acme")
		}
		before := time.Now().Add(time.Hour)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total model.Swept
		)
		for range 3 {
			sweeper := storetest.Open(t, url)
			wg.Go(func() {
				got := sweepAll(t, sweeper, before, 10)
				mu.Lock()
				total = total.Add(got)
				mu.Unlock()
			})
		}
		wg.Wait()
		if want := (model.Swept{Events: 2 * n, Deliveries: n, Attempts: n}); total != want {
			t.Errorf("three sweepers deleted %+v in all; want %+v", total, want)
		}
		if rows := ownerRows(t, url, "acme"); rows["events"]+rows["deliveries"]+rows["delivery_attempts"] != 0 {
			t.Errorf("left %v", rows)
		}
	})
}
