package store

import (
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookline/hookline/model"
)

// webhookEvent is one event type a webhook subscribes to ("*" for every
// type): the index publishing and broadcasting match events through,
// instead of searching every webhook's list.
type webhookEvent struct {
	EventType string `gorm:"primaryKey;size:128"`
	Owner     string `gorm:"primaryKey;size:128"`
	WebhookID string `gorm:"primaryKey;size:40;index"`
}

func (webhookEvent) TableName() string { return "webhook_events" }

// subscribe makes w's event types its rows of the index, in tx.
func subscribe(tx *gorm.DB, w *model.Webhook) error {
	if err := tx.Where("webhook_id = ?", w.ID).Delete(&webhookEvent{}).Error; err != nil {
		return fmt.Errorf("unsubscribe webhook: %w", err)
	}
	rows := make([]webhookEvent, 0, len(w.Events))
	for _, e := range w.Events {
		rows = append(rows, webhookEvent{EventType: e, Owner: w.Owner, WebhookID: w.ID})
	}
	if len(rows) == 0 {
		return nil
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return fmt.Errorf("subscribe webhook: %w", err)
	}
	return nil
}

// fillSubscriptions indexes the webhooks stored before the index existed;
// once it holds any row, there is nothing to do.
func fillSubscriptions(tx *gorm.DB) error {
	var n int64
	if err := tx.Model(&webhookEvent{}).Limit(1).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	var hooks []*model.Webhook
	q := tx.Session(&gorm.Session{NewDB: true}).Model(&model.Webhook{}).Select("id", "owner", "events")
	return q.FindInBatches(&hooks, 500, func(tx *gorm.DB, _ int) error {
		for _, w := range hooks {
			if err := subscribe(tx, w); err != nil {
				return err
			}
		}
		return nil
	}).Error
}

// subscribers is the query of the enabled webhooks subscribed to eventType
// or to every type, through the event-type index. It has no ORDER BY: that
// would tempt MariaDB to walk every webhook in ID order instead of seeking
// the index by event type. A webhook subscribed to the type and to "*"
// comes twice; uniqueWebhooks drops the second.
func subscribers(tx *gorm.DB, eventType string) *gorm.DB {
	return tx.Joins("JOIN webhook_events ON webhook_events.webhook_id = webhooks.id").
		Where("webhook_events.event_type IN ? AND webhooks.enabled = ?", []string{eventType, model.WildcardEvent}, true)
}

// uniqueWebhooks sorts hooks by ID and drops repeated ones.
func uniqueWebhooks(hooks []*model.Webhook) []*model.Webhook {
	slices.SortFunc(hooks, func(a, b *model.Webhook) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(hooks, func(a, b *model.Webhook) bool { return a.ID == b.ID })
}

// subscribedWebhooks returns the owner's enabled webhooks subscribed to
// eventType or to every type, locked against concurrent updates on MySQL
// so that a webhook disabled meanwhile gets no delivery.
func (s *Store) subscribedWebhooks(tx *gorm.DB, owner, eventType string) ([]*model.Webhook, error) {
	var hooks []*model.Webhook
	err := subscribers(tx.Clauses(clause.Locking{Strength: clause.LockingStrengthShare}).Select("webhooks.*"), eventType).
		Where("webhook_events.owner = ?", owner).Find(&hooks).Error
	if err != nil {
		return nil, err
	}
	hooks = uniqueWebhooks(hooks)
	if err := s.openWebhooks(hooks...); err != nil {
		return nil, err
	}
	return hooks, nil
}

// broadcastTargets returns every owner's enabled webhooks subscribed to
// eventType or to every type, with only what a broadcast needs: ID, owner
// and filters. It takes no locks: a webhook disabled meanwhile may get a
// delivery, which the engine cancels instead of sending.
func broadcastTargets(tx *gorm.DB, eventType string) ([]*model.Webhook, error) {
	var hooks []*model.Webhook
	if err := subscribers(tx.Select("webhooks.id", "webhooks.owner", "webhooks.filters"), eventType).Find(&hooks).Error; err != nil {
		return nil, err
	}
	return uniqueWebhooks(hooks), nil
}

// subscribedTo narrows q, a query of webhooks, to those subscribed to
// eventType or to every type.
func subscribedTo(q *gorm.DB, owner, eventType string) *gorm.DB {
	return q.Where("id IN (?)", q.Session(&gorm.Session{NewDB: true}).Model(&webhookEvent{}).Select("webhook_id").
		Where("owner = ? AND event_type IN ?", owner, []string{eventType, model.WildcardEvent}))
}
