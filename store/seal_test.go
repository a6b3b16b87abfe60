package store

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/model"
)

// TestSecretsEncryptedAtRest reads the raw table to prove that, with a key,
// no secret or token is stored in plain text, and that the store still
// returns them decrypted.
func TestSecretsEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	st, err := Open(ctx, "sqlite://:memory:", Options{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := &model.Webhook{
		ID: model.NewID(model.PrefixWebhook), Owner: "acme", URL: "https://example.com", Events: []string{"*"},
		Format: model.PayloadFormatJSON, Enabled: true, Headers: []model.Header{}, Health: model.HealthStatusUnknown,
		Secret: model.NewSecret(), BearerToken: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", SharedToken: "shared-plain-token",
	}
	plain := []string{w.Secret, w.BearerToken, w.SharedToken}
	if err := st.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	rotated, err := st.UpdateWebhook(ctx, "acme", w.ID, func(w *model.Webhook) error {
		w.RotateSecret(model.NewSecret(), now())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	plain = append(plain, rotated.Secret)

	var raw struct{ Secret, PreviousSecret, BearerToken, SharedToken string }
	if err := st.db.Raw("SELECT secret, previous_secret, bearer_token, shared_token FROM webhooks WHERE id = ?", w.ID).Scan(&raw).Error; err != nil {
		t.Fatal(err)
	}
	row := strings.Join([]string{raw.Secret, raw.PreviousSecret, raw.BearerToken, raw.SharedToken}, " ")
	for _, p := range plain {
		if strings.Contains(row, p) {
			t.Errorf("raw row contains %q in plain text: %s", p, row)
		}
	}
	for _, v := range []string{raw.Secret, raw.PreviousSecret, raw.BearerToken, raw.SharedToken} {
		if !strings.HasPrefix(v, sealedPrefix) {
			t.Errorf("stored value %q is not sealed", v)
		}
	}

	got, err := st.Webhook(ctx, "acme", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != rotated.Secret || got.PreviousSecret != plain[0] || got.BearerToken != plain[1] || got.SharedToken != plain[2] {
		t.Errorf("decrypted webhook = %q %q %q %q; want the originals", got.Secret, got.PreviousSecret, got.BearerToken, got.SharedToken)
	}

	// A value moved to another row does not decrypt: the row ID is bound in.
	if _, err := st.sealer.open("wh_other", raw.SharedToken); err == nil {
		t.Error("a sealed value opened under another row ID")
	}
	// Without the key, a sealed value is an error, not garbage.
	var noKey *sealer
	if _, err := noKey.open(w.ID, raw.SharedToken); err == nil {
		t.Error("a sealed value opened without a key")
	}
}

// TestSecretHeadersEncryptedAtRest proves that, with a key, the values of
// secret headers (marked, or credential headers such as Authorization) are
// not stored in plain text while other header values are; that the store
// returns them decrypted; and that rows written before the key or before
// the rule still read.
func TestSecretHeadersEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + t.TempDir() + "/seal.db"
	newWebhook := func(headers ...model.Header) *model.Webhook {
		return &model.Webhook{
			ID: model.NewID(model.PrefixWebhook), Owner: "acme", URL: "https://example.com", Events: []string{"*"},
			Format: model.PayloadFormatJSON, Enabled: true, Headers: headers, Health: model.HealthStatusUnknown, Secret: model.NewSecret(),
		}
	}
	rawHeaders := func(st *Store, id string) string {
		t.Helper()
		var raw string
		if err := st.db.Raw("SELECT headers FROM webhooks WHERE id = ?", id).Scan(&raw).Error; err != nil {
			t.Fatal(err)
		}
		return raw
	}

	// A row from before the key, with an Authorization header that was
	// not marked secret then.
	plainStore, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := newWebhook(model.Header{Name: "Authorization", Value: "Basic b2xkOnBsYWlu"})
	if err := plainStore.CreateWebhook(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := plainStore.db.Exec("UPDATE webhooks SET headers = ? WHERE id = ?", `[{"name":"Authorization","value":"Basic b2xkOnBsYWlu"}]`, old.ID).Error; err != nil {
		t.Fatal(err)
	}
	plainStore.Close()

	st, err := Open(ctx, url, Options{SecretKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Webhook(ctx, "acme", old.ID)
	if err != nil {
		t.Fatalf("read a row from before the key: %v", err)
	}
	if want := []model.Header{{Name: "Authorization", Value: "Basic b2xkOnBsYWlu", Secret: true}}; !slices.Equal(got.Headers, want) {
		t.Errorf("headers of a row from before the key = %+v; want %+v", got.Headers, want)
	}

	headers := []model.Header{
		{Name: "X-Api-Key", Value: "api-key-plain-value", Secret: true},
		{Name: "cookie", Value: "session=cookie-plain-value"},
		{Name: "X-Team", Value: "blue-team-visible"},
	}
	w := newWebhook(slices.Clone(headers)...)
	if err := st.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(headers)
	want[1].Secret = true // a credential header is always secret
	if !slices.Equal(w.Headers, want) {
		t.Errorf("created headers = %+v; want %+v", w.Headers, want)
	}
	raw := rawHeaders(st, w.ID)
	for _, p := range []string{"api-key-plain-value", "cookie-plain-value"} {
		if strings.Contains(raw, p) {
			t.Errorf("stored headers contain %q in plain text: %s", p, raw)
		}
	}
	if !strings.Contains(raw, "blue-team-visible") {
		t.Errorf("stored headers = %s; want the value of a header that is not secret as it is", raw)
	}
	if n := strings.Count(raw, sealedPrefix); n != 2 {
		t.Errorf("stored headers hold %d sealed values; want 2: %s", n, raw)
	}
	if got, err := st.Webhook(ctx, "acme", w.ID); err != nil || !slices.Equal(got.Headers, want) {
		t.Errorf("Webhook headers = %+v, %v; want %+v", got.Headers, err, want)
	}

	// An update seals the old row's header too, and the caller's webhook
	// keeps the plain values.
	updated, err := st.UpdateWebhook(ctx, "acme", old.ID, func(w *model.Webhook) error {
		w.Description = "touched"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Headers[0].Value != "Basic b2xkOnBsYWlu" {
		t.Errorf("updated header value = %q; want the plain value", updated.Headers[0].Value)
	}
	if raw := rawHeaders(st, old.ID); strings.Contains(raw, "b2xkOnBsYWlu") || !strings.Contains(raw, sealedPrefix) {
		t.Errorf("stored headers after an update = %s; want the value sealed", raw)
	}

	// A plain header that looks sealed is left as it is.
	odd := newWebhook(model.Header{Name: "X-Note", Value: sealedPrefix + "not-sealed"})
	if err := st.CreateWebhook(ctx, odd); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Webhook(ctx, "acme", odd.ID); err != nil || got.Headers[0].Value != sealedPrefix+"not-sealed" {
		t.Errorf("Webhook with a plain header that looks sealed = %+v, %v; want it as given", got, err)
	}
}
