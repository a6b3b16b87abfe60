package model

import "time"

// Event is something that happened, published by an owner.
type Event struct {
	ID             string  `gorm:"primaryKey;size:40;index:idx_events_owner_created,priority:3"`
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
	CreatedAt time.Time `gorm:"not null;index:idx_events_owner_created,priority:2"`
}

func (Event) IsNode() {}

// IdempotencyWindow is how long an idempotency key returns its first event.
const IdempotencyWindow = 24 * time.Hour
