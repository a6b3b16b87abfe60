package e2e

// Retention deletes finished deliveries and events once they are older than
// HOOKLINE_RETENTION, and never what is unfinished; deleteOwner removes an
// owner, at once what it could still use, its data in the background.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/retention"
	"github.com/hookline/hookline/store/storetest"
)

// nodeQuery resolves any ID to its type, or null.
const nodeQuery = `query($id: ID!) { node(id: $id) { __typename id } }`

// node returns the typename of what id resolves to, "" for null.
func (c *client) node(tb testing.TB, id string) string {
	tb.Helper()
	var out struct {
		Node *struct {
			Typename string `json:"__typename"`
		}
	}
	c.mustDo(tb, nodeQuery, map[string]any{"id": id}, &out)
	if out.Node == nil {
		return ""
	}
	return out.Node.Typename
}

// TestRetentionInAProcess runs hookline with HOOKLINE_RETENTION=1s: a
// finished delivery disappears, with its attempt and its event, from
// totalCount and node soon after it is a second old; an unfinished one and
// its event stay, however old; the metrics count what went.
func TestRetentionInAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hookline processes: skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		dbURL := sharedDB(t, newURL)
		const adminKey = "retention-admin-key-0123456789"
		ok := newReceiver(t, nil)
		failing := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError })
		p := startProcess(t, "HOOKLINE_DATABASE_URL="+dbURL, "HOOKLINE_ADMIN_KEY="+adminKey, "HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
			"HOOKLINE_RETENTION=1s", "HOOKLINE_RETENTION_INTERVAL=100ms", "HOOKLINE_RETRY_SCHEDULE=1h", "HOOKLINE_POLL_INTERVAL=100ms")
		c := p.client(adminKey)
		c.createWebhook(t, map[string]any{"url": ok.URL + "/ok", "events": []string{"order.paid"}})
		c.createWebhook(t, map[string]any{"url": failing.URL + "/fail", "events": []string{"order.failed"}})

		kept := c.publish(t, "order.failed", map[string]any{}, "")
		keptID := onlyDelivery(t, kept)
		c.waitStatus(t, keptID, "RETRYING")
		done := c.publish(t, "order.paid", map[string]any{}, "")
		doneID := onlyDelivery(t, done)
		finished := c.waitStatus(t, doneID, "SUCCEEDED")
		finishedAt := time.Now()
		if n := c.totalCount(t, "deliveries"); n != 2 {
			t.Fatalf("deliveries totalCount = %d before retention; want 2", n)
		}

		eventually(t, 20*time.Second, "the finished delivery to leave deliveries { totalCount }", func() bool {
			return c.totalCount(t, "deliveries") == 1
		})
		t.Logf("swept %v after it finished", time.Since(finishedAt).Round(time.Millisecond))
		// The event goes in the same pass, after its deliveries.
		for _, id := range []string{doneID, done.ID, finished.Attempts[0].ID} {
			eventually(t, 10*time.Second, "node("+id+") to be null once swept", func() bool { return c.node(t, id) == "" })
		}

		// Twice the retention later, the unfinished delivery is still there.
		time.Sleep(2 * time.Second)
		if d := c.delivery(t, keptID); d.Status != "RETRYING" || len(d.Attempts) != 1 {
			t.Errorf("unfinished delivery = %s with %d attempts; want RETRYING with its attempt", d.Status, len(d.Attempts))
		}
		if got := c.node(t, kept.ID); got != "Event" {
			t.Errorf("node(the unfinished delivery's event) = %q; want Event", got)
		}
		if n := c.totalCount(t, "events"); n != 1 {
			t.Errorf("events totalCount = %d; want 1", n)
		}

		resp, err := http.Get("http://" + p.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`hookline_retention_deleted_total{kind="attempts"} 1`,
			`hookline_retention_deleted_total{kind="deliveries"} 1`,
			`hookline_retention_deleted_total{kind="events"} 1`,
			`hookline_oldest_event_age_seconds `,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

const deleteOwnerMutation = `mutation($owner: String!) { deleteOwner(owner: $owner) { owner revokedApiKeyCount deletedWebhookCount
	cancelledDeliveryCount remainingEvents remainingDeliveries } }`

type deleteOwnerJSON struct {
	Owner                  string
	RevokedAPIKeyCount     int `json:"revokedApiKeyCount"`
	DeletedWebhookCount    int
	CancelledDeliveryCount int
	RemainingEvents        int
	RemainingDeliveries    int
}

type deletingOwnerJSON struct {
	Name                string
	Deleting            bool
	RemainingEvents     *int
	RemainingDeliveries *int
}

// ownersNamed lists the owners whose name starts with prefix.
func (c *client) ownersNamed(tb testing.TB, prefix string) []deletingOwnerJSON {
	tb.Helper()
	var out struct {
		Owners struct {
			Edges []struct{ Node deletingOwnerJSON }
		}
	}
	c.mustDo(tb, `query($p: String) { owners(filter: { prefix: $p }) { edges { node { name deleting remainingEvents remainingDeliveries } } } }`,
		map[string]any{"p": prefix}, &out)
	var owners []deletingOwnerJSON
	for _, e := range out.Owners.Edges {
		owners = append(owners, e.Node)
	}
	return owners
}

// deliveriesIn counts the caller's deliveries in status.
func (c *client) deliveriesIn(tb testing.TB, status string) int {
	tb.Helper()
	var out struct{ Deliveries struct{ TotalCount int } }
	c.mustDo(tb, `query($s: DeliveryStatus) { deliveries(first: 1, filter: { status: $s }) { totalCount } }`, map[string]any{"s": status}, &out)
	return out.Deliveries.TotalCount
}

// TestDeleteOwner follows deleteOwner from start to finish through the
// API: only an admin may call it, and not on its own owner. At once the
// owner's key stops working and its open connections close, its webhooks
// are gone, its retrying deliveries are cancelled (as subscribers hear),
// and it takes no new events or keys; owners shows it deleting with what
// remains. The sweeper then removes its data, whatever its age, and the
// owner, leaving nothing of it in any table; another owner keeps all.
func TestDeleteOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := sharedDB(t, newURL)
		cfg := testDeliveryConfig()
		cfg.Schedule = []time.Duration{time.Hour}
		ts := newTestServerWith(t, url, cfg)
		ok := newReceiver(t, nil)
		failing := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError })
		acme, globex := ts.newKey(t, "acme", model.ApiKeyRoleMember), ts.newKey(t, "globex", model.ApiKeyRoleMember)
		asAcme := ts.admin.actingAs("acme")
		probe, _ := acme.createWebhook(t, map[string]any{"url": ok.URL + "/probe", "events": []string{"probe"}})
		acme.createWebhook(t, map[string]any{"url": failing.URL + "/fail", "events": []string{"order.created"}})
		globex.createWebhook(t, map[string]any{"url": ok.URL + "/globex", "events": []string{"*"}})
		sendProbe := func() { acme.publish(t, "probe", map[string]any{}, "") }

		watch := subscribeWith(t, ts.URL, protoTransportWS, auth(ts.admin.key, "acme"), deliveryQuery, nil)
		liven(t, watch, probe.ID, sendProbe)
		var retrying []string
		for i := range 2 {
			id := onlyDelivery(t, acme.publish(t, "order.created", map[string]any{"i": i}, ""))
			acme.waitStatus(t, id, "RETRYING")
			retrying = append(retrying, id)
		}
		globex.waitStatus(t, onlyDelivery(t, globex.publish(t, "order.created", map[string]any{}, "")), "SUCCEEDED")
		conns := openConns(t, ts, "acme's key", auth(acme.key, ""), probe.ID, sendProbe)
		eventually(t, 10*time.Second, "every probe delivered", func() bool {
			return asAcme.deliveriesIn(t, "PENDING") == 0
		})
		events, deliveries := asAcme.totalCount(t, "events"), asAcme.totalCount(t, "deliveries")

		wantError(t, acme.do(t, deleteOwnerMutation, map[string]any{"owner": "globex"}), model.CodeForbidden, "")
		wantError(t, asAcme.do(t, deleteOwnerMutation, map[string]any{"owner": "globex"}), model.CodeForbidden, "")
		wantError(t, ts.admin.do(t, deleteOwnerMutation, map[string]any{"owner": "admin"}), model.CodeBadUserInput, "owner")
		wantError(t, ts.admin.do(t, deleteOwnerMutation, map[string]any{"owner": "nobody"}), model.CodeNotFound, "owner")

		since := time.Now()
		var out struct{ DeleteOwner deleteOwnerJSON }
		ts.admin.mustDo(t, deleteOwnerMutation, map[string]any{"owner": "acme"}, &out)
		want := deleteOwnerJSON{Owner: "acme", RevokedAPIKeyCount: 1, DeletedWebhookCount: 2, CancelledDeliveryCount: 2,
			RemainingEvents: events, RemainingDeliveries: deliveries}
		if out.DeleteOwner != want {
			t.Errorf("deleteOwner = %+v; want %+v", out.DeleteOwner, want)
		}
		wantEnded(t, conns, since, "invalid or revoked API key")
		wantError(t, acme.do(t, `{ me { id } }`, nil), model.CodeUnauthenticated, "")
		cancelled := map[string]bool{}
		for len(cancelled) < len(retrying) {
			var m deliveryMsg
			watch.receive(t, &m)
			if m.DeliveryUpdated.Status == "CANCELLED" {
				cancelled[m.DeliveryUpdated.ID] = true
			}
		}
		for _, id := range retrying {
			if !cancelled[id] {
				t.Errorf("subscribers did not hear of %s's cancellation", id)
			}
		}
		if n := asAcme.totalCount(t, "webhooks"); n != 0 {
			t.Errorf("acme has %d webhooks; want none", n)
		}
		if n := asAcme.deliveriesIn(t, "RETRYING"); n != 0 {
			t.Errorf("acme has %d retrying deliveries; want none", n)
		}
		wantError(t, asAcme.do(t, `mutation { publishEvent(input: { type: "probe", payload: {} }) { id } }`, nil), model.CodeForbidden, "")
		wantError(t, ts.admin.do(t, `mutation { createApiKey(owner: "acme") { key } }`, nil), model.CodeForbidden, "")
		if got := ts.admin.ownersNamed(t, "acme"); len(got) != 1 || !got[0].Deleting || deref(got[0].RemainingEvents) != events || deref(got[0].RemainingDeliveries) != deliveries {
			t.Errorf("owners acme = %+v; want deleting, %d events and %d deliveries left", got, events, deliveries)
		}
		if got := ts.admin.ownersNamed(t, "globex"); len(got) != 1 || got[0].Deleting || got[0].RemainingEvents != nil {
			t.Errorf("owners globex = %+v; want not deleting", got)
		}
		ts.admin.mustDo(t, deleteOwnerMutation, map[string]any{"owner": "acme"}, &out)
		if want := (deleteOwnerJSON{Owner: "acme", RemainingEvents: events, RemainingDeliveries: deliveries}); out.DeleteOwner != want {
			t.Errorf("deleteOwner again = %+v; want %+v", out.DeleteOwner, want)
		}

		// The sweeper, keeping everything else (a zero period).
		swept, err := retention.New(ts.store, retention.Config{Batch: 3}, slog.New(slog.DiscardHandler)).Pass(context.Background())
		if err != nil || swept.Events != events || swept.Deliveries != deliveries {
			t.Errorf("sweep = %+v, %v; want %d events and %d deliveries", swept, err, events, deliveries)
		}
		if got := ts.admin.ownersNamed(t, "acme"); len(got) != 0 {
			t.Errorf("owners acme after the sweep = %+v; want none", got)
		}
		for _, conn := range []string{"events", "deliveries", "webhooks"} {
			if n := asAcme.totalCount(t, conn); n != 0 {
				t.Errorf("acme's %s totalCount = %d after the sweep; want 0", conn, n)
			}
		}
		if got := asAcme.node(t, retrying[0]); got != "" {
			t.Errorf("node(acme's delivery) = %s after the sweep; want null", got)
		}
		db := rawDB(t, url)
		for _, table := range []string{"api_keys", "webhooks", "webhook_events", "events", "deliveries", "delivery_attempts", "broadcasts"} {
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE owner = ?", "acme").Scan(&n); err != nil || n != 0 {
				t.Errorf("%s holds %d rows of acme (%v); want none", table, n, err)
			}
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM owners WHERE name = ?", "acme").Scan(&n); err != nil || n != 0 {
			t.Errorf("owners holds %d rows of acme (%v); want none", n, err)
		}
		if e, d := globex.totalCount(t, "events"), globex.totalCount(t, "deliveries"); e != 1 || d != 1 {
			t.Errorf("globex has %d events and %d deliveries; want 1 and 1", e, d)
		}
		if n := globex.totalCount(t, "webhooks"); n != 1 {
			t.Errorf("globex has %d webhooks; want 1", n)
		}
	})
}
