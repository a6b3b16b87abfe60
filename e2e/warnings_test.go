package e2e

import (
	"strings"
	"testing"
)

const warnedWebhookFields = `id url warnings`

type warnedWebhook struct {
	ID       string
	URL      string
	Warnings []string
}

// createWarned creates a webhook at url and returns it with its warnings.
func (c *client) createWarned(tb testing.TB, url string) warnedWebhook {
	tb.Helper()
	var out struct {
		CreateWebhook struct{ Webhook warnedWebhook }
	}
	c.mustDo(tb, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { webhook { `+warnedWebhookFields+` } } }`,
		map[string]any{"in": validWebhookInput(map[string]any{"url": url})}, &out)
	return out.CreateWebhook.Webhook
}

// updateWarned moves webhook id to url and returns it with its warnings.
func (c *client) updateWarned(tb testing.TB, id, url string) warnedWebhook {
	tb.Helper()
	var out struct{ UpdateWebhook warnedWebhook }
	c.mustDo(tb, `mutation($id: ID!, $in: UpdateWebhookInput!) { updateWebhook(id: $id, input: $in) { `+warnedWebhookFields+` } }`,
		map[string]any{"id": id, "in": map[string]any{"url": url}}, &out)
	return out.UpdateWebhook
}

// TestWebhookWarnings: a webhook whose deliveries will be refused, because
// its URL is not public while private targets are off, is accepted and
// says so in warnings; a public URL, or private targets on, has none.
func TestWebhookWarnings(t *testing.T) {
	cfg := testDeliveryConfig()
	cfg.AllowPrivateTargets = false
	ts := newTestServerWith(t, "sqlite://:memory:", cfg)
	c := ts.admin

	wantRefused := func(t *testing.T, w warnedWebhook, host, reason string) {
		t.Helper()
		if len(w.Warnings) != 1 {
			t.Fatalf("webhook at %s: warnings = %q; want one", w.URL, w.Warnings)
		}
		for _, want := range []string{"deliveries to " + host + " will be refused", reason, "HOOKLINE_ALLOW_PRIVATE_TARGETS=true"} {
			if !strings.Contains(w.Warnings[0], want) {
				t.Errorf("webhook at %s: warning %q does not say %q", w.URL, w.Warnings[0], want)
			}
		}
	}

	var loopback warnedWebhook
	t.Run("LoopbackAddress", func(t *testing.T) {
		loopback = c.createWarned(t, "http://127.0.0.1:9000/hooks")
		if loopback.ID == "" {
			t.Fatal("createWebhook refused a loopback URL; want it accepted")
		}
		wantRefused(t, loopback, "127.0.0.1", "it is a loopback address")
		var got struct{ Webhook warnedWebhook }
		c.mustDo(t, `query($id: ID!) { webhook(id: $id) { `+warnedWebhookFields+` } }`, map[string]any{"id": loopback.ID}, &got)
		wantRefused(t, got.Webhook, "127.0.0.1", "it is a loopback address")
	})
	t.Run("PrivateAddress", func(t *testing.T) {
		w := c.createWarned(t, "https://10.20.30.40/hooks")
		wantRefused(t, w, "10.20.30.40", "it is a private address")
	})
	t.Run("NameResolvingToLoopback", func(t *testing.T) {
		w := c.updateWarned(t, loopback.ID, "http://localhost:9000/hooks")
		wantRefused(t, w, "localhost", "it resolves only to loopback addresses")
	})
	t.Run("PublicAddress", func(t *testing.T) {
		w := c.updateWarned(t, loopback.ID, "https://93.184.215.14/hooks")
		if w.Warnings == nil || len(w.Warnings) != 0 {
			t.Errorf("webhook at a public address: warnings = %#v; want an empty list", w.Warnings)
		}
		w = c.createWarned(t, "https://[2606:4700:4700::1111]/hooks")
		if len(w.Warnings) != 0 {
			t.Errorf("webhook at a public IPv6 address: warnings = %q; want none", w.Warnings)
		}
	})
	t.Run("PrivateTargetsAllowed", func(t *testing.T) {
		allowed := newTestServer(t, "sqlite://:memory:") // AllowPrivateTargets on
		for _, url := range []string{"http://127.0.0.1:9000/hooks", "http://localhost:9000/hooks"} {
			if w := allowed.admin.createWarned(t, url); len(w.Warnings) != 0 {
				t.Errorf("webhook at %s with private targets allowed: warnings = %q; want none", url, w.Warnings)
			}
		}
	})
}
