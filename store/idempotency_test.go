package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestIdempotencyConflict: an idempotency key reused with the same type
// and payload (in any key order or spacing) answers the first event and
// stores nothing; reused with another type or payload it is CONFLICT on
// idempotencyKey, alone, in a batch (whose events are then none of them
// stored) and in a broadcast.
func TestIdempotencyConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		newHook(t, st)
		event := func(typ, payload string, key *string) *model.Event {
			return &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: typ, Payload: model.JSON(payload), IdempotencyKey: key, DedupKey: key}
		}
		publish := func(ev *model.Event) (*model.Event, []*model.Delivery, error) {
			return st.PublishEvent(ctx, ev, func(*model.Webhook) bool { return true }, func(*model.Delivery, *model.Webhook) {})
		}
		publishAll := func(evs ...*model.Event) ([]*model.Event, [][]*model.Delivery, error) {
			return st.PublishEvents(ctx, evs, func(*model.Event, *model.Webhook) bool { return true }, func(*model.Event, *model.Delivery, *model.Webhook) {})
		}
		count := func() int {
			t.Helper()
			conn, err := st.Events(ctx, "acme", nil, model.PageArgs{})
			if err != nil {
				t.Fatal(err)
			}
			n, err := conn.Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		wantConflict := func(t *testing.T, what string, err error) {
			t.Helper()
			var e *model.Error
			if model.ErrorCode(err) != model.CodeConflict || !errors.As(err, &e) || e.Field != "idempotencyKey" {
				t.Errorf("%s: error %v; want CONFLICT on idempotencyKey", what, err)
			}
		}

		first, ds, err := publish(event("order.paid", `{"id": 1, "lines": [{"sku": "a", "qty": 2}], "note": "é"}`, ptr("order-1")))
		if err != nil || len(ds) != 1 {
			t.Fatalf("PublishEvent = %v, %d deliveries; want 1", err, len(ds))
		}

		t.Run("OK/SamePayloadInAnotherForm", func(t *testing.T) {
			before := count()
			got, ds, err := publish(event("order.paid", `{"note":"\u00e9","lines":[{"qty":2,"sku":"a"}],"id":1}`, ptr("order-1")))
			if err != nil || got.ID != first.ID || len(ds) != 0 {
				t.Errorf("PublishEvent again = %v, %d deliveries, %v; want the first event %s and no deliveries", got, len(ds), err, first.ID)
			}
			if n := count(); n != before {
				t.Errorf("events after the repeat = %d; want %d", n, before)
			}
		})
		t.Run("ErrConflict/Type", func(t *testing.T) {
			_, _, err := publish(event("order.refunded", `{"id": 1, "lines": [{"sku": "a", "qty": 2}], "note": "é"}`, ptr("order-1")))
			wantConflict(t, "PublishEvent of another type", err)
		})
		t.Run("ErrConflict/Payload", func(t *testing.T) {
			for _, payload := range []string{`{"id": 2, "lines": [{"sku": "a", "qty": 2}], "note": "é"}`, `{"id": 1.0, "lines": [{"sku": "a", "qty": 2}], "note": "é"}`, `{"id": 1}`} {
				_, _, err := publish(event("order.paid", payload, ptr("order-1")))
				wantConflict(t, "PublishEvent of payload "+payload, err)
			}
		})

		t.Run("Batch", func(t *testing.T) {
			t.Run("ErrConflictWithAStoredEventStoresNone", func(t *testing.T) {
				before := count()
				_, _, err := publishAll(event("a", `{}`, nil), event("b", `{}`, ptr("batch-new")), event("order.paid", `{"id": 9}`, ptr("order-1")))
				wantConflict(t, "PublishEvents", err)
				if n := count(); n != before {
					t.Errorf("events after the refused batch = %d; want %d", n, before)
				}
				if got, _, err := publish(event("b", `{"other": true}`, ptr("batch-new"))); err != nil || got.Type != "b" {
					t.Errorf("the refused batch's key: PublishEvent = %+v, %v; want a new event, the key free", got, err)
				}
			})
			t.Run("ErrConflictWithinTheBatchStoresNone", func(t *testing.T) {
				before := count()
				_, _, err := publishAll(event("a", `{}`, nil), event("c", `{"n": 1}`, ptr("batch-1")), event("c", `{"n": 2}`, ptr("batch-1")))
				wantConflict(t, "PublishEvents", err)
				if n := count(); n != before {
					t.Errorf("events after the refused batch = %d; want %d", n, before)
				}
			})
			t.Run("OK/RepeatsAnswerTheFirstEvent", func(t *testing.T) {
				before := count()
				evs, ds, err := publishAll(
					event("c", `{"n": 1, "m": 2}`, ptr("batch-2")),
					event("a", `{}`, nil),
					event("c", `{"m": 2, "n": 1}`, ptr("batch-2")),
					event("order.paid", `{"id":1,"lines":[{"sku":"a","qty":2}],"note":"é"}`, ptr("order-1")),
				)
				if err != nil {
					t.Fatal(err)
				}
				if evs[0].ID != evs[2].ID || evs[3].ID != first.ID || evs[1].ID == evs[0].ID {
					t.Errorf("events = %s %s %s %s; want the 1st and 3rd the same, the 4th %s", evs[0].ID, evs[1].ID, evs[2].ID, evs[3].ID, first.ID)
				}
				if len(ds[0]) != 1 || len(ds[1]) != 1 || len(ds[2]) != 0 || len(ds[3]) != 0 {
					t.Errorf("deliveries per event = %d %d %d %d; want 1 1 0 0", len(ds[0]), len(ds[1]), len(ds[2]), len(ds[3]))
				}
				if n := count(); n != before+2 {
					t.Errorf("events after the batch = %d; want %d", n, before+2)
				}
			})
		})

		t.Run("Broadcast", func(t *testing.T) {
			all := func(*model.Webhook) bool { return true }
			first, err := st.Broadcast(ctx, "platform", ptr("bc-1"), event("route.created", `{"depot": "FRA", "gate": 1}`, nil), all)
			if err != nil || first.OwnerCount != 1 {
				t.Fatalf("Broadcast = %+v, %v; want 1 owner", first, err)
			}
			again, err := st.Broadcast(ctx, "platform", ptr("bc-1"), event("route.created", `{"gate":1,"depot":"FRA"}`, nil), all)
			if err != nil || *again != *first {
				t.Errorf("Broadcast again = %+v, %v; want the first result %+v", again, err, first)
			}
			_, err = st.Broadcast(ctx, "platform", ptr("bc-1"), event("route.created", `{"depot": "AMS"}`, nil), all)
			wantConflict(t, "Broadcast of another payload", err)
			_, err = st.Broadcast(ctx, "platform", ptr("bc-1"), event("route.deleted", `{"depot": "FRA", "gate": 1}`, nil), all)
			wantConflict(t, "Broadcast of another type", err)

			// At once with one key: one broadcast is stored, and every
			// one answers its result.
			results, errs := make([]*model.BroadcastResult, 6), make([]error, 6)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					results[i], errs[i] = st.Broadcast(ctx, "platform", ptr("bc-2"), event("route.created", `{"depot": "FRA"}`, nil), all)
				})
			}
			wg.Wait()
			for i := range results {
				if errs[i] != nil || *results[i] != *first {
					t.Errorf("concurrent Broadcast %d = %+v, %v; want %+v", i, results[i], errs[i], first)
				}
			}
		})
	})
}
