package outbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// signatureLen is the length of one "v1,<base64 HMAC-SHA256>" signature.
var signatureLen = len("v1,") + base64.StdEncoding.EncodedLen(sha256.Size)

// Sign returns the value of the webhook-signature header defined by Standard
// Webhooks (https://www.standardwebhooks.com) for a message with the given id,
// timestamp and body: for each secret, in order, "v1," followed by the
// standard base64 encoding of HMAC-SHA256(secret, msgID + "." + unix seconds +
// "." + body), separated by single spaces. Signing with several secrets lets a
// receiver verify with either key while a secret is being rotated.
//
// Secrets are the raw key bytes (a "whsec_" secret base64-decoded). Sign
// returns "" when secrets is empty.
func Sign(secrets [][]byte, msgID string, ts time.Time, body []byte) string {
	if len(secrets) == 0 {
		return ""
	}

	// One buffer holds the signed prefix "msgID.ts.", then the header value
	// being built, then scratch space for the raw MAC; only the header value
	// is returned.
	size := len(msgID) + len("..") + len("-9223372036854775808") + len(secrets)*(signatureLen+1) + sha256.Size
	buf := make([]byte, 0, size)
	buf = append(buf, msgID...)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, ts.Unix(), 10)
	buf = append(buf, '.')
	prefixLen := len(buf)
	scratch := buf[size-sha256.Size : size-sha256.Size]

	for i, secret := range secrets {
		if i > 0 {
			buf = append(buf, ' ')
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(buf[:prefixLen])
		mac.Write(body)
		buf = append(buf, "v1,"...)
		buf = base64.StdEncoding.AppendEncode(buf, mac.Sum(scratch))
	}
	return string(buf[prefixLen:])
}
