package e2e

// A key that is revoked, or expires, ends every websocket and SSE stream it
// has open, in this process and in any other on the same database, within
// 2 s; an operation sent on its open websocket after the revocation does
// not run.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// keyCloseWithin is how soon after a revocation or an expiry the key's open
// connections must end.
const keyCloseWithin = 2 * time.Second

// sharedDB returns a fresh database from newURL that two test servers can
// share: on SQLite a file rather than memory.
func sharedDB(t *testing.T, newURL func(testing.TB) string) string {
	t.Helper()
	url := newURL(t)
	if url == "sqlite://:memory:" {
		url = "sqlite://" + filepath.Join(t.TempDir(), "shared.db")
	}
	return url
}

// keyConn is one open connection of a key.
type keyConn struct {
	name string
	sub  *subscription
	sse  bool
}

// openConns opens on ts, with init (a key, maybe acting on an owner): an
// idle websocket and a live deliveryAttempts subscription on each websocket
// protocol, and a live one over SSE. probe must make an attempt that the
// subscriptions receive, mentioning marker.
func openConns(t *testing.T, ts *testServer, label string, init map[string]string, marker string, probe func()) []keyConn {
	t.Helper()
	var conns []keyConn
	for _, proto := range subscriptionProtocols {
		if proto != protoSSE {
			conns = append(conns, keyConn{name: label + " idle " + proto, sub: subscribeWith(t, ts.URL, proto, init, "", nil)})
		}
		sub := subscribeWith(t, ts.URL, proto, init, attemptQuery, nil)
		liven(t, sub, marker, probe)
		conns = append(conns, keyConn{name: label + " subscription " + proto, sub: sub, sse: proto == protoSSE})
	}
	return conns
}

// wantEnded waits for every connection to end and checks that each ended
// within keyCloseWithin of since, and not before it: a websocket with close
// code 4403 and reason, an SSE stream with a last UNAUTHENTICATED error
// saying reason.
func wantEnded(t *testing.T, conns []keyConn, since time.Time, reason string) {
	t.Helper()
	var slowest time.Duration
	for _, c := range conns {
		at, end := c.sub.ended(t, 15*time.Second)
		took := at.Sub(since)
		slowest = max(slowest, took)
		if took < 0 || took >= keyCloseWithin {
			t.Errorf("%s ended %v after the key stopped working; want within [0, %v)", c.name, took.Round(time.Millisecond), keyCloseWithin)
		}
		if c.sse {
			var last []gqlError
			for len(c.sub.errors) > 0 {
				last = <-c.sub.errors
			}
			if len(last) != 1 || last[0].Extensions["code"] != model.CodeUnauthenticated || last[0].Message != reason {
				t.Errorf("%s: last event's errors %+v; want one UNAUTHENTICATED error %q", c.name, last, reason)
			}
			continue
		}
		var ce websocket.CloseError
		if !errors.As(end, &ce) || ce.Code != 4403 || ce.Reason != reason {
			t.Errorf("%s ended with %v; want close code 4403 and reason %q", c.name, end, reason)
		}
	}
	t.Logf("%d connections ended, the last %v after the key stopped working", len(conns), slowest.Round(time.Millisecond))
}

// wantAlive checks that each subscription still receives: trigger makes
// an attempt that they all accept and returns a marker only it mentions.
func wantAlive(t *testing.T, subs map[string]*subscription, trigger func() string) {
	t.Helper()
	marker := trigger()
	for name, sub := range subs {
		for {
			var raw json.RawMessage
			sub.receive(t, &raw)
			if strings.Contains(string(raw), marker) {
				break
			}
		}
		select {
		case <-sub.done:
			t.Errorf("%s ended; want it open", name)
		default:
		}
	}
}

// wantRefusedEverywhere checks that key is refused with reason on each
// server: HTTP 401, a websocket closed with 4403, SSE 401.
func wantRefusedEverywhere(t *testing.T, key, reason string, servers ...*testServer) {
	t.Helper()
	for _, ts := range servers {
		wantUnauthenticated(t, ts.URL, "Bearer "+key)
		resp := (&client{url: ts.URL + "/graphql", key: key}).do(t, `{ owner }`, nil)
		if e := wantError(t, resp, model.CodeUnauthenticated, ""); e.Message != reason {
			t.Errorf("message = %q; want %q", e.Message, reason)
		}
		for _, proto := range []string{protoTransportWS, protoLegacyWS} {
			if ce := refusedInit(t, ts.URL, proto, map[string]any{"Authorization": "Bearer " + key}); ce.Code != 4403 || ce.Reason != reason {
				t.Errorf("%s connection_init: closed with %d %q; want 4403 %q", proto, ce.Code, ce.Reason, reason)
			}
		}
		wantRefusedSSE(t, ts.URL, auth(key, ""), http.StatusUnauthorized, model.CodeUnauthenticated, "", reason)
	}
}

// TestRevocationEndsConnections: revoking a key ends its open websockets
// (idle or subscribed, both protocols, also an admin key's acting on an
// owner) and SSE streams within 2 s, whether they are open on the process
// that revoked it or on another one on the same database; the owner's
// other keys' connections stay open.
func TestRevocationEndsConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		for _, where := range []string{"SameProcess", "OtherProcess"} {
			t.Run(where, func(t *testing.T) {
				url := sharedDB(t, newURL)
				a := newTestServer(t, url)
				b := a // holds the connections
				if where == "OtherProcess" {
					b = newTestServer(t, url)
				}
				rc := newReceiver(t, nil)
				doomed, doomedKey := createKey(t, a.admin, "partner", "", time.Time{})
				doomedAdmin, doomedAdminKey := createKey(t, a.admin, "ops", "ADMIN", time.Time{})
				keeper, _ := createKey(t, a.admin, "partner", "", time.Time{})
				probeHook, _ := keeper.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"none"}})
				// Pings run where they are sent: on b, whose subscribers get them.
				keeperOnB := &client{url: b.URL + "/graphql", key: keeper.key}
				probe := func() { keeperOnB.ping(t, probeHook.ID) }

				conns := openConns(t, b, "member key", auth(doomed.key, ""), probeHook.ID, probe)
				conns = append(conns, openConns(t, b, "admin key as partner", auth(doomedAdmin.key, "partner"), probeHook.ID, probe)...)
				others := map[string]*subscription{
					"the partner's other key":        subscribeWith(t, b.URL, protoTransportWS, auth(keeper.key, ""), attemptQuery, nil),
					"the first admin key as partner": subscribeWith(t, b.URL, protoLegacyWS, auth(b.admin.key, "partner"), attemptQuery, nil),
					"the other key over SSE":         subscribeWith(t, b.URL, protoSSE, auth(keeper.key, ""), attemptQuery, nil),
				}
				for _, sub := range others {
					liven(t, sub, probeHook.ID, probe)
				}

				revoked := time.Now()
				for _, id := range []string{doomedKey.ID, doomedAdminKey.ID} {
					a.admin.mustDo(t, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": id}, nil)
				}
				wantEnded(t, conns, revoked, "invalid or revoked API key")
				wantAlive(t, others, func() string {
					fresh, _ := keeperOnB.createWebhook(t, map[string]any{"url": rc.URL + "/fresh", "events": []string{"none"}})
					keeperOnB.ping(t, fresh.ID)
					return fresh.ID
				})
				wantRefusedEverywhere(t, doomed.key, "invalid or revoked API key", a, b)
			})
		}
	})
}

// TestExpiryEndsConnections: when a key expires, its open websockets and
// SSE streams end within 2 s, on every process that holds some, and the
// key is refused from then on with "API key expired".
func TestExpiryEndsConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		url := sharedDB(t, newURL)
		a := newTestServer(t, url)
		b := newTestServer(t, url)
		rc := newReceiver(t, nil)
		keeper, _ := createKey(t, a.admin, "partner", "", time.Time{})
		probeHook, _ := keeper.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"none"}})

		// Long enough to open the connections first, even under -race.
		expires := time.Now().Add(4 * time.Second).UTC().Truncate(time.Millisecond)
		expiring, _ := createKey(t, a.admin, "partner", "", expires)
		var conns []keyConn
		for name, ts := range map[string]*testServer{"a": a, "b": b} {
			onTS := &client{url: ts.URL + "/graphql", key: keeper.key}
			conns = append(conns, openConns(t, ts, "on "+name+":", auth(expiring.key, ""), probeHook.ID, func() { onTS.ping(t, probeHook.ID) })...)
		}
		if left := time.Until(expires); left < 100*time.Millisecond {
			t.Fatalf("the connections were open only %v before the key expired; the test is too slow", left)
		}
		for _, c := range conns {
			select {
			case <-c.sub.done:
				t.Fatalf("%s ended before the key expired", c.name)
			default:
			}
		}
		wantEnded(t, conns, expires, "API key expired")
		wantRefusedEverywhere(t, expiring.key, "API key expired", a, b)
	})
}

// TestRevokedKeyOperationsRefused: an operation sent on a websocket right
// after its key was revoked through the same process does not run: the
// connection closes with 4403 and the mutation creates nothing.
func TestRevokedKeyOperationsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		ts := newTestServer(t, newURL(t))
		rc := newReceiver(t, nil)
		keeper, _ := createKey(t, ts.admin, "partner", "", time.Time{})
		probeHook, _ := keeper.createWebhook(t, map[string]any{"url": rc.URL + "/probe", "events": []string{"none"}})
		probe := func() { keeper.ping(t, probeHook.ID) }
		const mutation = `mutation($url: String!) { createWebhook(input: {url: $url, events: ["*"]}) { webhook { id url } } }`

		for _, tc := range []struct {
			name  string
			proto string
			admin bool // an admin key acting as partner, rather than the partner's member key
		}{
			{"MemberKey/" + protoTransportWS, protoTransportWS, false},
			{"MemberKey/" + protoLegacyWS, protoLegacyWS, false},
			{"AdminKeyAsOwner/" + protoTransportWS, protoTransportWS, true},
			{"AdminKeyAsOwner/" + protoLegacyWS, protoLegacyWS, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				init := map[string]string{}
				var keyID string
				if tc.admin {
					c, k := createKey(t, ts.admin, "ops", "ADMIN", time.Time{})
					init, keyID = auth(c.key, "partner"), k.ID
				} else {
					c, k := createKey(t, ts.admin, "partner", "", time.Time{})
					init, keyID = auth(c.key, ""), k.ID
				}
				sub := subscribeWith(t, ts.URL, tc.proto, init, attemptQuery, nil)
				liven(t, sub, probeHook.ID, probe)
				// Positive control: before the revocation, the mutation runs.
				before := fmt.Sprintf("https://before.example/%s", strings.ReplaceAll(tc.name, "/", "-"))
				if err := sub.send(t, "before", mutation, map[string]any{"url": before}); err != nil {
					t.Fatal(err)
				}
				for {
					var raw json.RawMessage
					sub.receive(t, &raw)
					if strings.Contains(string(raw), before) {
						break
					}
				}
				hooksBefore := webhookIDs(t, keeper)

				ts.admin.mustDo(t, `mutation($id: ID!) { revokeApiKey(id: $id) }`, map[string]any{"id": keyID}, nil)
				after := "https://after-revocation.example/" + strings.ReplaceAll(tc.name, "/", "-")
				sendErr := sub.send(t, "after", mutation, map[string]any{"url": after})
				_, end := sub.ended(t, 15*time.Second)
				var ce websocket.CloseError
				if !errors.As(end, &ce) || ce.Code != 4403 || ce.Reason != "invalid or revoked API key" {
					t.Errorf("the websocket ended with %v; want close code 4403 and reason %q", end, "invalid or revoked API key")
				}
				for len(sub.next) > 0 {
					if data := <-sub.next; strings.Contains(string(data), after) {
						t.Errorf("the mutation sent after the revocation ran: %s", data)
					}
				}
				for len(sub.errors) > 0 {
					if errs := <-sub.errors; len(errs) == 0 || errs[0].Extensions["code"] != model.CodeUnauthenticated {
						t.Errorf("error after the revocation: %+v; want UNAUTHENTICATED", errs)
					}
				}
				if got := webhookIDs(t, keeper); !slices.Equal(got, hooksBefore) {
					t.Errorf("partner's webhooks after the revocation = %v; want unchanged %v (the send returned %v)", got, hooksBefore, sendErr)
				}
			})
		}
	})
}
