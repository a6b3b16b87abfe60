package main

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestCancellationsReachSubscribers: when a webhook is disabled by hand,
// deleted, or disabled automatically (410 Gone), each of its unfinished
// deliveries becomes CANCELLED and deliveryUpdated says so.
func TestCancellationsReachSubscribers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{time.Hour} // failed deliveries wait: RETRYING
		ts := newTestServerWith(t, newURL(t), cfg)
		var gone atomic.Bool
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			switch {
			case strings.HasPrefix(r.URL.Path, "/probe"):
				return http.StatusOK
			case gone.Load():
				return http.StatusGone
			}
			return http.StatusInternalServerError
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		probeHook, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"probe.only"}})
		sub := subscribe(t, ts.URL, protoTransportWS, c.key, deliveryQuery, nil)
		probe(t, c, sub, probeHook.ID)

		// retrying creates a webhook with n deliveries waiting for a retry
		// and drains their messages so far.
		retrying := func(name string, n int) (string, []string) {
			w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/" + name, "events": []string{name}})
			var ids []string
			for range n {
				ev := c.publish(t, name, map[string]any{}, "")
				id := ev.Deliveries.Edges[0].Node.ID
				c.waitStatus(t, id, "RETRYING")
				ids = append(ids, id)
			}
			for seen := 0; seen < 2*n; seen++ { // PENDING and RETRYING of each
				var d deliveryMsg
				sub.receiveSkipping(t, probeHook.ID, &d)
			}
			return w.ID, ids
		}
		// wantCancelled reads messages until every id was reported
		// CANCELLED; messages about ignore are skipped.
		wantCancelled := func(webhookID string, ids []string, ignore string) {
			t.Helper()
			var got []string
			for len(got) < len(ids) {
				var d deliveryMsg
				sub.receiveSkipping(t, probeHook.ID, &d)
				m := d.DeliveryUpdated
				if m.ID == ignore {
					continue
				}
				if m.Status != "CANCELLED" || m.WebhookID != webhookID || !slices.Contains(ids, m.ID) {
					t.Fatalf("delivery message = %+v; want CANCELLED for one of %v of webhook %s", m, ids, webhookID)
				}
				got = append(got, m.ID)
			}
			for _, id := range ids {
				if d := c.delivery(t, id); d.Status != "CANCELLED" {
					t.Errorf("delivery %s is %s; want CANCELLED", id, d.Status)
				}
			}
		}

		t.Run("Disabled", func(t *testing.T) {
			hook, ids := retrying("disabled", 3)
			c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": hook}, nil)
			wantCancelled(hook, ids, "")
		})
		t.Run("Deleted", func(t *testing.T) {
			hook, ids := retrying("deleted", 2)
			c.mustDo(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": hook}, nil)
			wantCancelled(hook, ids, "")
		})
		t.Run("Gone", func(t *testing.T) {
			hook, ids := retrying("gone", 3)
			gone.Store(true)
			c.redeliver(t, ids[0])
			// The redelivered one ends its own way (its attempt got 410);
			// the other two are cancelled with the webhook.
			wantCancelled(hook, ids[1:], ids[0])
		})
	})
}
