package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

func TestPublishMatchesWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)

		hook := func(c *client, path string, in map[string]any) string {
			in["url"] = rc.URL + path
			w, _ := c.createWebhook(t, in)
			return w.ID
		}
		want := map[string]string{
			hook(acme, "/exact", map[string]any{"events": []string{"shipment.departed"}}):                                                                            "/exact",
			hook(acme, "/all", map[string]any{"events": []string{"*"}}):                                                                                              "/all",
			hook(acme, "/awb", map[string]any{"events": []string{"*"}, "filters": map[string]any{"awb": []string{"125"}}}):                                           "/awb",
			hook(acme, "/nested", map[string]any{"events": []string{"*"}, "filters": map[string]any{"depot.id": []string{"1", "2"}, "awb": []string{"125", "126"}}}): "/nested",
		}
		hook(acme, "/other-type", map[string]any{"events": []string{"shipment.arrived"}})
		hook(acme, "/disabled", map[string]any{"events": []string{"*"}, "enabled": false})
		hook(acme, "/awb-mismatch", map[string]any{"events": []string{"*"}, "filters": map[string]any{"awb": []string{"999"}}})
		hook(acme, "/missing-path", map[string]any{"events": []string{"*"}, "filters": map[string]any{"depot.name": []string{"x"}}})
		hook(globex, "/other-owner", map[string]any{"events": []string{"*"}})

		ev := acme.publish(t, "shipment.departed", map[string]any{"awb": "125", "depot": map[string]any{"id": 2}}, "")
		if !model.ValidID(ev.ID, model.PrefixEvent) {
			t.Errorf("event id = %q; want evt_ ID", ev.ID)
		}
		var got []string
		for _, e := range ev.Deliveries.Edges {
			got = append(got, want[e.Node.WebhookID])
			if want[e.Node.WebhookID] == "" {
				t.Errorf("delivery to unexpected webhook %s", e.Node.WebhookID)
			}
		}
		if ev.Deliveries.TotalCount != len(want) {
			t.Fatalf("deliveries = %d %v; want %d", ev.Deliveries.TotalCount, got, len(want))
		}
		for _, e := range ev.Deliveries.Edges {
			acme.waitStatus(t, e.Node.ID, "SUCCEEDED")
		}
		for _, path := range []string{"/exact", "/all", "/awb", "/nested"} {
			if n := rc.count(path); n != 1 {
				t.Errorf("%s received %d requests; want 1", path, n)
			}
		}
		for _, path := range []string{"/other-type", "/disabled", "/awb-mismatch", "/missing-path", "/other-owner"} {
			if n := rc.count(path); n != 0 {
				t.Errorf("%s received %d requests; want 0", path, n)
			}
		}
		// The other owner sees nothing of it.
		resp := globex.do(t, `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": ev.ID})
		if string(resp.Data) != `{"event":null}` {
			t.Errorf("other owner's event query = %s; want null", resp.Data)
		}
	})
}

func TestPublishEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/batch", "events": []string{"batch.a", "batch.b"}})
		first := c.publish(t, "batch.a", map[string]any{"n": 0}, "key-0")

		const q = `mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id type idempotencyKey deliveries { totalCount } } }`
		var out struct {
			PublishEvents []eventJSON
		}
		c.mustDo(t, q, map[string]any{"in": []map[string]any{
			{"type": "batch.a", "payload": map[string]any{"n": 1}},
			{"type": "batch.b", "payload": map[string]any{"n": 2}},
			{"type": "batch.a", "payload": map[string]any{"n": 0}, "idempotencyKey": "key-0"},
			{"type": "batch.none", "payload": map[string]any{"n": 4}},
		}}, &out)
		got := out.PublishEvents
		if len(got) != 4 || got[0].Type != "batch.a" || got[1].Type != "batch.b" || got[3].Type != "batch.none" {
			t.Fatalf("publishEvents = %+v; want the four events in order", got)
		}
		if got[2].ID != first.ID {
			t.Errorf("event with a used idempotency key = %s; want the first event %s", got[2].ID, first.ID)
		}
		if got[0].Deliveries.TotalCount != 1 || got[3].Deliveries.TotalCount != 0 {
			t.Errorf("deliveries = %d, %d; want 1 and 0", got[0].Deliveries.TotalCount, got[3].Deliveries.TotalCount)
		}
		eventually(t, 5*time.Second, "three deliveries", func() bool { return rc.count("/batch") == 3 })

		resp := c.do(t, q, map[string]any{"in": []map[string]any{
			{"type": "batch.a", "payload": map[string]any{"n": 5}},
			{"type": "batch.a", "payload": "not an object"},
		}})
		wantError(t, resp, model.CodeBadUserInput, "inputs[1].payload")
		resp = c.do(t, q, map[string]any{"in": []map[string]any{}})
		wantError(t, resp, model.CodeBadUserInput, "inputs")
		var count struct{ Events struct{ TotalCount int } }
		c.mustDo(t, `{ events { totalCount } }`, nil, &count)
		if count.Events.TotalCount != 4 {
			t.Errorf("events stored = %d; want 4 (a refused batch stores nothing)", count.Events.TotalCount)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		acme := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		globex := ts.newKey(t, "globex", model.ApiKeyRoleMember)
		acme.createWebhook(t, map[string]any{"url": rc.URL + "/a", "events": []string{"*"}})
		first := acme.publish(t, "order.created", map[string]any{"n": 1}, "order-1")
		again := acme.publish(t, "order.created", map[string]any{"n": 1}, "order-1")
		if again.ID != first.ID || again.Deliveries.TotalCount != 1 {
			t.Errorf("second publish = %s with %d deliveries; want the first event %s with 1", again.ID, again.Deliveries.TotalCount, first.ID)
		}
		if first.IdempotencyKey == nil || *first.IdempotencyKey != "order-1" {
			t.Errorf("idempotencyKey = %v; want order-1", first.IdempotencyKey)
		}
		other := globex.publish(t, "order.created", map[string]any{"n": 1}, "order-1")
		if other.ID == first.ID {
			t.Error("another owner's publish with the same key returned the first owner's event")
		}
		fresh := acme.publish(t, "order.created", map[string]any{"n": 3}, "order-2")
		if fresh.ID == first.ID {
			t.Error("a different key returned the first event")
		}
		eventually(t, 5*time.Second, "two deliveries", func() bool { return rc.count("/a") == 2 })
	})
}

// TestIdempotencyConflict: a key reused with the same type and payload
// answers the first event, however the payload's keys are ordered; reused
// with another type or payload it is CONFLICT on idempotencyKey, for
// publishEvent, and for publishEvents, which then stores none of its
// events (a retry cannot duplicate them).
func TestIdempotencyConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/conflict", "events": []string{"*"}})
		first := c.publish(t, "order.created", map[string]any{"n": 1, "items": []string{"a", "b"}}, "order-c")
		eventually(t, 5*time.Second, "the first event's request", func() bool { return rc.count("/conflict") == 1 })

		var out struct{ PublishEvent struct{ ID string } }
		c.mustDo(t, `mutation { publishEvent(input: {type: "order.created", payload: {items: ["a", "b"], n: 1}, idempotencyKey: "order-c"}) { id } }`, nil, &out)
		if out.PublishEvent.ID != first.ID {
			t.Errorf("publishEvent with the same content, keys in another order = %s; want the first event %s", out.PublishEvent.ID, first.ID)
		}

		const publishOne = `mutation($in: PublishEventInput!) { publishEvent(input: $in) { id } }`
		for _, in := range []map[string]any{
			{"type": "order.created", "payload": map[string]any{"n": 2, "items": []string{"a", "b"}}, "idempotencyKey": "order-c"},
			{"type": "order.created", "payload": map[string]any{"n": 1, "items": []string{"b", "a"}}, "idempotencyKey": "order-c"},
			{"type": "order.cancelled", "payload": map[string]any{"n": 1, "items": []string{"a", "b"}}, "idempotencyKey": "order-c"},
		} {
			resp := c.do(t, publishOne, map[string]any{"in": in})
			wantError(t, resp, model.CodeConflict, "idempotencyKey")
		}

		const publishMany = `mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id } }`
		for name, batch := range map[string][]map[string]any{
			"a stored event's key": {
				{"type": "order.paid", "payload": map[string]any{"n": 10}},
				{"type": "order.paid", "payload": map[string]any{"n": 11}, "idempotencyKey": "order-new"},
				{"type": "order.created", "payload": map[string]any{"n": 9}, "idempotencyKey": "order-c"},
			},
			"one key twice": {
				{"type": "order.paid", "payload": map[string]any{"n": 12}},
				{"type": "order.paid", "payload": map[string]any{"n": 13}, "idempotencyKey": "order-twice"},
				{"type": "order.paid", "payload": map[string]any{"n": 14}, "idempotencyKey": "order-twice"},
			},
		} {
			resp := c.do(t, publishMany, map[string]any{"in": batch})
			wantError(t, resp, model.CodeConflict, "idempotencyKey")
			if n := c.totalCount(t, "events"); n != 1 {
				t.Errorf("events after a batch refused for %s = %d; want 1: none of the batch", name, n)
			}
		}

		// The same key twice with the same content: one event, both answers it.
		var many struct{ PublishEvents []struct{ ID string } }
		c.mustDo(t, publishMany, map[string]any{"in": []map[string]any{
			{"type": "order.paid", "payload": map[string]any{"n": 15}, "idempotencyKey": "order-new"},
			{"type": "order.paid", "payload": map[string]any{"n": 16}},
			{"type": "order.paid", "payload": map[string]any{"n": 15}, "idempotencyKey": "order-new"},
		}}, &many)
		if got := many.PublishEvents; len(got) != 3 || got[0].ID != got[2].ID || got[0].ID == got[1].ID {
			t.Errorf("publishEvents with one key twice = %+v; want the 1st and 3rd the same event", got)
		}
		if n := c.totalCount(t, "events"); n != 3 {
			t.Errorf("events = %d; want 3", n)
		}
		eventually(t, 5*time.Second, "the new events' requests", func() bool { return rc.count("/conflict") == 3 })
		time.Sleep(100 * time.Millisecond)
		if n := rc.count("/conflict"); n != 3 {
			t.Errorf("receiver got %d requests; want 3: refused batches deliver nothing", n)
		}
	})
}

// eventCreatedAt returns the stored createdAt of the caller's event id.
func (c *client) eventCreatedAt(tb testing.TB, id string) time.Time {
	tb.Helper()
	var out struct {
		Event *struct{ CreatedAt time.Time }
	}
	c.mustDo(tb, `query($id: ID!) { event(id: $id) { createdAt } }`, map[string]any{"id": id}, &out)
	if out.Event == nil {
		tb.Fatalf("event %s not found", id)
	}
	return out.Event.CreatedAt
}

// TestIdempotencyWindowExpires publishes twice with one key (the same event,
// no new delivery), moves the first event's stored created_at back 23 hours
// (still the same event) and then 25 hours (a new event with its own
// delivery): the key deduplicates for 24 hours, not for ever.
func TestIdempotencyWindowExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := newURL(t)
		if url == "sqlite://:memory:" {
			url = "sqlite://" + filepath.Join(t.TempDir(), "hookline.db")
		}
		ts := newTestServer(t, url)
		db := rawDB(t, url)
		rc := newReceiver(t, nil)
		c := ts.newKey(t, "acme", model.ApiKeyRoleMember)
		c.createWebhook(t, map[string]any{"url": rc.URL + "/idem", "events": []string{"*"}})

		first := c.publish(t, "order.created", map[string]any{"n": 1}, "order-7")
		if first.Deliveries.TotalCount != 1 {
			t.Fatalf("first publish made %d deliveries; want 1", first.Deliveries.TotalCount)
		}
		again := c.publish(t, "order.created", map[string]any{"n": 1}, "order-7")
		if again.ID != first.ID {
			t.Fatalf("second publish within the window = %s; want the first event %s", again.ID, first.ID)
		}
		if n := c.totalCount(t, "deliveries"); n != 1 {
			t.Fatalf("deliveries after a duplicate publish = %d; want 1", n)
		}
		eventually(t, 5*time.Second, "the first event's request", func() bool { return rc.count("/idem") == 1 })

		// moveBack sets the first event's stored created_at to age ago and
		// checks that the API reads it back so.
		moveBack := func(t *testing.T, age time.Duration) {
			t.Helper()
			at := time.Now().UTC().Add(-age).Truncate(time.Millisecond)
			res, err := db.Exec("UPDATE events SET created_at = ? WHERE id = ?", at, first.ID)
			if err != nil {
				t.Fatalf("move created_at back: %v", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("UPDATE events changed %d rows; want 1", n)
			}
			if got := c.eventCreatedAt(t, first.ID); !got.Equal(at) {
				t.Fatalf("createdAt after the UPDATE = %v; want %v", got, at)
			}
		}

		moveBack(t, 23*time.Hour)
		within := c.publish(t, "order.created", map[string]any{"n": 1}, "order-7")
		if within.ID != first.ID {
			t.Errorf("publish 23h after the first = %s; want the first event %s", within.ID, first.ID)
		}
		if n := c.totalCount(t, "deliveries"); n != 1 {
			t.Errorf("deliveries after a publish 23h later = %d; want 1", n)
		}

		moveBack(t, 25*time.Hour)
		after := c.publish(t, "order.created", map[string]any{"n": 4}, "order-7")
		if after.ID == first.ID {
			t.Fatalf("publish 25h after the first returned the first event %s; want a new event", first.ID)
		}
		if after.IdempotencyKey == nil || *after.IdempotencyKey != "order-7" {
			t.Errorf("new event idempotencyKey = %v; want order-7", after.IdempotencyKey)
		}
		if after.Deliveries.TotalCount != 1 {
			t.Errorf("new event has %d deliveries; want 1", after.Deliveries.TotalCount)
		}
		if n := c.totalCount(t, "deliveries"); n != 2 {
			t.Errorf("deliveries after the window = %d; want 2", n)
		}
		eventually(t, 5*time.Second, "the new event's request", func() bool { return rc.count("/idem") == 2 })
		// The key now belongs to the new event.
		if again := c.publish(t, "order.created", map[string]any{"n": 4}, "order-7"); again.ID != after.ID {
			t.Errorf("publish after the renewal = %s; want the new event %s", again.ID, after.ID)
		}
	})
}
