package store_test

import (
	"context"
	"testing"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestOwners: owners with a key or a webhook are listed by name, page by
// page, with their counts; a prefix narrows them.
func TestOwners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ctx := context.Background()
		st := storetest.Open(t, newURL(t))
		for _, owner := range []string{"partner-b", "partner-a", "platform", "partner-c"} {
			k := &model.APIKey{ID: model.NewID(model.PrefixAPIKey), Owner: owner, Role: model.ApiKeyRoleMember, Hash: model.HashAPIKey(model.NewAPIKeySecret())}
			if err := st.CreateAPIKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		w := newHook(t, st) // acme: a webhook, no key
		w.Health = model.HealthStatusUnhealthy
		if _, err := st.UpdateWebhook(ctx, "acme", w.ID, func(x *model.Webhook) error { x.Health = model.HealthStatusUnhealthy; return nil }); err != nil {
			t.Fatal(err)
		}
		newHook(t, st)
		leased(t, st, w, 1, "t")

		two := 2
		page1, err := st.Owners(ctx, nil, &two, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := page1.TotalCount(ctx); n != 5 || len(page1.Edges) != 2 || !page1.PageInfo.HasNextPage {
			t.Fatalf("first page: %d edges of %d, hasNext %v; want 2 of 5, true", len(page1.Edges), n, page1.PageInfo.HasNextPage)
		}
		acme := page1.Edges[0].Node
		if acme.Name != "acme" || acme.WebhookCount != 2 || acme.UnhealthyWebhookCount != 1 || acme.APIKeyCount != 0 || acme.LastEventAt == nil {
			t.Errorf("acme = %+v; want 2 webhooks, 1 unhealthy, no key, a last event", acme)
		}
		if b := page1.Edges[1].Node; b.Name != "partner-a" || b.APIKeyCount != 1 || b.WebhookCount != 0 || b.LastEventAt != nil {
			t.Errorf("second owner = %+v; want partner-a with one key", b)
		}
		page2, err := st.Owners(ctx, nil, &two, page1.PageInfo.EndCursor)
		if err != nil || len(page2.Edges) != 2 || page2.Edges[0].Node.Name != "partner-b" || page2.Edges[1].Node.Name != "partner-c" {
			t.Fatalf("second page = %+v, %v; want partner-b, partner-c", page2, err)
		}
		prefix := "partner-"
		narrowed, err := st.Owners(ctx, &prefix, nil, nil)
		if n, _ := narrowed.TotalCount(ctx); err != nil || n != 3 || len(narrowed.Edges) != 3 {
			t.Errorf("prefix partner-: %v edges, total %d, %v; want 3", len(narrowed.Edges), n, err)
		}
		bad := "%%%"
		if _, err := st.Owners(ctx, nil, nil, &bad); model.ErrorCode(err) != model.CodeBadUserInput {
			t.Errorf("a bad cursor = %v; want BAD_USER_INPUT", err)
		}
	})
}
