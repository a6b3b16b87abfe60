package store_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestDeleteOwner follows deleteOwner from start to finish: at once the
// owner's keys are revoked, its webhooks deleted and its unfinished
// deliveries cancelled, and it takes nothing new; the sweeps then remove
// its events, deliveries and attempts, whatever their age, and the owner
// last, so that nothing of it is left in any table. Other owners keep all
// they have.
func TestDeleteOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		url := sharedURL(t, newURL)
		st := storetest.Open(t, url)
		key := func(owner string, role model.ApiKeyRole) (*model.APIKey, string) {
			secret := model.NewAPIKeySecret()
			k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: owner, Role: role, Hash: model.HashAPIKey(secret)}
			if err := st.CreateAPIKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			return k, secret
		}
		key("admin", model.ApiKeyRoleAdmin)
		type owned struct {
			keys     []*model.APIKey
			hook     *model.Webhook
			inFlight *model.Delivery
		}
		setUp := func(owner string, role model.ApiKeyRole) *owned {
			member, _ := key(owner, model.ApiKeyRoleMember)
			other, _ := key(owner, role)
			w := hookOf(t, st, owner)
			_, ds := publishTo(t, st, owner, w)
			attempt(t, st, ds[0], w, model.DeliveryStatusSucceeded)
			_, pending := publishTo(t, st, owner, w)
			_, ds = publishTo(t, st, owner, w)
			attempt(t, st, ds[0], w, model.DeliveryStatusRetrying)
			publishTo(t, st, owner)
			return &owned{keys: []*model.APIKey{member, other}, hook: w, inFlight: pending[0]}
		}
		acme, globex := setUp("acme", model.ApiKeyRoleAdmin), setUp("globex", model.ApiKeyRoleMember)
		dedup := "b1"
		proto := &model.Event{Type: "t", Payload: model.JSON(`{}`)}
		if _, err := st.Broadcast(ctx, "acme", &dedup, proto, func(*model.Webhook) bool { return true }); err != nil {
			t.Fatal(err)
		}
		globexBefore := ownerRows(t, url, "globex")

		res, err := st.DeleteOwner(ctx, "acme")
		if err != nil {
			t.Fatalf("DeleteOwner: %v", err)
		}
		want := model.DeleteOwnerResult{Owner: "acme", RevokedAPIKeyCount: 2, DeletedWebhookCount: 1, CancelledDeliveryCount: 3, RemainingEvents: 5, RemainingDeliveries: 4}
		if *res != want {
			t.Errorf("DeleteOwner = %+v; want %+v", *res, want)
		}
		refused, err := st.RefusedAPIKeys(ctx, []string{acme.keys[0].ID, acme.keys[1].ID, globex.keys[0].ID})
		if err != nil || len(refused) != 2 || refused[globex.keys[0].ID] != "" {
			t.Errorf("refused keys = %v, %v; want acme's two", refused, err)
		}
		if _, err := st.APIKeyByHash(ctx, acme.keys[0].Hash); model.ErrorCode(err) != model.CodeUnauthenticated {
			t.Errorf("acme's key = %v; want UNAUTHENTICATED", err)
		}
		if _, err := st.Webhook(ctx, "acme", acme.hook.ID); model.ErrorCode(err) != model.CodeNotFound {
			t.Errorf("acme's webhook = %v; want NOT_FOUND", err)
		}
		for _, s := range []model.DeliveryStatus{model.DeliveryStatusPending, model.DeliveryStatusRetrying} {
			conn, err := st.Deliveries(ctx, "acme", model.DeliveryFilter{Status: &s}, model.PageArgs{})
			if n, _ := conn.TotalCount(ctx); err != nil || n != 0 {
				t.Errorf("acme's %s deliveries = %d, %v; want none", s, n, err)
			}
		}
		prefix := "acme"
		owners, err := st.Owners(ctx, &prefix, nil, nil)
		if err != nil || len(owners.Edges) != 1 {
			t.Fatalf("owners acme = %v, %v", owners, err)
		}
		if o := owners.Edges[0].Node; !o.Deleting || o.RemainingEvents == nil || *o.RemainingEvents != 5 || *o.RemainingDeliveries != 4 || o.APIKeyCount != 0 || o.WebhookCount != 0 {
			t.Errorf("acme in owners = %+v; want deleting with 5 events and 4 deliveries left, no key or webhook", o)
		}
		prefix = "globex"
		if owners, err := st.Owners(ctx, &prefix, nil, nil); err != nil || owners.Edges[0].Node.Deleting || owners.Edges[0].Node.RemainingEvents != nil {
			t.Errorf("globex in owners = %+v, %v; want not deleting", owners.Edges[0].Node, err)
		}

		ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: "t", Payload: model.JSON(`{}`), DedupKey: ptr("k")}
		if _, _, err := st.PublishEvent(ctx, ev, func(*model.Webhook) bool { return true }, func(*model.Delivery, *model.Webhook) {}); model.ErrorCode(err) != model.CodeForbidden {
			t.Errorf("PublishEvent to acme = %v; want FORBIDDEN", err)
		}
		ev.DedupKey = nil
		if _, _, err := st.PublishEvents(ctx, []*model.Event{ev}, func(*model.Event, *model.Webhook) bool { return true }, func(*model.Event, *model.Delivery, *model.Webhook) {}); model.ErrorCode(err) != model.CodeForbidden {
			t.Errorf("PublishEvents to acme = %v; want FORBIDDEN", err)
		}
		w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: "acme", URL: "https://example.com/h", Events: []string{"*"}, Format: model.PayloadFormatJSON, Enabled: true, Secret: model.NewSecret()}
		if err := st.CreateWebhook(ctx, w); model.ErrorCode(err) != model.CodeForbidden {
			t.Errorf("CreateWebhook for acme = %v; want FORBIDDEN", err)
		}
		k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: "acme", Role: model.ApiKeyRoleMember, Hash: model.HashAPIKey(model.NewAPIKeySecret())}
		if err := st.CreateAPIKey(ctx, k); model.ErrorCode(err) != model.CodeForbidden {
			t.Errorf("CreateAPIKey for acme = %v; want FORBIDDEN", err)
		}
		again, err := st.DeleteOwner(ctx, "acme")
		if want := (model.DeleteOwnerResult{Owner: "acme", RemainingEvents: 5, RemainingDeliveries: 4}); err != nil || *again != want {
			t.Errorf("DeleteOwner again = %+v, %v; want %+v", again, err, want)
		}
		if _, err := st.DeleteOwner(ctx, "nobody"); model.ErrorCode(err) != model.CodeNotFound {
			t.Errorf("DeleteOwner of an unknown owner = %v; want NOT_FOUND", err)
		}
		if _, err := st.DeleteOwner(ctx, "admin"); model.ErrorCode(err) != model.CodeBadUserInput {
			t.Errorf("DeleteOwner of the owner of the last admin key = %v; want BAD_USER_INPUT", err)
		}

		var swept model.Swept
		var removed []string
		for more := true; more; {
			s, r, m, err := st.SweepOwners(ctx, 2)
			if err != nil {
				t.Fatalf("SweepOwners: %v", err)
			}
			if s.Total() > 2 && s.Deliveries > 1 {
				t.Errorf("a batch of 2 rows deleted %+v", s)
			}
			swept, removed, more = swept.Add(s), append(removed, r...), m
		}
		if want := (model.Swept{Events: 5, Deliveries: 4, Attempts: 2}); swept != want || !slices.Equal(removed, []string{"acme"}) {
			t.Errorf("sweeps deleted %+v and removed %v; want %+v and acme", swept, removed, want)
		}
		// The attempt a worker was making meanwhile comes back too late:
		// the delivery is gone, and the attempt with it.
		if _, err := st.RecordAttempts(ctx, []model.AttemptRecord{record(acme.inFlight, acme.hook, time.Now())}); err != nil {
			t.Errorf("RecordAttempts of a deleted delivery = %v; want it dropped quietly", err)
		}
		for table, n := range ownerRows(t, url, "acme") {
			if n != 0 {
				t.Errorf("%d rows of acme left in %s", n, table)
			}
		}
		if got := ownerRows(t, url, "globex"); !maps.Equal(got, globexBefore) {
			t.Errorf("globex's rows = %v; want %v as before", got, globexBefore)
		}
		if _, err := st.APIKeyByHash(ctx, globex.keys[0].Hash); err != nil {
			t.Errorf("globex's key = %v; want it still valid", err)
		}
		if s, r, more, err := st.SweepOwners(ctx, 2); err != nil || s.Total() != 0 || len(r) != 0 || more {
			t.Errorf("SweepOwners with no owner being deleted = %+v, %v, %t, %v; want nothing", s, r, more, err)
		}
	})
}
