package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store/storetest"
)

// changeLog records one owner's changes from the server's feed, each as a
// line: "webhook W HEALTHY enabled", "delivery D RETRYING 2",
// "attempt D 2 FAILURE", with IDs replaced by the names given to them.
type changeLog struct {
	mu      sync.Mutex
	changes []*model.Change
	names   map[string]string
}

func watchChanges(tb testing.TB, ts *testServer, owner string) *changeLog {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	stream, err := ts.feed.Watch(ctx, owner, 1024)
	if err != nil {
		tb.Fatalf("watch %s: %v", owner, err)
	}
	l := &changeLog{names: map[string]string{}}
	go func() {
		for c := range stream.C {
			l.mu.Lock()
			l.changes = append(l.changes, c)
			l.mu.Unlock()
		}
	}()
	return l
}

// name makes id show as name in the lines.
func (l *changeLog) name(id, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names[id] = name
}

// line renders c; the caller holds l.mu.
func (l *changeLog) line(c *model.Change) string {
	n := func(id string) string {
		if s, ok := l.names[id]; ok {
			return s
		}
		return id
	}
	var line string
	switch {
	case c.Webhook != nil:
		enabled := "enabled"
		if !c.Webhook.Enabled {
			enabled = "disabled"
		}
		line = fmt.Sprintf("webhook %s %s %s", n(c.Webhook.ID), c.Webhook.Health, enabled)
	case c.Delivery != nil:
		line = fmt.Sprintf("delivery %s %s %d", n(c.Delivery.ID), c.Delivery.Status, c.Delivery.AttemptCount)
	case c.Attempt != nil:
		line = fmt.Sprintf("attempt %s %d %s", n(c.Attempt.DeliveryID), c.Attempt.AttemptNumber, c.Attempt.Outcome)
	}
	return line
}

// wait returns the lines kept by keep once there are at least n of them,
// failing after a deadline.
func (l *changeLog) wait(tb testing.TB, n int, keep func([]string) []string) []string {
	tb.Helper()
	var got []string
	eventually(tb, 10*time.Second, fmt.Sprintf("%d change messages", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		got = got[:0]
		for _, c := range l.changes {
			got = append(got, l.line(c))
		}
		got = keep(got)
		return len(got) >= n
	})
	return got
}

// TestChangeFeed lists every mutation and engine path that changes a
// delivery or a webhook, and the messages each sends, in order.
func TestChangeFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, newURL func(testing.TB) string) {
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
			switch r.URL.Path {
			case "/fail":
				return http.StatusInternalServerError
			case "/gone":
				return http.StatusGone
			}
			return http.StatusOK
		})
		// Without an engine, deliveries stay PENDING: the mutations alone.
		idle := newTestServerOpts(t, testOptions{url: newURL(t), delivery: testDeliveryConfig(), noEngine: true})
		live := newTestServer(t, newURL(t)) // schedule 10ms, 20ms, 30ms: 4 attempts
		autoCfg := testDeliveryConfig()
		autoCfg.Schedule = slices.Repeat([]time.Duration{time.Millisecond}, 12)
		autoCfg.DisableAfter = time.Millisecond
		auto := newTestServerWith(t, newURL(t), autoCfg)

		type setup struct {
			c    *client
			log  *changeLog
			hook string // a webhook to /ok, named W
		}
		// publish publishes to W and names its delivery.
		publish := func(t *testing.T, s setup, name string) string {
			ev := s.c.publish(t, "order.created", map[string]any{}, "")
			id := onlyDelivery(t, ev)
			s.log.name(id, name)
			return id
		}
		tests := []struct {
			name   string
			ts     *testServer
			path   string // W's path on the receiver
			action func(t *testing.T, s setup)
			want   []string
			only   string // when set, only lines starting with it are compared
			from   string // when set, lines before the first one starting with it are not
		}{
			{name: "createWebhook", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					w, _ := s.c.createWebhook(t, map[string]any{"url": rc.URL + "/ok", "events": []string{"*"}})
					s.log.name(w.ID, "V")
				},
				want: []string{"webhook V UNKNOWN enabled"}},
			{name: "updateWebhook", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					s.c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {description: "edited"}) { id } }`, map[string]any{"id": s.hook}, nil)
				},
				want: []string{"webhook W UNKNOWN enabled"}},
			{name: "removeWebhookEvents", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					s.c.mustDo(t, `mutation($id: ID!) { removeWebhookEvents(id: $id, events: ["order.created"]) { id } }`, map[string]any{"id": s.hook}, nil)
				},
				want: []string{"webhook W UNKNOWN enabled"}},
			{name: "rotateWebhookSecret", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					s.c.mustDo(t, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, map[string]any{"id": s.hook}, nil)
				},
				want: []string{"webhook W UNKNOWN enabled"}},
			{name: "publishEvent", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) { publish(t, s, "D") },
				want:   []string{"delivery D PENDING 0"}},
			{name: "publishEvents", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					var out struct{ PublishEvents []eventJSON }
					s.c.mustDo(t, `mutation { publishEvents(inputs: [{type: "a", payload: {}}, {type: "b", payload: {}}]) { id } }`, nil, &out)
				},
				want: []string{"delivery ", "delivery "}, only: "delivery"},
			{name: "disableWebhookCancelsDeliveries", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					publish(t, s, "D")
					s.c.mustDo(t, `mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": s.hook}, nil)
				},
				want: []string{"delivery D PENDING 0", "webhook W UNKNOWN disabled", "delivery D CANCELLED 0"}},
			{name: "deleteWebhookCancelsDeliveries", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					publish(t, s, "D")
					s.c.mustDo(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": s.hook}, nil)
				},
				want: []string{"delivery D PENDING 0", "delivery D CANCELLED 0"}},
			{name: "redeliver", ts: idle, path: "/ok",
				action: func(t *testing.T, s setup) {
					d := publish(t, s, "D")
					s.c.redeliver(t, d)
				},
				want: []string{"delivery D PENDING 0", "delivery D PENDING 0"}},
			{name: "attemptSucceeds", ts: live, path: "/ok",
				action: func(t *testing.T, s setup) { publish(t, s, "D") },
				want:   []string{"delivery D PENDING 0", "attempt D 1 SUCCESS", "delivery D SUCCEEDED 1", "webhook W HEALTHY enabled"}},
			{name: "retriesUntilDead", ts: live, path: "/fail",
				action: func(t *testing.T, s setup) { publish(t, s, "D") },
				want: []string{"delivery D PENDING 0",
					"attempt D 1 FAILURE", "delivery D RETRYING 1",
					"attempt D 2 FAILURE", "delivery D RETRYING 2",
					"attempt D 3 FAILURE", "delivery D RETRYING 3", "webhook W UNHEALTHY enabled",
					"attempt D 4 FAILURE", "delivery D DEAD 4"}},
			{name: "replayFailedDeliveries", ts: live, path: "/fail",
				action: func(t *testing.T, s setup) {
					d := publish(t, s, "D")
					s.c.waitStatus(t, d, "DEAD")
					s.c.mustDo(t, `mutation($id: ID!, $since: Time!) { replayFailedDeliveries(webhookId: $id, since: $since) }`,
						map[string]any{"id": s.hook, "since": time.Now().Add(-time.Hour).Format(time.RFC3339)}, nil)
				},
				want: []string{"delivery D DEAD 4", "delivery D RETRYING 4", "attempt D 5 FAILURE", "delivery D DEAD 5"},
				from: "delivery D DEAD 4"},
			{name: "gone", ts: live, path: "/gone",
				action: func(t *testing.T, s setup) { publish(t, s, "D") },
				want:   []string{"delivery D PENDING 0", "attempt D 1 FAILURE", "delivery D DEAD 1", "webhook W UNKNOWN disabled"}},
			{name: "pingWebhook", ts: live, path: "/ok",
				action: func(t *testing.T, s setup) { s.c.ping(t, s.hook) },
				want:   []string{"delivery ", "attempt ", "delivery ", "webhook W HEALTHY enabled"}},
			{name: "disabledAutomatically", ts: auto, path: "/fail",
				action: func(t *testing.T, s setup) { publish(t, s, "D") },
				want:   []string{"webhook W UNHEALTHY enabled", "webhook W UNHEALTHY disabled"}, only: "webhook"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				owner := "changes-" + strings.ToLower(tt.name)
				c := tt.ts.newKey(t, owner, model.ApiKeyRoleMember)
				w, _ := c.createWebhook(t, map[string]any{"url": rc.URL + tt.path, "events": []string{"order.created", "a", "b", model.WildcardEvent}})
				log := watchChanges(t, tt.ts, owner)
				log.name(w.ID, "W")
				tt.action(t, setup{c: c, log: log, hook: w.ID})
				got := log.wait(t, len(tt.want), func(lines []string) []string {
					if i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, tt.from) }); i >= 0 {
						lines = lines[i:]
					} else {
						lines = nil
					}
					return slices.DeleteFunc(lines, func(l string) bool { return !strings.HasPrefix(l, tt.only) })
				})
				if len(got) != len(tt.want) {
					t.Fatalf("messages:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
				}
				for i := range got {
					if !strings.HasPrefix(got[i], tt.want[i]) {
						t.Fatalf("messages:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
					}
				}
			})
		}
	})
}
