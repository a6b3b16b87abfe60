package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookline/hookline/model"
)

// ClaimDeliveries leases up to n due deliveries (pending or retrying, next
// attempt at or before now), oldest due first, skipping the webhooks in
// exclude. Each claimed row's next attempt moves to now+lease and it gets a
// fresh lease token, so it is due again only if its worker dies. On MySQL,
// rows locked by another process's claim are skipped (FOR UPDATE SKIP
// LOCKED); on SQLite the write lock serialises claims.
func (s *Store) ClaimDeliveries(ctx context.Context, n int, lease time.Duration, exclude []string) ([]*model.Delivery, error) {
	var claimed []*model.Delivery
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		t := now()
		q := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked}).
			Where("next_attempt_at <= ?", t)
		if len(exclude) > 0 {
			q = q.Where("webhook_id NOT IN ?", exclude)
		}
		if err := q.Order("next_attempt_at").Limit(n).Find(&claimed).Error; err != nil {
			return err
		}
		if len(claimed) == 0 {
			return nil
		}
		ids := make([]string, len(claimed))
		until := t.Add(lease)
		token := randomHex(8)
		for i, d := range claimed {
			ids[i] = d.ID
			d.NextAttemptAt, d.LeaseToken = &until, token
		}
		return tx.Model(&model.Delivery{}).Where("id IN ?", ids).
			Updates(map[string]any{"next_attempt_at": until, "lease_token": token}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return claimed, nil
}

// transaction runs fn in a transaction; on MySQL at READ COMMITTED, where a
// claim's locks do not block concurrent inserts through gap locks.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var opts []*sql.TxOptions
	if s.dialect == DialectMySQL {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	return s.db.WithContext(ctx).Transaction(fn, opts...)
}

// ReleaseDeliveries makes claimed deliveries due again at once, for a worker
// that claimed more than it may send now.
func (s *Store) ReleaseDeliveries(ctx context.Context, deliveries []*model.Delivery) error {
	for _, d := range deliveries {
		t := now()
		err := s.db.WithContext(ctx).Model(&model.Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).
			Updates(map[string]any{"next_attempt_at": t, "lease_token": ""}).Error
		if err != nil {
			return fmt.Errorf("release delivery %s: %w", d.ID, err)
		}
	}
	return nil
}

// RecordAttempt stores an attempt of the leased delivery d and, in the same
// transaction, moves d to its new state (only if d's lease is still held:
// a redelivery or cancellation meanwhile wins) and updates the webhook's
// health. It returns the delivery and webhook as they now are; the webhook
// is nil if it was deleted.
func (s *Store) RecordAttempt(ctx context.Context, d *model.Delivery, o model.AttemptRecord) (*model.Delivery, *model.Webhook, error) {
	var (
		updated model.Delivery
		hook    *model.Webhook
	)
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		t := now()
		if err := tx.Create(o.Attempt).Error; err != nil {
			return err
		}
		res := tx.Model(&model.Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).Updates(map[string]any{
			"status":          o.Status,
			"attempt_count":   gorm.Expr("attempt_count + 1"),
			"next_attempt_at": o.NextAttemptAt,
			"last_attempt_id": o.Attempt.ID,
			"lease_token":     "",
			"updated_at":      t,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// The lease was lost; the attempt is on record all the same.
			if err := tx.Model(&model.Delivery{}).Where("id = ?", d.ID).Updates(map[string]any{
				"attempt_count": gorm.Expr("attempt_count + 1"), "last_attempt_id": o.Attempt.ID, "updated_at": t,
			}).Error; err != nil {
				return err
			}
		}
		if err := tx.Where("id = ?", d.ID).Take(&updated).Error; err != nil {
			return err
		}
		var err error
		if hook, err = updateHealth(tx, d.WebhookID, o, t); err != nil || hook == nil {
			return err
		}
		return s.openWebhooks(hook)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("record attempt of %s: %w", d.ID, err)
	}
	return &updated, hook, nil
}

// updateHealth counts the attempt against its webhook: health, consecutive
// failures, and automatic disabling.
func updateHealth(tx *gorm.DB, webhookID string, o model.AttemptRecord, t time.Time) (*model.Webhook, error) {
	var w model.Webhook
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("id = ?", webhookID).Take(&w).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	w.LastDeliveryAt = &t
	if o.Attempt.Outcome == model.AttemptOutcomeSuccess {
		w.ConsecutiveFailures, w.FailingSince, w.Health = 0, nil, model.HealthStatusHealthy
	} else {
		w.ConsecutiveFailures++
		if w.FailingSince == nil {
			w.FailingSince = &o.Attempt.StartedAt
		}
		if w.ConsecutiveFailures >= model.UnhealthyAfterFailures {
			w.Health = model.HealthStatusUnhealthy
		}
	}
	reason := o.DisableReason
	if reason == "" && w.Enabled && o.DisableAfter > 0 && w.ConsecutiveFailures >= model.MinFailuresToDisable && !w.FailingSince.After(t.Add(-o.DisableAfter)) {
		reason = fmt.Sprintf("disabled automatically: every attempt since %s failed (%d consecutive failures)",
			w.FailingSince.Format(time.RFC3339), w.ConsecutiveFailures)
	}
	if reason != "" && w.Enabled {
		w.Enabled, w.DisabledReason = false, &reason
		if err := cancelPending(tx, w.ID, t); err != nil {
			return nil, err
		}
	}
	w.UpdatedAt = t
	if err := tx.Select("last_delivery_at", "consecutive_failures", "failing_since", "health", "enabled", "disabled_reason", "updated_at").
		Save(&w).Error; err != nil {
		return nil, err
	}
	return &w, nil
}

// cancelPending cancels the webhook's deliveries that have not finished.
func cancelPending(tx *gorm.DB, webhookID string, t time.Time) error {
	return tx.Model(&model.Delivery{}).
		Where("webhook_id = ? AND status IN ?", webhookID, []model.DeliveryStatus{model.DeliveryStatusPending, model.DeliveryStatusRetrying}).
		Updates(map[string]any{"status": model.DeliveryStatusCancelled, "next_attempt_at": nil, "lease_token": "", "updated_at": t}).Error
}

// CancelDelivery marks a claimed delivery cancelled, for a delivery whose
// webhook is gone or disabled.
func (s *Store) CancelDelivery(ctx context.Context, d *model.Delivery) error {
	err := s.db.WithContext(ctx).Model(&model.Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).
		Updates(map[string]any{"status": model.DeliveryStatusCancelled, "next_attempt_at": nil, "lease_token": "", "updated_at": now()}).Error
	if err != nil {
		return fmt.Errorf("cancel delivery %s: %w", d.ID, err)
	}
	return nil
}

// Delivery returns the owner's delivery with that ID, or NOT_FOUND.
func (s *Store) Delivery(ctx context.Context, owner, id string) (*model.Delivery, error) {
	if !model.ValidID(id, model.PrefixDelivery) {
		return nil, model.Errorf(model.ErrNotFound, "delivery %s not found", id)
	}
	var d model.Delivery
	if err := s.db.WithContext(ctx).Where("owner = ? AND id = ?", owner, id).Take(&d).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, model.Errorf(model.ErrNotFound, "delivery %s not found", id)
		}
		return nil, fmt.Errorf("get delivery: %w", err)
	}
	return &d, nil
}

// Deliveries returns a page of the owner's deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, owner string, filter model.DeliveryFilter, args model.PageArgs) (*model.DeliveryConnection, error) {
	if filter.Status != nil && !filter.Status.IsValid() {
		return nil, model.InvalidField("filter.status", "is not a delivery status")
	}
	base := func() *gorm.DB {
		q := s.db.Model(&model.Delivery{}).Where("owner = ?", owner)
		if filter.WebhookID != nil {
			q = q.Where("webhook_id = ?", *filter.WebhookID)
		}
		if filter.EventID != nil {
			q = q.Where("event_id = ?", *filter.EventID)
		}
		if filter.Status != nil {
			q = q.Where("status = ?", *filter.Status)
		}
		return q
	}
	rows, info, err := page(ctx, base, args, func(d *model.Delivery) cursor { return cursor{d.CreatedAt, d.ID} })
	if err != nil {
		return nil, err
	}
	conn := &model.DeliveryConnection{Edges: make([]*model.DeliveryEdge, len(rows)), PageInfo: info, Count: counter(base)}
	for i, d := range rows {
		conn.Edges[i] = &model.DeliveryEdge{Cursor: cursor{d.CreatedAt, d.ID}.encode(), Node: d}
	}
	return conn, nil
}

// Attempts returns the owner's attempts of a delivery, oldest first.
func (s *Store) Attempts(ctx context.Context, owner, deliveryID string) ([]*model.DeliveryAttempt, error) {
	var atts []*model.DeliveryAttempt
	err := s.db.WithContext(ctx).Where("owner = ? AND delivery_id = ?", owner, deliveryID).Order("attempt_number, started_at").Find(&atts).Error
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	return atts, nil
}

// Attempt returns the owner's attempt with that ID, or NOT_FOUND.
func (s *Store) Attempt(ctx context.Context, owner, id string) (*model.DeliveryAttempt, error) {
	var a model.DeliveryAttempt
	if err := s.db.WithContext(ctx).Where("owner = ? AND id = ?", owner, id).Take(&a).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, model.Errorf(model.ErrNotFound, "attempt %s not found", id)
		}
		return nil, fmt.Errorf("get attempt: %w", err)
	}
	return &a, nil
}

// Redeliver queues one more attempt of the owner's delivery now, whatever
// its status. A delivery whose webhook is deleted or disabled cannot be
// redelivered.
func (s *Store) Redeliver(ctx context.Context, owner, id string) (*model.Delivery, error) {
	d, err := s.Delivery(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if err := s.requireEnabled(ctx, owner, d.WebhookID, "deliveryId"); err != nil {
		return nil, err
	}
	t := now()
	status := model.DeliveryStatusPending
	if d.AttemptCount > 0 {
		status = model.DeliveryStatusRetrying
	}
	err = s.db.WithContext(ctx).Model(&model.Delivery{}).Where("id = ?", d.ID).
		Updates(map[string]any{"status": status, "next_attempt_at": t, "lease_token": "", "updated_at": t}).Error
	if err != nil {
		return nil, fmt.Errorf("redeliver: %w", err)
	}
	return s.Delivery(ctx, owner, id)
}

// ReplayFailed re-queues every DEAD or RETRYING delivery of the owner's
// webhook created at or after since, and returns how many.
func (s *Store) ReplayFailed(ctx context.Context, owner, webhookID string, since time.Time) (int, error) {
	if err := s.requireEnabled(ctx, owner, webhookID, "webhookId"); err != nil {
		return 0, err
	}
	t := now()
	res := s.db.WithContext(ctx).Model(&model.Delivery{}).
		Where("owner = ? AND webhook_id = ? AND status IN ? AND created_at >= ?", owner, webhookID,
			[]model.DeliveryStatus{model.DeliveryStatusDead, model.DeliveryStatusRetrying}, since.UTC()).
		Updates(map[string]any{"status": model.DeliveryStatusRetrying, "next_attempt_at": t, "lease_token": "", "updated_at": t})
	if res.Error != nil {
		return 0, fmt.Errorf("replay deliveries: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

func (s *Store) requireEnabled(ctx context.Context, owner, webhookID, field string) error {
	w, err := s.Webhook(ctx, owner, webhookID)
	if model.ErrorCode(err) == model.ErrNotFound {
		return model.InvalidField(field, "belongs to a webhook that no longer exists")
	}
	if err != nil {
		return err
	}
	if !w.Enabled {
		return model.InvalidField(field, "belongs to a disabled webhook; enable it first")
	}
	return nil
}

// CreatePing stores a ping event and its delivery, leased to the caller (it
// is not queued: the caller sends it at once).
func (s *Store) CreatePing(ctx context.Context, ev *model.Event, d *model.Delivery) error {
	d.LeaseToken = randomHex(8)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(ev).Error; err != nil {
			return err
		}
		return tx.Create(d).Error
	})
	if err != nil {
		return fmt.Errorf("create ping: %w", err)
	}
	return nil
}

// WebhooksByID returns the webhooks with those IDs, of any owner, by ID.
func (s *Store) WebhooksByID(ctx context.Context, ids []string) (map[string]*model.Webhook, error) {
	var hooks []*model.Webhook
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&hooks).Error; err != nil {
		return nil, fmt.Errorf("get webhooks: %w", err)
	}
	if err := s.openWebhooks(hooks...); err != nil {
		return nil, err
	}
	out := make(map[string]*model.Webhook, len(hooks))
	for _, w := range hooks {
		out[w.ID] = w
	}
	return out, nil
}

// QueueStats returns how many deliveries wait for an attempt and when the
// oldest of them was created.
func (s *Store) QueueStats(ctx context.Context) (depth int, oldest *time.Time, err error) {
	var row struct {
		N      int64
		Oldest *time.Time
	}
	err = s.db.WithContext(ctx).Model(&model.Delivery{}).Select("COUNT(*) AS n, MIN(created_at) AS oldest").
		Where("next_attempt_at IS NOT NULL").Scan(&row).Error
	if err != nil {
		return 0, nil, fmt.Errorf("queue stats: %w", err)
	}
	return int(row.N), row.Oldest, nil
}
