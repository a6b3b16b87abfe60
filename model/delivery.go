package model

import (
	"io"
	"strconv"
	"time"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryStatusPending   DeliveryStatus = "PENDING"
	DeliveryStatusSucceeded DeliveryStatus = "SUCCEEDED"
	DeliveryStatusRetrying  DeliveryStatus = "RETRYING"
	DeliveryStatusDead      DeliveryStatus = "DEAD"
	DeliveryStatusCancelled DeliveryStatus = "CANCELLED"
)

// IsValid reports whether s is one of the known statuses.
func (s DeliveryStatus) IsValid() bool {
	switch s {
	case DeliveryStatusPending, DeliveryStatusSucceeded, DeliveryStatusRetrying, DeliveryStatusDead, DeliveryStatusCancelled:
		return true
	}
	return false
}

func (s DeliveryStatus) String() string { return string(s) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (s *DeliveryStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, s, "DeliveryStatus") }

// MarshalGQL implements graphql.Marshaler.
func (s DeliveryStatus) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(s))) }

// Delivery is one event on its way to one webhook. Pending and retrying
// deliveries are the queue: a worker claims a due row by pushing its
// NextAttemptAt forward by a lease and stamping LeaseToken, so a row whose
// worker died becomes due again when the lease runs out.
type Delivery struct {
	ID           string         `gorm:"primaryKey;size:40;index:idx_deliveries_owner_created,priority:3;index:idx_deliveries_webhook_created,priority:3;index:idx_deliveries_event_created,priority:3"`
	Owner        string         `gorm:"size:128;not null;index:idx_deliveries_owner_created,priority:1"`
	EventID      string         `gorm:"size:40;not null;index:idx_deliveries_event_created,priority:1"`
	WebhookID    string         `gorm:"size:40;not null;index:idx_deliveries_webhook_created,priority:1"`
	Status       DeliveryStatus `gorm:"size:16;not null;index:idx_deliveries_finished,priority:1"`
	AttemptCount int            `gorm:"not null"`
	// NextAttemptAt is NULL once a delivery is final, so its index holds
	// the queue alone and a claim reads it in due order.
	NextAttemptAt *time.Time `gorm:"index:idx_deliveries_next_attempt"`
	LeaseToken    string     `gorm:"size:32;not null"`
	LastAttemptID *string    `gorm:"size:40"`
	CreatedAt     time.Time  `gorm:"not null;index:idx_deliveries_owner_created,priority:2;index:idx_deliveries_webhook_created,priority:2;index:idx_deliveries_event_created,priority:2"`
	UpdatedAt     time.Time  `gorm:"not null;index:idx_deliveries_finished,priority:2"`
	// RedeliverRequested marks a delivery redelivered or replayed while a
	// worker held its lease: the attempt in flight runs to its end, and once
	// it is recorded the delivery is due again at once, rather than a second
	// worker sending it beside the first.
	RedeliverRequested bool `gorm:"not null;default:false"`
}

func (Delivery) IsNode() {}

// AttemptOutcome is how one attempt ended.
type AttemptOutcome string

const (
	AttemptOutcomeSuccess AttemptOutcome = "SUCCESS"
	AttemptOutcomeFailure AttemptOutcome = "FAILURE"
)

// IsValid reports whether o is one of the known outcomes.
func (o AttemptOutcome) IsValid() bool {
	return o == AttemptOutcomeSuccess || o == AttemptOutcomeFailure
}

func (o AttemptOutcome) String() string { return string(o) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (o *AttemptOutcome) UnmarshalGQL(v any) error { return unmarshalEnum(v, o, "AttemptOutcome") }

// MarshalGQL implements graphql.Marshaler.
func (o AttemptOutcome) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(o))) }

// DeliveryAttempt is the record of one POST of a delivery: what was sent and
// what came back. A delivery's attempts are numbered from 1 without gaps or
// repeats (a unique index holds the pair): the store gives each attempt the
// next number as it records it. idx_attempts_webhook_started covers a
// webhook's attempt statistics: it finds a time range of one webhook's
// attempts and holds what is counted of them.
type DeliveryAttempt struct {
	ID              string         `gorm:"primaryKey;size:40"`
	Owner           string         `gorm:"size:128;not null"`
	DeliveryID      string         `gorm:"size:40;not null;uniqueIndex:idx_attempts_delivery_number,priority:1"`
	WebhookID       string         `gorm:"size:40;not null;index:idx_attempts_webhook_started,priority:1"`
	EventID         string         `gorm:"size:40;not null"`
	EventType       string         `gorm:"size:128;not null"`
	AttemptNumber   int            `gorm:"not null;uniqueIndex:idx_attempts_delivery_number,priority:2"`
	Outcome         AttemptOutcome `gorm:"size:16;not null;index:idx_attempts_webhook_started,priority:3"`
	StatusCode      *int
	Error           *string   `gorm:"type:text"`
	DurationMs      int       `gorm:"not null;index:idx_attempts_webhook_started,priority:4"`
	RequestHeaders  []Header  `gorm:"type:text;serializer:json;not null"`
	RequestBody     string    `gorm:"type:longtext;not null"`
	ResponseHeaders []Header  `gorm:"type:text;serializer:json;not null"`
	ResponseBody    string    `gorm:"type:mediumtext;not null"`
	StartedAt       time.Time `gorm:"not null;index:idx_attempts_webhook_started,priority:2"`
	NextRetryAt     *time.Time
	// RequestID is the ID of the API request that published the event.
	RequestID string `gorm:"size:64;not null"`
}

func (DeliveryAttempt) IsNode() {}

// AttemptRecord is an attempt and what it decided for its delivery.
type AttemptRecord struct {
	// Delivery is the delivery as it was claimed, lease token included.
	Delivery *Delivery
	// Webhook is the webhook as it was when the attempt started.
	Webhook *Webhook
	Attempt *DeliveryAttempt
	// Status and NextAttemptAt are the delivery's new state.
	Status        DeliveryStatus
	NextAttemptAt *time.Time
	// DisableReason, when set, disables the webhook at once (410 Gone).
	DisableReason string
	// DisableAfter disables a webhook that has failed every attempt for
	// this long, with at least MinFailuresToDisable consecutive failures.
	DisableAfter time.Duration
}

// Recorded is what storing a batch of attempts changed.
type Recorded struct {
	// Deliveries are the attempts' deliveries as they now are, in batch
	// order; nil for one deleted meanwhile, whose attempt is not kept.
	Deliveries []*Delivery
	// Webhooks are the attempts' webhooks as they now are, by ID; deleted
	// ones are missing.
	Webhooks map[string]*Webhook
	// Cancelled are the unfinished deliveries of the webhooks the batch
	// disabled, now CANCELLED.
	Cancelled []*Delivery
}

// Health thresholds.
const (
	// UnhealthyAfterFailures consecutive failed attempts make a webhook UNHEALTHY.
	UnhealthyAfterFailures = 3
	// MinFailuresToDisable consecutive failures are needed, besides time, to disable a webhook automatically.
	MinFailuresToDisable = 10
)
