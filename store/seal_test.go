package store

import (
	"bytes"
	"context"
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
