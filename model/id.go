package model

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// ID prefixes name the type of object an ID refers to.
const (
	PrefixWebhook  = "wh_"
	PrefixAPIKey   = "key_"
	PrefixEvent    = "evt_"
	PrefixDelivery = "dlv_"
	PrefixAttempt  = "att_"
)

// idEncoding is Crockford's base32 alphabet in lower case; its characters are
// in ASCII order, so encoded IDs sort like their bytes.
var idEncoding = base32.NewEncoding(idAlphabet).WithPadding(base32.NoPadding)

const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

const idBodyLen = 26 // 16 bytes in base32

// NewID returns prefix followed by 26 characters: a 48-bit millisecond
// timestamp and 80 random bits, so IDs sort roughly by creation time, which
// keeps inserts into clustered primary keys local.
func NewID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	rand.Read(b[6:])
	return prefix + idEncoding.EncodeToString(b[:])
}

// ValidID reports whether id has the given prefix and a well-formed body, so
// that garbage is refused before it reaches the database.
func ValidID(id, prefix string) bool {
	body, ok := strings.CutPrefix(id, prefix)
	if !ok || len(body) != idBodyLen {
		return false
	}
	// The decoder alone is not enough: without padding it reads 0xff as the
	// padding character and stops there.
	for i := range len(body) {
		if strings.IndexByte(idAlphabet, body[i]) < 0 {
			return false
		}
	}
	_, err := idEncoding.DecodeString(body)
	return err == nil
}

// RandomHex returns n random bytes in hex: request IDs, lease tokens.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewLeaseToken returns a token that marks the deliveries of one lease.
func NewLeaseToken() string { return RandomHex(8) }
