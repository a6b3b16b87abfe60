package outbound

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// FuzzSignVerify: whatever the secret, id, time and body, the signature
// verifies with the reference Standard Webhooks library, and stops
// verifying when the body changes.
func FuzzSignVerify(f *testing.F) {
	f.Add([]byte("0123456789abcdef01234567"), "msg_1", int64(1700000000), []byte(`{"a":1}`))
	f.Add([]byte("this is a rather long secret of sixty-four bytes, give or take!!"), "evt_x", int64(0), []byte{})
	f.Fuzz(func(t *testing.T, secret []byte, id string, unix int64, body []byte) {
		if len(secret) < 24 || len(secret) > 64 || id == "" || unix < 0 || unix > 1<<40 {
			return
		}
		ts := time.Unix(unix, 0)
		wh, err := standardwebhooks.NewWebhookRaw(secret)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(unix, 10))
		h.Set("webhook-signature", Sign([][]byte{secret}, id, ts, body))
		want, err := wh.Sign(id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Get("webhook-signature"); got != want {
			t.Fatalf("Sign = %q; reference library signs %q (secret %s)", got, want, base64.StdEncoding.EncodeToString(secret))
		}
		tampered := append(append([]byte(nil), body...), 'x')
		if other, _ := wh.Sign(id, ts, tampered); other == want {
			t.Fatal("a changed body has the same signature")
		}
	})
}
