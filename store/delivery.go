package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	err := retryDeadlocks(ctx, func() error {
		return s.transaction(ctx, func(tx *gorm.DB) error {
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
			token := model.NewLeaseToken()
			for i, d := range claimed {
				ids[i] = d.ID
				d.NextAttemptAt, d.LeaseToken = &until, token
			}
			return tx.Model(&model.Delivery{}).Where("id IN ?", ids).
				Updates(map[string]any{"next_attempt_at": until, "lease_token": token}).Error
		})
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return claimed, nil
}

// transaction runs fn in a transaction; on MySQL at READ COMMITTED, which
// every connection is set to (see parseMySQLDSN). On SQLite the process's
// transactions take turns on a Go lock: SQLite has one writer, and a
// transaction that finds the database locked sleeps in SQLite's busy
// handler, for milliseconds or more, instead of starting when the lock is
// free.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.writing(ctx, func() error { return s.db.WithContext(ctx).Transaction(fn) })
}

// writing runs fn, which writes, in the process's turn to write on SQLite
// (see transaction).
func (s *Store) writing(ctx context.Context, fn func() error) error {
	if s.dialect == DialectSQLite {
		select {
		case s.writer <- struct{}{}:
			defer func() { <-s.writer }()
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return fn()
}

// ReleaseDeliveries makes claimed deliveries due again at once, for a
// process that claimed more than it may send soon; a redelivery asked for
// meanwhile is that attempt. Deliveries whose lease has changed hands
// meanwhile are left alone.
func (s *Store) ReleaseDeliveries(ctx context.Context, deliveries []*model.Delivery) error {
	byToken := map[string][]string{}
	for _, d := range deliveries {
		byToken[d.LeaseToken] = append(byToken[d.LeaseToken], d.ID)
	}
	t := now()
	for token, ids := range byToken {
		err := retryDeadlocks(ctx, func() error {
			return s.writing(ctx, func() error {
				return s.db.WithContext(ctx).Model(&model.Delivery{}).Where("id IN ? AND lease_token = ?", ids, token).
					Updates(map[string]any{"next_attempt_at": t, "lease_token": "", "redeliver_requested": false}).Error
			})
		})
		if err != nil {
			return fmt.Errorf("release deliveries: %w", err)
		}
	}
	return nil
}

// RecordAttempts stores a batch of attempts in one transaction (group
// commit: one write to the log for many attempts). Each attempt takes the
// next number of its delivery, which its AttemptNumber is set to: numbers
// never repeat, even for an attempt whose lease ran out meanwhile. For each,
// the delivery moves to its new state if its lease is still held (a
// cancellation meanwhile wins); a delivery redelivered while the attempt
// was in flight is RETRYING and due at once instead, and the record's
// Status and NextAttemptAt are set to say so. Its webhook's health is
// updated in attempt order; a webhook it disables has its unfinished
// deliveries cancelled. It tells of each attempt and its delivery, of each
// webhook whose health or enablement changed, and of the cancelled
// deliveries.
func (s *Store) RecordAttempts(ctx context.Context, batch []model.AttemptRecord) (*model.Recorded, error) {
	out := make([]*model.Delivery, len(batch))
	var hooks map[string]*model.Webhook
	var changed []*model.Webhook
	var cancelled []*model.Delivery
	var requeued []int
	var at time.Time
	err := retryDeadlocks(ctx, func() error {
		return s.transaction(ctx, func(tx *gorm.DB) error {
			at = now()
			var err error
			if requeued, err = recordDeliveries(tx, s.dialect == DialectMySQL, batch, out, at); err != nil {
				return err
			}
			hooks, changed, cancelled, err = updateHealth(tx, batch, at)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("record %d attempts: %w", len(batch), err)
	}
	for _, i := range requeued {
		batch[i].Status, batch[i].NextAttemptAt = out[i].Status, out[i].NextAttemptAt
	}
	for _, w := range hooks {
		if err := s.openWebhooks(w); err != nil {
			return nil, err
		}
	}
	for i, rec := range batch {
		if out[i] == nil {
			continue // deleted meanwhile, and the attempt with it
		}
		s.notify(ctx, model.AttemptRecorded(rec.Attempt))
		s.notifyDeliveries(ctx, out[i:i+1])
	}
	for _, w := range changed {
		s.notify(ctx, model.WebhookChanged(w))
	}
	s.notifyDeliveries(ctx, cancelled)
	return &model.Recorded{Deliveries: out, Webhooks: hooks, Cancelled: cancelled}, nil
}

// recordDeliveries numbers and stores the batch's attempts, and moves each
// attempt's delivery to its new state when the batch still holds its
// lease, or only counts the attempt against it otherwise; out receives the
// deliveries as they now are. It returns the records whose delivery was
// redelivered while the attempt was in flight: those deliveries are due
// again at t. With bulk, the held ones move in one statement: one round
// trip per batch instead of one per attempt, which a server database needs;
// embedded SQLite has no round trips, and its CASE costs more than the
// statements it saves.
func recordDeliveries(tx *gorm.DB, bulk bool, batch []model.AttemptRecord, out []*model.Delivery, t time.Time) (requeued []int, err error) {
	current, err := lockDeliveries(tx, batch)
	if err != nil {
		return nil, err
	}
	var held, lost []int
	moves := make([]move, len(batch))
	attempts := make([]*model.DeliveryAttempt, len(batch))
	for i, rec := range batch {
		attempts[i] = rec.Attempt
		d := current[rec.Delivery.ID]
		if d == nil { // deleted meanwhile: the loop over lost below drops the attempt
			rec.Attempt.AttemptNumber = rec.Delivery.AttemptCount + 1
			lost = append(lost, i)
			continue
		}
		d.AttemptCount++
		rec.Attempt.AttemptNumber = d.AttemptCount
		if d.LeaseToken == "" || d.LeaseToken != rec.Delivery.LeaseToken {
			lost = append(lost, i)
			continue
		}
		held = append(held, i)
		moves[i] = move{status: rec.Status, next: rec.NextAttemptAt, count: d.AttemptCount}
		if d.RedeliverRequested {
			moves[i].status, moves[i].next = model.DeliveryStatusRetrying, &t
			requeued = append(requeued, i)
		}
		d.LeaseToken, d.RedeliverRequested = "", false // a delivery moves once per batch
	}
	if err := tx.CreateInBatches(attempts, 200).Error; err != nil {
		return nil, err
	}
	if bulk {
		err = moveHeld(tx, batch, moves, held, t)
	} else {
		for _, i := range held {
			if err = tx.Model(&model.Delivery{}).Where("id = ?", batch[i].Delivery.ID).
				Updates(movedTo(moves[i].status, moves[i].next, batch[i].Attempt.ID, t)).Error; err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	for _, i := range held {
		rec, m := batch[i], moves[i]
		u := *rec.Delivery
		u.Status, u.AttemptCount, u.NextAttemptAt, u.LastAttemptID, u.LeaseToken, u.RedeliverRequested, u.UpdatedAt =
			m.status, m.count, m.next, &rec.Attempt.ID, "", false, t
		out[i] = &u
	}
	// The lease was lost (a cancellation or an expired lease meanwhile):
	// the attempt is on record all the same. Rare, so one by one.
	for _, i := range lost {
		rec := batch[i]
		var u model.Delivery
		res := tx.Model(&model.Delivery{}).Where("id = ?", rec.Delivery.ID).Updates(map[string]any{
			"attempt_count": gorm.Expr("attempt_count + 1"), "last_attempt_id": rec.Attempt.ID, "updated_at": t,
		})
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			// Deleted meanwhile (retention, or its owner's removal): the
			// attempt goes with it, and out[i] stays nil.
			if err := tx.Where("id = ?", rec.Attempt.ID).Delete(&model.DeliveryAttempt{}).Error; err != nil {
				return nil, err
			}
			continue
		}
		if err := tx.Where("id = ?", rec.Delivery.ID).Take(&u).Error; err != nil {
			return nil, err
		}
		out[i] = &u
	}
	return requeued, nil
}

// move is the new state of a delivery whose lease a record held.
type move struct {
	status model.DeliveryStatus
	next   *time.Time
	count  int // attempts, this one included
}

// lockDeliveries locks the batch's deliveries, in ID order so that
// concurrent batches cannot deadlock, and returns by ID what recording
// needs of them: lease, attempt count and redelivery mark.
func lockDeliveries(tx *gorm.DB, batch []model.AttemptRecord) (map[string]*model.Delivery, error) {
	ids := make([]string, len(batch))
	for i, rec := range batch {
		ids[i] = rec.Delivery.ID
	}
	var rows []*model.Delivery
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Select("id", "lease_token", "attempt_count", "redeliver_requested").
		Where("id IN ?", ids).Order("id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	current := make(map[string]*model.Delivery, len(rows))
	for _, d := range rows {
		current[d.ID] = d
	}
	return current, nil
}

// moveHeld records the held attempts on their deliveries in one UPDATE,
// with a CASE per column for the values that differ from row to row.
func moveHeld(tx *gorm.DB, batch []model.AttemptRecord, moves []move, held []int, t time.Time) error {
	if len(held) == 0 {
		return nil
	}
	ids := make([]string, len(held))
	status, next, last := caseByID(len(held)), caseByID(len(held)), caseByID(len(held))
	for k, i := range held {
		rec := batch[i]
		ids[k] = rec.Delivery.ID
		status.add(rec.Delivery.ID, moves[i].status)
		next.add(rec.Delivery.ID, moves[i].next)
		last.add(rec.Delivery.ID, rec.Attempt.ID)
	}
	return tx.Model(&model.Delivery{}).Where("id IN ?", ids).
		Updates(movedTo(status.expr(), next.expr(), last.expr(), t)).Error
}

// movedTo is the update that records an attempt on a delivery whose lease
// it held: new status, next attempt and last attempt, lease given back,
// redelivery mark cleared.
func movedTo(status, next, last any, t time.Time) map[string]any {
	return map[string]any{
		"status":              status,
		"attempt_count":       gorm.Expr("attempt_count + 1"),
		"next_attempt_at":     next,
		"last_attempt_id":     last,
		"lease_token":         "",
		"redeliver_requested": false,
		"updated_at":          t,
	}
}

// caseExpr builds CASE id WHEN ? THEN ? … END: a value per row for an
// UPDATE of many rows.
type caseExpr struct {
	sql  strings.Builder
	args []any
}

func caseByID(n int) *caseExpr {
	c := &caseExpr{args: make([]any, 0, 2*n)}
	c.sql.WriteString("CASE id")
	return c
}

func (c *caseExpr) add(id string, v any) {
	c.sql.WriteString(" WHEN ? THEN ?")
	c.args = append(c.args, id, v)
}

func (c *caseExpr) expr() clause.Expr { return gorm.Expr(c.sql.String()+" END", c.args...) }

// updateHealth counts the attempts against their webhooks, in order:
// health, consecutive failures, automatic disabling. It returns the
// webhooks by ID, those whose health or enablement changed, and the
// deliveries it cancelled. Webhooks are locked in ID order so that
// concurrent batches cannot deadlock.
func updateHealth(tx *gorm.DB, batch []model.AttemptRecord, t time.Time) (hooks map[string]*model.Webhook, changed []*model.Webhook, cancelled []*model.Delivery, err error) {
	ids := make([]string, 0, len(batch))
	for _, rec := range batch {
		if !slices.Contains(ids, rec.Delivery.WebhookID) {
			ids = append(ids, rec.Delivery.WebhookID)
		}
	}
	slices.Sort(ids)
	var rows []*model.Webhook
	err = tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("id IN ?", ids).Order("id").Find(&rows).Error
	if err != nil {
		return nil, nil, nil, err
	}
	type state struct {
		health  model.HealthStatus
		enabled bool
	}
	before := make(map[string]state, len(rows))
	hooks = make(map[string]*model.Webhook, len(rows))
	for _, w := range rows {
		hooks[w.ID] = w
		before[w.ID] = state{w.Health, w.Enabled}
	}
	var disabled []string
	for _, rec := range batch {
		w := hooks[rec.Delivery.WebhookID]
		if w == nil {
			continue // deleted
		}
		if applyAttempt(w, rec, t) {
			disabled = append(disabled, w.ID)
		}
	}
	for _, w := range rows {
		w.UpdatedAt = t
		if err := tx.Select("last_delivery_at", "consecutive_failures", "failing_since", "health", "enabled", "disabled_reason", "updated_at").
			Save(w).Error; err != nil {
			return nil, nil, nil, err
		}
		if before[w.ID] != (state{w.Health, w.Enabled}) {
			changed = append(changed, w)
		}
	}
	for _, id := range disabled {
		ds, err := cancelPending(tx, id, t)
		if err != nil {
			return nil, nil, nil, err
		}
		cancelled = append(cancelled, ds...)
	}
	return hooks, changed, cancelled, nil
}

// applyAttempt counts one attempt against w and reports whether it
// disabled w.
func applyAttempt(w *model.Webhook, rec model.AttemptRecord, t time.Time) bool {
	w.LastDeliveryAt = &t
	if rec.Attempt.Outcome == model.AttemptOutcomeSuccess {
		w.ConsecutiveFailures, w.FailingSince, w.Health = 0, nil, model.HealthStatusHealthy
	} else {
		w.ConsecutiveFailures++
		if w.FailingSince == nil {
			w.FailingSince = &rec.Attempt.StartedAt
		}
		if w.ConsecutiveFailures >= model.UnhealthyAfterFailures {
			w.Health = model.HealthStatusUnhealthy
		}
	}
	reason := rec.DisableReason
	if reason == "" && w.Enabled && rec.DisableAfter > 0 && w.ConsecutiveFailures >= model.MinFailuresToDisable && !w.FailingSince.After(t.Add(-rec.DisableAfter)) {
		reason = fmt.Sprintf("disabled automatically: every attempt since %s failed (%d consecutive failures)",
			w.FailingSince.Format(time.RFC3339), w.ConsecutiveFailures)
	}
	if reason == "" || !w.Enabled {
		return false
	}
	w.Enabled, w.DisabledReason = false, &reason
	return true
}

// cancelPending cancels the webhook's deliveries that have not finished and
// returns them as they now are.
func cancelPending(tx *gorm.DB, webhookID string, t time.Time) ([]*model.Delivery, error) {
	var ds []*model.Delivery
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("webhook_id = ? AND status IN ?", webhookID, []model.DeliveryStatus{model.DeliveryStatusPending, model.DeliveryStatusRetrying}).
		Order("id").Find(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("cancel pending deliveries: %w", err)
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
		d.Status, d.NextAttemptAt, d.LeaseToken, d.RedeliverRequested, d.UpdatedAt = model.DeliveryStatusCancelled, nil, "", false, t
	}
	// In chunks: a webhook may have many thousands waiting.
	for chunk := range slices.Chunk(ids, 500) {
		err := tx.Model(&model.Delivery{}).Where("id IN ?", chunk).Updates(cancelledAt(t)).Error
		if err != nil {
			return nil, fmt.Errorf("cancel pending deliveries: %w", err)
		}
	}
	return ds, nil
}

// cancelledAt is the update that cancels a delivery at t: no more attempts,
// no lease, no redelivery.
func cancelledAt(t time.Time) map[string]any {
	return map[string]any{"status": model.DeliveryStatusCancelled, "next_attempt_at": nil, "lease_token": "", "redeliver_requested": false, "updated_at": t}
}

// CancelDelivery marks a claimed delivery cancelled, for a delivery whose
// webhook is gone or disabled, and tells of it. A delivery whose lease
// changed hands meanwhile is left alone.
func (s *Store) CancelDelivery(ctx context.Context, d *model.Delivery) error {
	t := now()
	var held bool
	err := s.writing(ctx, func() error {
		res := s.db.WithContext(ctx).Model(&model.Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).
			Updates(cancelledAt(t))
		held = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("cancel delivery %s: %w", d.ID, err)
	}
	if held {
		cancelled := *d
		cancelled.Status, cancelled.NextAttemptAt, cancelled.RedeliverRequested, cancelled.UpdatedAt = model.DeliveryStatusCancelled, nil, false, t
		s.notifyDeliveries(ctx, []*model.Delivery{&cancelled})
	}
	return nil
}

// Delivery returns the owner's delivery with that ID, or NOT_FOUND.
func (s *Store) Delivery(ctx context.Context, owner, id string) (*model.Delivery, error) {
	return getOwned[model.Delivery](ctx, s.db, owner, id, model.PrefixDelivery, "delivery")
}

// Deliveries returns a page of the owner's deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, owner string, filter model.DeliveryFilter, args model.PageArgs) (*model.DeliveryConnection, error) {
	if filter.Status != nil && !filter.Status.IsValid() {
		return nil, model.InvalidField("status", "is not a delivery status")
	}
	base := func() *gorm.DB {
		index := "idx_deliveries_owner_created"
		switch {
		case filter.WebhookID != nil:
			index = "idx_deliveries_webhook_created"
		case filter.EventID != nil:
			index = "idx_deliveries_event_created"
		}
		q := s.keysetIndex(s.db.Model(&model.Delivery{}), "deliveries", index).Where("owner = ?", owner)
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

// Attempts returns the owner's last attempts of a delivery, oldest first.
func (s *Store) Attempts(ctx context.Context, owner, deliveryID string, last int) ([]*model.DeliveryAttempt, error) {
	var atts []*model.DeliveryAttempt
	err := s.db.WithContext(ctx).Where("owner = ? AND delivery_id = ?", owner, deliveryID).
		Order("attempt_number DESC, started_at DESC").Limit(last).Find(&atts).Error
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	slices.Reverse(atts)
	return atts, nil
}

// Attempt returns the owner's attempt with that ID, or NOT_FOUND.
func (s *Store) Attempt(ctx context.Context, owner, id string) (*model.DeliveryAttempt, error) {
	return getOwned[model.DeliveryAttempt](ctx, s.db, owner, id, model.PrefixAttempt, "attempt")
}

// Redeliver queues one more attempt of the owner's delivery, whatever its
// status, and tells of it. A delivery not in flight is due at once. One in
// flight (a worker holds its lease) keeps its worker, so that it is never
// sent twice at once: it is marked, and is due again as soon as the attempt
// under way is recorded; redeliveries while it is in flight make one
// attempt more between them. A delivery whose webhook is deleted or
// disabled cannot be redelivered (BAD_USER_INPUT).
func (s *Store) Redeliver(ctx context.Context, owner, id string) (*model.Delivery, error) {
	d, err := s.Delivery(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if err := s.requireEnabled(ctx, owner, d.WebhookID); err != nil {
		return nil, err
	}
	err = retryDeadlocks(ctx, func() error {
		return s.transaction(ctx, func(tx *gorm.DB) error {
			if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("id = ?", id).Take(d).Error; err != nil {
				return err
			}
			status := model.DeliveryStatusPending
			if d.AttemptCount > 0 {
				status = model.DeliveryStatusRetrying
			}
			return tx.Model(&model.Delivery{}).Where("id = ?", id).Updates(requeue(d, status, now())).Error
		})
	})
	if err != nil {
		return nil, fmt.Errorf("redeliver: %w", err)
	}
	s.notifyDeliveries(ctx, []*model.Delivery{d})
	return d, nil
}

// requeue asks for one more attempt of d at t, changes d to match and
// returns the update that does it. While a worker holds d's lease
// (inFlight), d is only marked, and the worker's record makes it due;
// otherwise d is due at t in status, without a lease.
func requeue(d *model.Delivery, status model.DeliveryStatus, t time.Time) map[string]any {
	d.UpdatedAt = t
	if inFlight(d, t) {
		d.RedeliverRequested = true
		return map[string]any{"redeliver_requested": true, "updated_at": t}
	}
	d.Status, d.NextAttemptAt, d.LeaseToken, d.RedeliverRequested = status, &t, "", false
	return map[string]any{"status": status, "next_attempt_at": t, "lease_token": "", "redeliver_requested": false, "updated_at": t}
}

// inFlight reports whether a worker holds d's lease at t, so that its
// attempt may be under way. A lease that has run out is its worker's no
// more: the delivery is due to anyone. A ping's lease has no end: the
// process that created it sends it at once (see CreatePing).
func inFlight(d *model.Delivery, t time.Time) bool {
	return d.LeaseToken != "" && (d.NextAttemptAt == nil || d.NextAttemptAt.After(t))
}

// ReplayFailed re-queues every DEAD or RETRYING delivery of the owner's
// webhook created at or after since, as Redeliver does (a RETRYING one in
// flight is tried again once its attempt is recorded), tells of each, and
// returns how many. A deleted or disabled webhook cannot be replayed
// (BAD_USER_INPUT).
func (s *Store) ReplayFailed(ctx context.Context, owner, webhookID string, since time.Time) (int, error) {
	if err := s.requireEnabled(ctx, owner, webhookID); err != nil {
		return 0, err
	}
	failed := []model.DeliveryStatus{model.DeliveryStatusDead, model.DeliveryStatusRetrying}
	var replayed []*model.Delivery
	err := retryDeadlocks(ctx, func() error {
		return s.transaction(ctx, func(tx *gorm.DB) error {
			t := now()
			replayed = nil
			err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
				Where("owner = ? AND webhook_id = ? AND status IN ? AND created_at >= ?", owner, webhookID, failed, since.UTC()).
				Find(&replayed).Error
			if err != nil {
				return err
			}
			// One update for those due now and one for those in flight,
			// each the same for all its rows.
			var due, marked []string
			var dueSet, markedSet map[string]any
			for _, d := range replayed {
				if inFlight(d, t) {
					marked, markedSet = append(marked, d.ID), requeue(d, model.DeliveryStatusRetrying, t)
				} else {
					due, dueSet = append(due, d.ID), requeue(d, model.DeliveryStatusRetrying, t)
				}
			}
			for _, group := range []struct {
				ids []string
				set map[string]any
			}{{due, dueSet}, {marked, markedSet}} {
				for chunk := range slices.Chunk(group.ids, 500) {
					if err := tx.Model(&model.Delivery{}).Where("id IN ?", chunk).Updates(group.set).Error; err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("replay deliveries: %w", err)
	}
	s.notifyDeliveries(ctx, replayed)
	return len(replayed), nil
}

// requireEnabled refuses work on a deleted or disabled webhook.
func (s *Store) requireEnabled(ctx context.Context, owner, webhookID string) error {
	w, err := s.Webhook(ctx, owner, webhookID)
	if model.ErrorCode(err) == model.CodeNotFound {
		return model.Errorf(model.CodeBadUserInput, "belongs to a webhook that no longer exists")
	}
	if err != nil {
		return err
	}
	if !w.Enabled {
		return model.Errorf(model.CodeBadUserInput, "belongs to a disabled webhook; enable it first")
	}
	return nil
}

// CreatePing stores a ping event and its delivery, leased to the caller (it
// is not queued: the caller sends it at once), and tells of the delivery.
func (s *Store) CreatePing(ctx context.Context, ev *model.Event, d *model.Delivery) error {
	d.LeaseToken = model.NewLeaseToken()
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(ev).Error; err != nil {
			return err
		}
		return tx.Create(d).Error
	})
	if err != nil {
		return fmt.Errorf("create ping: %w", err)
	}
	s.notifyDeliveries(ctx, []*model.Delivery{d})
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
	pending := func() *gorm.DB {
		return s.db.WithContext(ctx).Model(&model.Delivery{}).Where("next_attempt_at IS NOT NULL")
	}
	var n int64
	if err := pending().Count(&n).Error; err != nil {
		return 0, nil, fmt.Errorf("queue stats: count: %w", err)
	}
	// Read the oldest row's column rather than MIN(created_at): SQLite
	// returns an aggregate of a time column as text.
	var first []model.Delivery
	if err := pending().Select("created_at").Order("created_at").Limit(1).Find(&first).Error; err != nil {
		return 0, nil, fmt.Errorf("queue stats: oldest: %w", err)
	}
	if len(first) > 0 {
		oldest = &first[0].CreatedAt
	}
	return int(n), oldest, nil
}
