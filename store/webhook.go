package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookline/hookline/model"
)

// CreateWebhook stores a new webhook and tells of it; w.ID must be set.
// Its credential headers are made secret (model.CredentialHeader).
func (s *Store) CreateWebhook(ctx context.Context, w *model.Webhook) error {
	w.MarkSecretHeaders()
	w.CreatedAt = now()
	w.UpdatedAt = w.CreatedAt
	sealed := s.sealWebhook(w)
	err := retryDeadlocks(ctx, func() error {
		return s.transaction(ctx, func(tx *gorm.DB) error {
			if err := addOwner(tx, w.Owner); err != nil {
				return err
			}
			if err := tx.Create(sealed).Error; err != nil {
				return err
			}
			return subscribe(tx, w)
		})
	})
	if err != nil {
		return translate("create webhook", err)
	}
	s.notify(ctx, model.WebhookChanged(w))
	return nil
}

// Webhook returns the owner's webhook with that ID, or NOT_FOUND.
func (s *Store) Webhook(ctx context.Context, owner, id string) (*model.Webhook, error) {
	w, err := getOwned[model.Webhook](ctx, s.db, owner, id, model.PrefixWebhook, "webhook")
	if err != nil {
		return nil, err
	}
	if err := s.openWebhooks(w); err != nil {
		return nil, err
	}
	return w, nil
}

// UpdateWebhook loads the owner's webhook, applies change to it and saves it,
// in one transaction that locks the row, so concurrent updates do not
// overwrite each other. If change fails, nothing is written. A change that
// disables the webhook cancels its unfinished deliveries. It tells of the
// webhook and of the deliveries it cancelled.
func (s *Store) UpdateWebhook(ctx context.Context, owner, id string, change func(*model.Webhook) error) (*model.Webhook, error) {
	if !model.ValidID(id, model.PrefixWebhook) {
		return nil, model.Errorf(model.CodeNotFound, "webhook %s not found", id)
	}
	var w model.Webhook
	var cancelled []*model.Delivery
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("owner = ? AND id = ?", owner, id).Take(&w).Error
		if err != nil {
			return err
		}
		if err := s.openWebhooks(&w); err != nil {
			return err
		}
		wasEnabled, events := w.Enabled, slices.Clone(w.Events)
		if err := change(&w); err != nil {
			return err
		}
		w.MarkSecretHeaders()
		if !slices.Equal(events, w.Events) {
			if err := subscribe(tx, &w); err != nil {
				return err
			}
		}
		w.UpdatedAt = now()
		switch {
		case wasEnabled && !w.Enabled:
			if cancelled, err = cancelPending(tx, w.ID, w.UpdatedAt); err != nil {
				return err
			}
		case !wasEnabled && w.Enabled:
			// A fresh start: the failures that disabled it are history.
			w.DisabledReason, w.ConsecutiveFailures, w.FailingSince = nil, 0, nil
		}
		return tx.Save(s.sealWebhook(&w)).Error
	})
	if err != nil {
		return nil, webhookErr(id, translate("update webhook", err))
	}
	s.notify(ctx, model.WebhookChanged(&w))
	s.notifyDeliveries(ctx, cancelled)
	return &w, nil
}

// DeleteWebhook deletes the owner's webhook and cancels its unfinished
// deliveries, telling of each, or returns NOT_FOUND. Its deliveries and
// attempts stay on record.
func (s *Store) DeleteWebhook(ctx context.Context, owner, id string) error {
	var cancelled []*model.Delivery
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Where("owner = ? AND id = ?", owner, id).Delete(&model.Webhook{})
		if res.Error != nil {
			return fmt.Errorf("delete webhook: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return model.Errorf(model.CodeNotFound, "webhook %s not found", id)
		}
		if err := tx.Where("webhook_id = ?", id).Delete(&webhookEvent{}).Error; err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		var err error
		if cancelled, err = cancelPending(tx, id, now()); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.notifyDeliveries(ctx, cancelled)
	return nil
}

// Webhooks returns a page of the owner's webhooks, newest first.
func (s *Store) Webhooks(ctx context.Context, owner string, filter *model.WebhookFilter, args model.PageArgs) (*model.WebhookConnection, error) {
	if filter == nil {
		filter = &model.WebhookFilter{}
	}
	if filter.Event != nil {
		if err := model.ValidateEventType("filter.event", *filter.Event); err != nil {
			return nil, err
		}
	}
	base := func() *gorm.DB {
		q := s.keysetIndex(s.db.Model(&model.Webhook{}), "webhooks", "idx_webhooks_owner_created").Where("owner = ?", owner)
		if filter.Event != nil {
			q = subscribedTo(q, owner, *filter.Event)
		}
		if filter.Enabled != nil {
			q = q.Where("enabled = ?", *filter.Enabled)
		}
		if filter.Health != nil {
			q = q.Where("health = ?", *filter.Health)
		}
		if filter.URLContains != nil {
			// Case-insensitive on both databases, whatever the collation.
			q = q.Where("LOWER(url) LIKE ? ESCAPE '!'", "%"+likeEscape(strings.ToLower(*filter.URLContains))+"%")
		}
		return q
	}
	rows, info, err := page(ctx, base, args, func(w *model.Webhook) cursor { return cursor{w.CreatedAt, w.ID} })
	if err != nil {
		return nil, err
	}
	if err := s.openWebhooks(rows...); err != nil {
		return nil, err
	}
	conn := &model.WebhookConnection{
		Edges:    make([]*model.WebhookEdge, len(rows)),
		PageInfo: info,
		Count:    counter(base),
	}
	for i, w := range rows {
		conn.Edges[i] = &model.WebhookEdge{Cursor: cursor{w.CreatedAt, w.ID}.encode(), Node: w}
	}
	return conn, nil
}

func counter(base func() *gorm.DB) model.Counter {
	return func(ctx context.Context) (int, error) {
		var n int64
		if err := base().WithContext(ctx).Count(&n).Error; err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
		return int(n), nil
	}
}

// webhookErr names the webhook in a NOT_FOUND error.
func webhookErr(id string, err error) error {
	if model.ErrorCode(err) == model.CodeNotFound {
		return model.Errorf(model.CodeNotFound, "webhook %s not found", id)
	}
	return err
}
