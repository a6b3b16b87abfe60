package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/store/storetest"
)

// changes is a Notifier that keeps what it is told, one line a change.
type changes struct{ lines }

func (c *changes) Notify(_ context.Context, ch model.Change) error {
	var line string
	switch {
	case ch.Webhook != nil:
		line = fmt.Sprintf("webhook %s enabled=%t", ch.Webhook.Health, ch.Webhook.Enabled)
	case ch.Delivery != nil:
		line = fmt.Sprintf("delivery %s %d lease=%q", ch.Delivery.Status, ch.Delivery.AttemptCount, ch.Delivery.LeaseToken)
	case ch.Attempt != nil:
		line = fmt.Sprintf("attempt %d", ch.Attempt.AttemptNumber)
	}
	c.add(ch.Owner + " " + line)
	return nil
}

// TestStoreTellsOfEveryChange: each write that changes a delivery or a
// webhook tells its Notifier of it once committed, as it now is and
// without the lease token; a write that fails or changes nothing tells
// nothing, and neither do the deletions of retention and of an owner.
func TestStoreTellsOfEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		told := &changes{}
		st := storetest.OpenWith(t, newURL(t), store.Options{Logger: slog.New(slog.DiscardHandler), Changes: told})
		want := func(step string, wanted ...string) {
			t.Helper()
			if got := told.take(); strings.Join(got, "\n") != strings.Join(wanted, "\n") {
				t.Errorf("%s told:\n  %s\nwant:\n  %s", step, strings.Join(got, "\n  "), strings.Join(wanted, "\n  "))
			}
		}

		w := newHook(t, st)
		want("CreateWebhook", "acme webhook UNKNOWN enabled=true")

		ds := leased(t, st, w, 2, "token")
		want("PublishEvents", `acme delivery PENDING 0 lease=""`, `acme delivery PENDING 0 lease=""`)
		if ds[0].LeaseToken != "token" {
			t.Errorf("the caller's delivery lost its lease token: %q", ds[0].LeaseToken)
		}

		ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: "t", Payload: model.JSON(`{}`), DedupKey: ptr("k")}
		match := func(*model.Webhook) bool { return true }
		if _, _, err := st.PublishEvent(ctx, ev, match, func(*model.Delivery, *model.Webhook) {}); err != nil {
			t.Fatal(err)
		}
		want("PublishEvent", `acme delivery PENDING 0 lease=""`)
		again := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: "t", Payload: model.JSON(`{}`), DedupKey: ptr("k")}
		if _, _, err := st.PublishEvent(ctx, again, match, func(*model.Delivery, *model.Webhook) {}); err != nil {
			t.Fatal(err)
		}
		want("PublishEvent with a used idempotency key")

		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{record(ds[0], w, time.Now().Add(time.Minute))}); err != nil {
			t.Fatal(err)
		}
		want("RecordAttempts", "acme attempt 1", `acme delivery RETRYING 1 lease=""`)

		if err := st.CancelDelivery(ctx, ds[1]); err != nil {
			t.Fatal(err)
		}
		want("CancelDelivery", `acme delivery CANCELLED 0 lease=""`)
		if err := st.CancelDelivery(ctx, ds[0]); err != nil { // its lease ended with the record
			t.Fatal(err)
		}
		want("CancelDelivery without the lease")

		if _, err := st.Redeliver(ctx, "acme", ds[0].ID); err != nil {
			t.Fatal(err)
		}
		want("Redeliver", `acme delivery RETRYING 1 lease=""`)
		if _, err := st.Redeliver(ctx, "globex", ds[0].ID); model.ErrorCode(err) != model.CodeNotFound {
			t.Fatalf("Redeliver by another owner = %v; want NOT_FOUND", err)
		}
		want("Redeliver refused")

		if n, err := st.ReplayFailed(ctx, "acme", w.ID, time.Now().Add(-time.Hour)); err != nil || n != 1 {
			t.Fatalf("ReplayFailed = %d, %v; want 1", n, err)
		}
		want("ReplayFailed", `acme delivery RETRYING 1 lease=""`)

		if _, err := st.UpdateWebhook(ctx, "acme", w.ID, func(w *model.Webhook) error { w.Enabled = false; return nil }); err != nil {
			t.Fatal(err)
		}
		want("UpdateWebhook disabling", "acme webhook UNKNOWN enabled=false",
			`acme delivery CANCELLED 1 lease=""`, `acme delivery CANCELLED 0 lease=""`)
		if _, err := st.UpdateWebhook(ctx, "acme", w.ID, func(*model.Webhook) error { return model.InvalidField("url", "bad") }); err == nil {
			t.Fatal("UpdateWebhook with a failing change succeeded")
		}
		want("UpdateWebhook refused")

		ping := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: "webhook.ping", Payload: model.JSON(`{}`)}
		pd := &model.Delivery{ID: model.NewID(model.PrefixDelivery), Owner: "acme", EventID: ping.ID, WebhookID: w.ID, Status: model.DeliveryStatusPending}
		if err := st.CreatePing(ctx, ping, pd); err != nil {
			t.Fatal(err)
		}
		want("CreatePing", `acme delivery PENDING 0 lease=""`)

		if err := st.DeleteWebhook(ctx, "acme", w.ID); err != nil {
			t.Fatal(err)
		}
		want("DeleteWebhook", `acme delivery CANCELLED 0 lease=""`)

		w = newHook(t, st)
		want("CreateWebhook", "acme webhook UNKNOWN enabled=true")
		ds = leased(t, st, w, 1, "token")
		want("PublishEvents", `acme delivery PENDING 0 lease=""`)
		if _, err := st.DeleteOwner(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		want("DeleteOwner", `acme delivery CANCELLED 0 lease=""`)
		for more := true; more; {
			var err error
			if _, _, more, err = st.SweepOwners(ctx, 100); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := st.SweepDeliveries(ctx, time.Now(), 100); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.SweepEvents(ctx, time.Now(), "", 100); err != nil {
			t.Fatal(err)
		}
		want("Sweeps")
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{record(ds[0], w, time.Now())}); err != nil {
			t.Fatal(err)
		}
		want("RecordAttempts of a deleted delivery")

		// Redelivered and replayed while an attempt is in flight: told as
		// they are, and then due again by the attempt's record.
		w = newHook(t, st)
		want("CreateWebhook", "acme webhook UNKNOWN enabled=true")
		d := leased(t, st, w, 1, "token")[0]
		want("PublishEvents", `acme delivery PENDING 0 lease=""`)
		if _, err := st.Redeliver(ctx, "acme", d.ID); err != nil {
			t.Fatal(err)
		}
		want("Redeliver in flight", `acme delivery PENDING 0 lease=""`)
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{record(d, w, time.Now().Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
		want("RecordAttempts of a delivery redelivered in flight", "acme attempt 1", `acme delivery RETRYING 1 lease=""`)
		claimed, err := st.ClaimDeliveries(ctx, 10, time.Minute, nil)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("ClaimDeliveries = %d deliveries, %v; want the redelivered one, due", len(claimed), err)
		}
		want("ClaimDeliveries")
		if n, err := st.ReplayFailed(ctx, "acme", w.ID, time.Now().Add(-time.Hour)); err != nil || n != 1 {
			t.Fatalf("ReplayFailed = %d, %v; want 1", n, err)
		}
		want("ReplayFailed in flight", `acme delivery RETRYING 1 lease=""`)
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{record(claimed[0], w, time.Now().Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
		want("RecordAttempts of a delivery replayed in flight", "acme attempt 2", `acme delivery RETRYING 2 lease=""`)
	})
}

func ptr[T any](v T) *T { return &v }
