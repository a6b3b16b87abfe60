package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// leased publishes n events to a new webhook of owner "acme" and returns
// their deliveries leased with token, as a worker holds them.
func leased(tb testing.TB, st *store.Store, w *model.Webhook, n int, token string) []*model.Delivery {
	tb.Helper()
	evs := make([]*model.Event, n)
	for i := range evs {
		evs[i] = &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: "t", Payload: model.JSON(`{}`)}
	}
	until := time.Now().UTC().Add(time.Minute)
	var out []*model.Delivery
	_, _, err := st.PublishEvents(context.Background(), evs,
		func(*model.Event, *model.Webhook) bool { return true },
		func(_ *model.Event, d *model.Delivery, _ *model.Webhook) {
			d.LeaseToken, d.NextAttemptAt = token, &until
			out = append(out, d)
		})
	if err != nil {
		tb.Fatalf("publish: %v", err)
	}
	return out
}

func newHook(tb testing.TB, st *store.Store) *model.Webhook {
	tb.Helper()
	w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: "acme", URL: "https://example.com/h", Events: []string{"*"},
		Format: model.PayloadFormatJSON, Enabled: true, Secret: model.NewSecret(), Health: model.HealthStatusUnknown}
	if err := st.CreateWebhook(context.Background(), w); err != nil {
		tb.Fatalf("create webhook: %v", err)
	}
	return w
}

// record builds the record of a failed first attempt of d, retried at next.
func record(d *model.Delivery, w *model.Webhook, next time.Time) model.AttemptRecord {
	code := 500
	return model.AttemptRecord{
		Delivery: d, Webhook: w, Status: model.DeliveryStatusRetrying, NextAttemptAt: &next,
		Attempt: &model.DeliveryAttempt{ID: model.NewID(model.PrefixAttempt), Owner: d.Owner, DeliveryID: d.ID, WebhookID: d.WebhookID,
			EventID: d.EventID, EventType: "t", AttemptNumber: d.AttemptCount + 1, Outcome: model.AttemptOutcomeFailure,
			StatusCode: &code, StartedAt: time.Now().UTC(), RequestHeaders: []model.Header{}, ResponseHeaders: []model.Header{}},
	}
}

// TestRecordAttemptsLeases: a batch moves the deliveries whose lease it
// still holds to their new state, each to its own, and leaves a delivery
// whose lease changed hands meanwhile in its new hands, with the attempt
// counted all the same.
func TestRecordAttemptsLeases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w := newHook(t, st)
		ds := leased(t, st, w, 4, "token-1")
		// Another process took the third one over (its lease ran out).
		stolen := *ds[2]
		stolen.LeaseToken = "token-2"
		if err := st.ReleaseDeliveries(ctx, []*model.Delivery{ds[2]}); err != nil {
			t.Fatal(err)
		}
		base := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
		batch := make([]model.AttemptRecord, len(ds))
		for i, d := range ds {
			batch[i] = record(d, w, base.Add(time.Duration(i)*time.Minute))
		}
		batch[3].Status, batch[3].NextAttemptAt, batch[3].Attempt.Outcome = model.DeliveryStatusSucceeded, nil, model.AttemptOutcomeSuccess
		got, err := st.RecordAttempts(ctx, batch)
		if err != nil {
			t.Fatalf("RecordAttempts: %v", err)
		}
		for i, d := range ds {
			stored, err := st.Delivery(ctx, "acme", d.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus, wantNext := batch[i].Status, batch[i].NextAttemptAt
			if i == 2 { // released: due again, status untouched
				wantStatus, wantNext = model.DeliveryStatusPending, stored.NextAttemptAt
			}
			if stored.Status != wantStatus || stored.AttemptCount != 1 || stored.LastAttemptID == nil || *stored.LastAttemptID != batch[i].Attempt.ID {
				t.Errorf("delivery %d = %s, %d attempts, last %v; want %s, 1, %s", i, stored.Status, stored.AttemptCount, stored.LastAttemptID, wantStatus, batch[i].Attempt.ID)
			}
			if (stored.NextAttemptAt == nil) != (wantNext == nil) || wantNext != nil && !stored.NextAttemptAt.Equal(*wantNext) {
				t.Errorf("delivery %d next attempt = %v; want %v", i, stored.NextAttemptAt, wantNext)
			}
			if i != 2 && stored.LeaseToken != "" {
				t.Errorf("delivery %d lease token = %q; want it cleared", i, stored.LeaseToken)
			}
			if g := got.Deliveries[i]; g.ID != d.ID || g.Status != stored.Status || g.AttemptCount != 1 {
				t.Errorf("returned delivery %d = %s %s %d; want %s %s 1", i, g.ID, g.Status, g.AttemptCount, d.ID, stored.Status)
			}
		}
		if h := got.Webhooks[w.ID]; h == nil || h.ConsecutiveFailures != 0 || h.Health != model.HealthStatusHealthy {
			t.Errorf("webhook after 3 failures then a success = %+v; want healthy with no failures in a row", h)
		}
	})
}

// TestRecordAttemptsHealthOfManyWebhooks: one batch with attempts to three
// webhooks leaves each with its own health: one failing, one healthy again,
// one disabled after failing for longer than allowed.
func TestRecordAttemptsHealthOfManyWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		failing, recovered, dead := newHook(t, st), newHook(t, st), newHook(t, st)
		byHook := map[string][]*model.Delivery{}
		for _, d := range leased(t, st, nil, model.MinFailuresToDisable, "token") {
			byHook[d.WebhookID] = append(byHook[d.WebhookID], d)
		}
		next := time.Now().UTC().Add(time.Hour)
		longAgo := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Microsecond)
		var batch []model.AttemptRecord
		for i := range model.UnhealthyAfterFailures {
			batch = append(batch, record(byHook[failing.ID][i], failing, next))
		}
		ok := record(byHook[recovered.ID][0], recovered, next)
		ok.Status, ok.NextAttemptAt, ok.Attempt.Outcome = model.DeliveryStatusSucceeded, nil, model.AttemptOutcomeSuccess
		batch = append(batch, record(byHook[recovered.ID][1], recovered, next), ok)
		for _, d := range byHook[dead.ID] {
			rec := record(d, dead, next)
			rec.Attempt.StartedAt, rec.DisableAfter = longAgo, time.Hour
			batch = append(batch, rec)
		}
		got, err := st.RecordAttempts(ctx, batch)
		if err != nil {
			t.Fatalf("RecordAttempts: %v", err)
		}
		for _, tt := range []struct {
			name     string
			w        *model.Webhook
			health   model.HealthStatus
			failures int
			since    *time.Time
			enabled  bool
		}{
			{"failing", failing, model.HealthStatusUnhealthy, model.UnhealthyAfterFailures, &batch[0].Attempt.StartedAt, true},
			{"recovered", recovered, model.HealthStatusHealthy, 0, nil, true},
			{"dead", dead, model.HealthStatusUnhealthy, model.MinFailuresToDisable, &longAgo, false},
		} {
			stored, err := st.Webhook(ctx, "acme", tt.w.ID)
			if err != nil {
				t.Fatal(err)
			}
			sinceOK := (stored.FailingSince == nil) == (tt.since == nil) && (tt.since == nil || stored.FailingSince.Truncate(time.Microsecond).Equal(tt.since.Truncate(time.Microsecond)))
			if stored.Health != tt.health || stored.ConsecutiveFailures != tt.failures || !sinceOK || stored.Enabled != tt.enabled {
				t.Errorf("%s webhook = %s, %d failures since %v, enabled %t; want %s, %d since %v, enabled %t",
					tt.name, stored.Health, stored.ConsecutiveFailures, stored.FailingSince, stored.Enabled, tt.health, tt.failures, tt.since, tt.enabled)
			}
			if (stored.DisabledReason != nil) != !tt.enabled {
				t.Errorf("%s webhook disabled reason = %v; want one only when disabled", tt.name, stored.DisabledReason)
			}
			if stored.LastDeliveryAt == nil {
				t.Errorf("%s webhook has no last delivery time", tt.name)
			}
			if h := got.Webhooks[tt.w.ID]; h == nil || h.Health != stored.Health || h.Enabled != stored.Enabled {
				t.Errorf("%s webhook returned as %+v; want it as stored", tt.name, h)
			}
		}
	})
}

// TestAttemptNumbersUnique: the database refuses a second attempt of a
// delivery under one number, and the store numbers attempts from the
// delivery's count as it records them, so that an attempt whose lease ran
// out and the attempt of the worker that took the delivery over get
// numbers of their own.
func TestAttemptNumbersUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		w := newHook(t, st)
		ds := leased(t, st, w, 2, "token")

		first := record(ds[0], w, time.Now().Add(time.Hour))
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{first}); err != nil {
			t.Fatal(err)
		}
		again := record(ds[0], w, time.Now().Add(time.Hour)).Attempt
		if err := store.InsertAttempt(st, again); !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("storing attempt 1 of %s twice: err = %v; want %v", ds[0].ID, err, gorm.ErrDuplicatedKey)
		}
		again.ID, again.AttemptNumber = model.NewID(model.PrefixAttempt), 2
		if err := store.InsertAttempt(st, again); err != nil {
			t.Errorf("storing attempt 2 of %s: %v", ds[0].ID, err)
		}

		// ds[1]'s lease runs out and another worker takes it over; both
		// attempts are numbered 1 as they are sent.
		stale := ds[1]
		if err := st.ReleaseDeliveries(ctx, []*model.Delivery{stale}); err != nil {
			t.Fatal(err)
		}
		claimed, err := st.ClaimDeliveries(ctx, 10, time.Minute, nil)
		if err != nil || len(claimed) != 1 || claimed[0].ID != stale.ID {
			t.Fatalf("ClaimDeliveries = %d deliveries, %v; want %s", len(claimed), err, stale.ID)
		}
		for _, d := range []*model.Delivery{stale, claimed[0]} {
			batch := []model.AttemptRecord{record(d, w, time.Now().Add(time.Hour))}
			if _, err := st.RecordAttempts(ctx, batch); err != nil {
				t.Fatalf("RecordAttempts (lease %q): %v", d.LeaseToken, err)
			}
		}
		atts, err := st.Attempts(ctx, "acme", stale.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var numbers []int
		for _, a := range atts {
			numbers = append(numbers, a.AttemptNumber)
		}
		if !slices.Equal(numbers, []int{1, 2}) {
			t.Errorf("attempt numbers = %v; want [1 2]", numbers)
		}
		if s := readDelivery(t, st, stale.ID); s.AttemptCount != 2 || s.Status != model.DeliveryStatusRetrying || s.LeaseToken != "" {
			t.Errorf("delivery = %s after %d attempts, lease %q; want RETRYING after 2, no lease (the new worker's record)", s.Status, s.AttemptCount, s.LeaseToken)
		}
	})
}

// readDelivery returns acme's delivery as stored.
func readDelivery(tb testing.TB, st *store.Store, id string) *model.Delivery {
	tb.Helper()
	d, err := st.Delivery(context.Background(), "acme", id)
	if err != nil {
		tb.Fatalf("read delivery %s: %v", id, err)
	}
	return d
}

// BenchmarkRecordAttempts records batches of attempts, as the recorder
// does under load: on SQLite, and on MySQL when HOOKLINE_TEST_MYSQL_DSN is set.
func BenchmarkRecordAttempts(b *testing.B) {
	urls := map[string]func(testing.TB) string{"sqlite": func(tb testing.TB) string { return "sqlite://" + tb.TempDir() + "/bench.db" }}
	if os.Getenv(storetest.MySQLEnv) != "" {
		urls["mysql"] = storetest.NewMySQLURL
	}
	for name, newURL := range urls {
		for _, size := range []int{16, 128} {
			b.Run(fmt.Sprintf("%s/batch=%d", name, size), func(b *testing.B) {
				ctx := context.Background()
				st := storetest.Open(b, newURL(b))
				hooks := []*model.Webhook{newHook(b, st), newHook(b, st)}
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					batch := make([]model.AttemptRecord, 0, size)
					for _, w := range hooks {
						for _, d := range leased(b, st, w, size/len(hooks), "t") {
							batch = append(batch, record(d, w, time.Now().Add(time.Hour)))
						}
					}
					b.StartTimer()
					if _, err := st.RecordAttempts(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "attempts/s")
			})
		}
	}
}
