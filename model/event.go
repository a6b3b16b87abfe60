package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Event is something that happened, published by an owner.
type Event struct {
	ID             string  `gorm:"primaryKey;size:40;index:idx_events_owner_created,priority:3;index:idx_events_created,priority:2"`
	Owner          string  `gorm:"size:128;not null;index:idx_events_owner_created,priority:1;uniqueIndex:idx_events_dedup,priority:1"`
	Type           string  `gorm:"size:128;not null"`
	Payload        JSON    `gorm:"type:longtext;not null"`
	IdempotencyKey *string `gorm:"size:255"`
	// DedupKey holds IdempotencyKey while it deduplicates (24 hours); a
	// unique index on it makes concurrent publishes with one key safe.
	DedupKey *string `gorm:"size:255;uniqueIndex:idx_events_dedup,priority:2"`
	// RequestID names the API request that published the event; its
	// attempts carry it too, so logs and records can be joined.
	RequestID string    `gorm:"size:64;not null"`
	CreatedAt time.Time `gorm:"not null;index:idx_events_owner_created,priority:2;index:idx_events_created,priority:1"`
}

func (Event) IsNode() {}

// IdempotencyWindow is how long an idempotency key returns its first event.
const IdempotencyWindow = 24 * time.Hour

// IdempotencyConflict is the error of an idempotency key that the owner
// used within IdempotencyWindow for an event of another type or payload.
func IdempotencyConflict(key string) *Error {
	return &Error{Code: CodeConflict, Field: "idempotencyKey", Message: fmt.Sprintf(
		"%q was used within the last %d hours for an event of another type or payload; use a new key for a new event", key, int(IdempotencyWindow.Hours()))}
}

// Fingerprint identifies what a publication carries, for idempotency
// keys: a reused key must come with the same type and payload. Payloads
// compare in canonical form (CanonicalJSON), so that neither the order of
// an object's keys, whitespace nor string escapes make them differ;
// numbers compare as written (1 and 1.0 differ).
func Fingerprint(typ string, payload JSON) string {
	h := sha256.New()
	h.Write([]byte(typ))
	h.Write([]byte{0})
	h.Write(CanonicalJSON(payload))
	return hex.EncodeToString(h.Sum(nil))
}

// CanonicalJSON returns j with no whitespace, objects' keys sorted, and
// strings escaped alike (only what JSON requires, and no HTML escapes);
// numbers keep their text. A value that is not JSON comes back as it is.
func CanonicalJSON(j JSON) []byte {
	var v any
	if err := decodeJSON(j, &v); err != nil {
		return j
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return j
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
