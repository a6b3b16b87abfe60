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

// subscribedWebhooks returns the owner's enabled webhooks subscribed to
// eventType or to every type, locked against concurrent updates on MySQL
// so that a webhook disabled meanwhile gets no delivery.
func (s *Store) subscribedWebhooks(tx *gorm.DB, owner, eventType string) ([]*model.Webhook, error) {
	q := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthShare}).Select("webhooks.*").
		Joins("JOIN webhook_events ON webhook_events.webhook_id = webhooks.id").
		Where("webhook_events.event_type IN ? AND webhooks.enabled = ? AND webhook_events.owner = ?",
			[]string{eventType, model.WildcardEvent}, true, owner)
	// No ORDER BY: it would tempt MariaDB to walk every webhook in ID
	// order instead of seeking the index by event type.
	var hooks []*model.Webhook
	if err := q.Find(&hooks).Error; err != nil {
		return nil, err
	}
	// A webhook subscribed to the type and to "*" comes twice.
	slices.SortFunc(hooks, func(a, b *model.Webhook) int { return strings.Compare(a.ID, b.ID) })
	hooks = slices.CompactFunc(hooks, func(a, b *model.Webhook) bool { return a.ID == b.ID })
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
	err := tx.Select("webhooks.id", "webhooks.owner", "webhooks.filters").
		Joins("JOIN webhook_events ON webhook_events.webhook_id = webhooks.id").
		Where("webhook_events.event_type IN ? AND webhooks.enabled = ?", []string{eventType, model.WildcardEvent}, true).
		Find(&hooks).Error
	if err != nil {
		return nil, err
	}
	slices.SortFunc(hooks, func(a, b *model.Webhook) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(hooks, func(a, b *model.Webhook) bool { return a.ID == b.ID }), nil
}

// subscribedTo narrows q, a query of webhooks, to those subscribed to
// eventType or to every type.
func subscribedTo(q *gorm.DB, owner, eventType string) *gorm.DB {
	return q.Where("id IN (?)", q.Session(&gorm.Session{NewDB: true}).Model(&webhookEvent{}).Select("webhook_id").
		Where("owner = ? AND event_type IN ?", owner, []string{eventType, model.WildcardEvent}))
}
