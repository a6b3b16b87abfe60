package model

import (
	"strings"
	"time"
)

// Header is a custom HTTP header sent with every delivery of a webhook.
//
// A Secret header's value is write-only, like the webhook's tokens: the
// GraphQL schema reads it as null, attempt records and change messages
// redact it, and the store encrypts it at rest when it has a key.
type Header struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"`
}

// credentialHeaders carry credentials, so their values are always secret.
var credentialHeaders = map[string]bool{
	"authorization": true, "cookie": true, "proxy-authorization": true, SharedTokenHeader: true,
}

// CredentialHeader reports whether a header of that name, in any case,
// carries credentials: Authorization, Cookie, Proxy-Authorization or
// X-Webhook-Shared-Token. Such a header is secret whatever its input says.
func CredentialHeader(name string) bool { return credentialHeaders[strings.ToLower(name)] }

// MarkSecretHeaders makes every credential header of w secret (see
// CredentialHeader), including those stored before the rule existed.
func (w *Webhook) MarkSecretHeaders() {
	for i := range w.Headers {
		if CredentialHeader(w.Headers[i].Name) {
			w.Headers[i].Secret = true
		}
	}
}

// Webhook is a URL that receives the events its owner publishes.
//
// Secret, PreviousSecret, BearerToken and SharedToken are write-only: the
// GraphQL schema exposes only whether they are set.
type Webhook struct {
	ID          string        `gorm:"primaryKey;size:40;index:idx_webhooks_owner_created,priority:3"`
	Owner       string        `gorm:"size:128;not null;index:idx_webhooks_owner_created,priority:1"`
	URL         string        `gorm:"column:url;size:2048;not null"`
	Description string        `gorm:"type:text;not null"`
	Events      []string      `gorm:"type:text;serializer:json;not null"`
	Filters     JSON          `gorm:"type:text"`
	Format      PayloadFormat `gorm:"size:8;not null"`
	Enabled     bool          `gorm:"not null"`
	Headers     []Header      `gorm:"type:text;serializer:json;not null"`

	Secret          string     `gorm:"size:512;not null" json:"-"`
	PreviousSecret  string     `gorm:"size:512;not null" json:"-"`
	SecretRotatedAt *time.Time `json:"-"`
	BearerToken     string     `gorm:"type:text;not null" json:"-"`
	SharedToken     string     `gorm:"type:text;not null" json:"-"`

	Health HealthStatus `gorm:"size:16;not null"`
	// DisabledReason says why Hookline disabled the webhook; nil when it is
	// enabled or was disabled through the API.
	DisabledReason      *string `gorm:"type:text"`
	ConsecutiveFailures int     `gorm:"not null"`
	// FailingSince is when the current run of failed attempts began.
	FailingSince   *time.Time
	LastDeliveryAt *time.Time

	CreatedAt time.Time `gorm:"not null;index:idx_webhooks_owner_created,priority:2"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (Webhook) IsNode() {}

// HasBearerToken reports whether deliveries carry an Authorization: Bearer header.
func (w *Webhook) HasBearerToken() bool { return w.BearerToken != "" }

// HasSharedToken reports whether deliveries carry an x-webhook-shared-token header.
func (w *Webhook) HasSharedToken() bool { return w.SharedToken != "" }

// RotationWindow is how long the previous secret keeps signing after a rotation.
const RotationWindow = 24 * time.Hour

// RotateSecret makes secret the signing secret; the old one keeps signing
// for RotationWindow so receivers can switch without losing deliveries.
func (w *Webhook) RotateSecret(secret string, at time.Time) {
	w.PreviousSecret = w.Secret
	w.Secret = secret
	t := at.UTC()
	w.SecretRotatedAt = &t
}

// SigningSecrets returns the secrets that sign a delivery at time t: the
// current one and, within RotationWindow of a rotation, the previous one.
func (w *Webhook) SigningSecrets(t time.Time) []string {
	if w.PreviousSecret != "" && w.SecretRotatedAt != nil && t.Before(w.SecretRotatedAt.Add(RotationWindow)) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}
