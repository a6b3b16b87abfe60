package model

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// APIKeyPrefix starts every API key secret, so leaked keys are recognisable.
const APIKeyPrefix = "hkl_"

// APIKey is a credential. Everything a key creates belongs to its Owner.
// Only the SHA-256 of the key is stored.
type APIKey struct {
	ID        string     `gorm:"primaryKey;size:40"`
	Owner     string     `gorm:"size:128;not null;index"`
	Name      *string    `gorm:"size:256"`
	Role      ApiKeyRole `gorm:"size:16;not null"`
	Hash      string     `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt time.Time  `gorm:"not null"`
	RevokedAt *time.Time
	// ExpiresAt, when set, is when the key stops working.
	ExpiresAt *time.Time
	// LastUsedAt is written at most once a minute per key.
	LastUsedAt *time.Time
}

// Expired reports whether the key has expired at t.
func (k *APIKey) Expired(t time.Time) bool { return k.ExpiresAt != nil && !t.Before(*k.ExpiresAt) }

func (APIKey) IsNode() {}

// IsAdmin reports whether the key may manage API keys.
func (k *APIKey) IsAdmin() bool { return k.Role == ApiKeyRoleAdmin }

// NewAPIKeySecret returns a fresh random API key.
func NewAPIKeySecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashAPIKey returns the stored form of an API key. A plain SHA-256 suffices:
// keys are 256 random bits, so there is nothing to brute-force.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Owner is an owner as operators see it: what it has, and when it last
// published.
type Owner struct {
	Name                  string
	WebhookCount          int
	UnhealthyWebhookCount int
	APIKeyCount           int
	LastEventAt           *time.Time
	// Deleting is true from deleteOwner until the owner's last row is gone.
	Deleting bool
	// RemainingEvents and RemainingDeliveries are what is left to delete
	// of an owner being deleted; nil otherwise.
	RemainingEvents     *int
	RemainingDeliveries *int
}
