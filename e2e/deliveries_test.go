package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// TestDeliveryRecordFields reads the fields no other test queries:
// Webhook.lastDeliveryAt (null until an attempt, then the latest attempt's
// time), Delivery.lastAttempt (the latest of two attempts),
// DeliveryAttempt.responseHeaders (each attempt's own response header),
// DeliveryAttempt.eventId and DeliveryAttempt.delivery.
func TestDeliveryRecordFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			w.Header().Set("X-Receiver-Trace", "answer-"+strconv.Itoa(n))
			if n == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusAccepted
		})
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + "/rec", "events": []string{"*"}})

		lastDeliveryAt := func() *time.Time {
			t.Helper()
			var out struct {
				Webhook *struct{ LastDeliveryAt *time.Time }
			}
			c.mustDo(t, `query($id: ID!) { webhook(id: $id) { lastDeliveryAt } }`, map[string]any{"id": w.ID}, &out)
			if out.Webhook == nil {
				t.Fatalf("webhook %s not found", w.ID)
			}
			return out.Webhook.LastDeliveryAt
		}
		if got := lastDeliveryAt(); got != nil {
			t.Errorf("lastDeliveryAt before any attempt = %v; want null", got)
		}

		ev := c.publish(t, "order.created", map[string]any{"n": 1}, "")
		id := ev.Deliveries.Edges[0].Node.ID
		c.waitStatus(t, id, "SUCCEEDED")

		type attempt struct {
			ID              string
			AttemptNumber   int
			EventID         string
			WebhookID       string
			EventType       string
			StartedAt       time.Time
			Delivery        struct{ ID string }
			ResponseHeaders []model.Header
		}
		var out struct {
			Delivery struct {
				LastAttempt *attempt
				Attempts    []attempt
			}
		}
		const fields = `id attemptNumber eventId webhookId eventType startedAt delivery { id } responseHeaders { name value }`
		c.mustDo(t, `query($id: ID!) { delivery(id: $id) { lastAttempt { `+fields+` } attempts { `+fields+` } } }`,
			map[string]any{"id": id}, &out)
		atts := out.Delivery.Attempts
		if len(atts) != 2 {
			t.Fatalf("attempts = %+v; want 2", atts)
		}
		if la := out.Delivery.LastAttempt; la == nil || la.ID != atts[1].ID || la.AttemptNumber != 2 {
			t.Errorf("lastAttempt = %+v; want attempt 2 %s", la, atts[1].ID)
		}
		for i, a := range atts {
			if a.EventID != ev.ID || a.Delivery.ID != id || a.WebhookID != w.ID || a.EventType != "order.created" {
				t.Errorf("attempt %d eventId %s, delivery %s, webhookId %s, eventType %s; want %s, %s, %s, order.created",
					i+1, a.EventID, a.Delivery.ID, a.WebhookID, a.EventType, ev.ID, id, w.ID)
			}
			want := "answer-" + strconv.Itoa(i+1)
			found := false
			for _, h := range a.ResponseHeaders {
				found = found || (strings.EqualFold(h.Name, "X-Receiver-Trace") && h.Value == want)
			}
			if !found {
				t.Errorf("attempt %d responseHeaders = %v; want X-Receiver-Trace: %s", i+1, a.ResponseHeaders, want)
			}
		}

		got := lastDeliveryAt()
		if got == nil {
			t.Fatal("lastDeliveryAt after two attempts = null; want a time")
		}
		if got.Before(atts[1].StartedAt) || got.After(time.Now().Add(time.Second)) {
			t.Errorf("lastDeliveryAt = %v; want at or after the last attempt's start %v and not in the future", got, atts[1].StartedAt)
		}
	})
}

// TestNodeResolvesEventsDeliveriesAttempts checks that node(id:) resolves
// evt_, dlv_ and att_ IDs to their type for the owner, and to null for
// another owner (a member or an admin) and for IDs that do not exist.
func TestNodeResolvesEventsDeliveriesAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		rc := newReceiver(t, nil)
		wh, _ := acme.createWebhook(t, map[string]any{"url": rc.URL + "/acme", "events": []string{"*"}})
		ev := acme.publish(t, "order.created", map[string]any{"n": 1}, "")
		if len(ev.Deliveries.Edges) != 1 {
			t.Fatalf("publish made %d deliveries; want 1", len(ev.Deliveries.Edges))
		}
		d := acme.waitStatus(t, ev.Deliveries.Edges[0].Node.ID, "SUCCEEDED")
		if len(d.Attempts) != 1 {
			t.Fatalf("delivery has %d attempts; want 1", len(d.Attempts))
		}
		att := d.Attempts[0]

		const q = `query($id: ID!) { node(id: $id) { __typename id
			... on Event { type }
			... on Delivery { webhookId status }
			... on DeliveryAttempt { attemptNumber outcome } } }`
		type nodeJSON struct {
			Typename      string `json:"__typename"`
			ID            string
			Type          string
			WebhookID     string
			Status        string
			AttemptNumber int
			Outcome       string
		}
		for _, tc := range []struct {
			name string
			id   string
			want nodeJSON
		}{
			{"Event", ev.ID, nodeJSON{Typename: "Event", ID: ev.ID, Type: "order.created"}},
			{"Delivery", d.ID, nodeJSON{Typename: "Delivery", ID: d.ID, WebhookID: wh.ID, Status: "SUCCEEDED"}},
			{"DeliveryAttempt", att.ID, nodeJSON{Typename: "DeliveryAttempt", ID: att.ID, AttemptNumber: 1, Outcome: "SUCCESS"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var out struct{ Node *nodeJSON }
				acme.mustDo(t, q, map[string]any{"id": tc.id}, &out)
				if out.Node == nil || *out.Node != tc.want {
					t.Errorf("acme: node(%s) = %+v; want %+v", tc.id, out.Node, tc.want)
				}
				for _, other := range []struct {
					name string
					c    *client
				}{{"globex", globex}, {"admin", ts.admin}} {
					out.Node = nil
					other.c.mustDo(t, q, map[string]any{"id": tc.id}, &out)
					if out.Node != nil {
						t.Errorf("%s: node(acme's %s) = %+v; want null", other.name, tc.id, *out.Node)
					}
				}
			})
		}
		for _, prefix := range []string{model.PrefixEvent, model.PrefixDelivery, model.PrefixAttempt} {
			id := model.NewID(prefix)
			var out struct{ Node *nodeJSON }
			acme.mustDo(t, q, map[string]any{"id": id}, &out)
			if out.Node != nil {
				t.Errorf("acme: node(%s, which does not exist) = %+v; want null", id, *out.Node)
			}
		}
	})
}
