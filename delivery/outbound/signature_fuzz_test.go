package outbound

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// fuzzKey derives a signing key of 24 to 64 bytes, the lengths ParseSecret
// accepts, from any fuzz input.
func fuzzKey(seed []byte, size uint8) []byte {
	key := make([]byte, 24+int(size)%41)
	for i := range key {
		key[i] = byte(i * 31)
		if len(seed) > 0 {
			key[i] ^= seed[i%len(seed)]
		}
	}
	return key
}

// verifier is the reference Standard Webhooks library, given the secret as
// a user pastes it: "whsec_" and standard base64.
func verifier(t *testing.T, key []byte) *standardwebhooks.Webhook {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString(key))
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// FuzzSignStandardWebhooks complements FuzzSignVerify, which compares
// signatures with the reference library's: here the reference library
// verifies what Sign produces, with the headers the engine sends, for any
// key, message ID, time and body. The signature verifies (with the
// library's 5-minute tolerance when the time is near now, ignoring it
// otherwise), with either key while a secret rotates, and stops verifying
// when one byte of the body, the timestamp or the key changes.
func FuzzSignStandardWebhooks(f *testing.F) {
	f.Add([]byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), uint8(8), "evt_06h0grca0bzdbn42nshxazx85r", int64(0), int64(0), []byte(`{"type":"order.paid","data":{"id":1}}`), uint16(3))
	f.Add([]byte{}, uint8(0), "msg_1", int64(-299), int64(1700000000), []byte{}, uint16(0))
	f.Add([]byte{0xff, 0x00}, uint8(40), "id with spaces, commas and . dots", int64(299), int64(-1), []byte("\x00\xff<xml/>"), uint16(65535))
	f.Add([]byte("k"), uint8(255), "évt_ünïcode", int64(1<<40), int64(1<<62), []byte(strings.Repeat("a", 4096)), uint16(4095))
	f.Fuzz(func(t *testing.T, seed []byte, size uint8, id string, skew, unix int64, body []byte, pos uint16) {
		if id == "" || strings.TrimSpace(id) != id {
			return // the library needs an ID; HTTP trims one that is padded
		}
		key := fuzzKey(seed, size)
		old := fuzzKey(append([]byte("previous"), seed...), size+1)
		wh, whOld := verifier(t, key), verifier(t, old)

		// Near now, as the engine signs: the library's tolerance applies.
		now := time.Now()
		ts := now.Add(time.Duration(skew%240) * time.Second)
		headers := func(ts string, sig string) http.Header {
			h := http.Header{}
			h.Set("webhook-id", id)
			h.Set("webhook-timestamp", ts)
			h.Set("webhook-signature", sig)
			return h
		}
		stamp := strconv.FormatInt(ts.Unix(), 10)
		sig := Sign([][]byte{key}, id, ts, body)
		if !strings.HasPrefix(sig, "v1,") || len(sig) != signatureLen {
			t.Fatalf("Sign = %q; want one v1 signature of %d characters", sig, signatureLen)
		}
		if err := wh.Verify(body, headers(stamp, sig)); err != nil {
			t.Fatalf("reference library refuses Sign's signature (id %q, time %s, key %x): %v", id, stamp, key, err)
		}

		// One byte of the body changed.
		tampered := append([]byte(nil), body...)
		if len(tampered) == 0 {
			tampered = append(tampered, byte(pos))
		} else {
			tampered[int(pos)%len(tampered)] ^= 1 << (pos % 8)
		}
		if err := wh.Verify(tampered, headers(stamp, sig)); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Fatalf("signature of %q verifies for %q: %v", body, tampered, err)
		}
		// Another second.
		if err := wh.Verify(body, headers(strconv.FormatInt(ts.Unix()+1, 10), sig)); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Fatalf("signature for time %s verifies a second later: %v", stamp, err)
		}
		// Another key. (HMAC pads keys with zero bytes, so keys that differ
		// only in trailing zeros are the same key.)
		equivalent := strings.TrimRight(string(key), "\x00") == strings.TrimRight(string(old), "\x00")
		if err := whOld.Verify(body, headers(stamp, sig)); !equivalent && !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Fatalf("signature with key %x verifies with key %x: %v", key, old, err)
		}

		// During a rotation, both keys sign and either verifies.
		both := Sign([][]byte{key, old}, id, ts, body)
		if parts := strings.Split(both, " "); len(parts) != 2 || parts[0] != sig {
			t.Fatalf("Sign with two keys = %q; want the first key's signature %q and one more", both, sig)
		}
		for _, v := range []*standardwebhooks.Webhook{wh, whOld} {
			if err := v.Verify(body, headers(stamp, both)); err != nil {
				t.Fatalf("rotation signature %q does not verify with one of the keys: %v", both, err)
			}
		}

		// Any time at all, the tolerance aside.
		at := time.Unix(unix, 0)
		sig = Sign([][]byte{key}, id, at, body)
		if err := wh.VerifyIgnoringTimestamp(body, headers(strconv.FormatInt(at.Unix(), 10), sig)); err != nil {
			t.Fatalf("reference library refuses Sign's signature for time %d: %v", unix, err)
		}
	})
}
