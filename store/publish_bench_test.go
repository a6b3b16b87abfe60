package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookline/hookline/model"
)

// BenchmarkPublishAmongWebhooks publishes one event to an owner with one
// webhook while other owners hold many more webhooks: matching goes
// through the event-type index, so the others should cost nothing.
func BenchmarkPublishAmongWebhooks(b *testing.B) {
	for _, others := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("others=%d", others), func(b *testing.B) {
			ctx := context.Background()
			st, err := Open(ctx, "sqlite://"+b.TempDir()+"/bench.db", Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			for start := 0; start < others; start += 500 {
				var hooks, index []string
				for i := start; i < min(start+500, others); i++ {
					id := model.NewID(model.PrefixWebhook)
					hooks = append(hooks, fmt.Sprintf(`('%s','p%06d','https://x','','["other"]','JSON',1,'[]','s','','','','HEALTHY',0,'2026-01-01','2026-01-01')`, id, i))
					index = append(index, fmt.Sprintf("('other','p%06d','%s')", i, id))
				}
				if err := st.db.Exec("INSERT INTO webhooks (id, owner, url, description, events, format, enabled, headers, secret, previous_secret, bearer_token, shared_token, health, consecutive_failures, created_at, updated_at) VALUES " + strings.Join(hooks, ",")).Error; err != nil {
					b.Fatal(err)
				}
				if err := st.db.Exec("INSERT INTO webhook_events (event_type, owner, webhook_id) VALUES " + strings.Join(index, ",")).Error; err != nil {
					b.Fatal(err)
				}
			}
			w := &model.Webhook{ID: model.NewID(model.PrefixWebhook), Owner: "acme", URL: "https://example.com/h", Events: []string{"order.created"},
				Format: model.PayloadFormatJSON, Enabled: true, Secret: model.NewSecret(), Health: model.HealthStatusUnknown}
			if err := st.CreateWebhook(ctx, w); err != nil {
				b.Fatal(err)
			}
			match := func(*model.Event, *model.Webhook) bool { return true }
			take := func(*model.Event, *model.Delivery, *model.Webhook) {}
			b.ResetTimer()
			for b.Loop() {
				ev := &model.Event{ID: model.NewID(model.PrefixEvent), Owner: "acme", Type: "order.created", Payload: model.JSON(`{}`)}
				_, ds, err := st.PublishEvents(ctx, []*model.Event{ev}, match, take)
				if err != nil || len(ds[0]) != 1 {
					b.Fatalf("publish: %v, %d deliveries; want 1", err, len(ds[0]))
				}
			}
		})
	}
}
