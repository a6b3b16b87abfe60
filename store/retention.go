package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookline/hookline/model"
)

// finishedStatuses are the statuses of deliveries that are not attempted
// again unless someone redelivers them.
var finishedStatuses = []model.DeliveryStatus{model.DeliveryStatusSucceeded, model.DeliveryStatusDead, model.DeliveryStatusCancelled}

// noDeliveries is the condition on events that no delivery refers to.
const noDeliveries = "NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id)"

// skipLocked is a locking read that passes over rows another transaction
// holds: concurrent sweepers take different rows. SQLite, whose writers
// take turns, has no row locks; GORM leaves the clause out there.
var skipLocked = clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked}

// sqliteSweepRows caps a sweep's batch on SQLite: publishes and attempt
// records wait for the one writer while a batch deletes, and without
// round trips a small batch costs SQLite little more per row.
const sqliteSweepRows = 100

// sweepLimit is the most rows a sweep's batch deletes, given the caller's
// limit.
func (s *Store) sweepLimit(limit int) int {
	if s.dialect == DialectSQLite {
		return min(limit, sqliteSweepRows)
	}
	return limit
}

// SweepDeliveries deletes, in one transaction, finished deliveries
// (SUCCEEDED, DEAD or CANCELLED) last changed before before, with their
// attempts: as many as fit in limit rows, each delivery counting for
// itself and its attempts, and at least one. It finds them through the
// (status, updated_at) index, never by scanning. On MySQL it skips rows
// that another transaction holds, so that concurrent sweepers delete
// different rows, each once, and wait for no one. more reports that the
// batch was full and more may be due. On SQLite a batch takes at most
// 100 rows, whatever limit says.
func (s *Store) SweepDeliveries(ctx context.Context, before time.Time, limit int) (swept model.Swept, more bool, err error) {
	limit = s.sweepLimit(limit)
	err = retryDeadlocks(ctx, func() error {
		return s.transaction(ctx, func(tx *gorm.DB) error {
			q := s.keysetIndex(tx.Model(&model.Delivery{}), "deliveries", "idx_deliveries_finished").
				Where("status IN ? AND updated_at < ?", finishedStatuses, before.UTC())
			var err error
			swept, more, err = sweepDeliveries(tx, q, limit)
			return err
		})
	})
	if err != nil {
		return model.Swept{}, false, fmt.Errorf("sweep deliveries: %w", err)
	}
	return swept, more, nil
}

// sweepDeliveries locks, skipping locked rows, the deliveries q selects
// (a query of deliveries in tx), and deletes as many of them as fit in
// limit rows with their attempts. It reports whether q had more.
func sweepDeliveries(tx, q *gorm.DB, limit int) (model.Swept, bool, error) {
	// Most deliveries have an attempt: half the limit usually fills the
	// batch without locking rows that do not fit in it.
	want := max(1, limit/2)
	var found []model.Delivery
	if err := q.Clauses(skipLocked).Select("id", "attempt_count").Limit(want).Find(&found).Error; err != nil || len(found) == 0 {
		return model.Swept{}, false, err
	}
	ids := make([]string, 0, len(found))
	rows := 0
	for _, d := range found {
		n := 1 + d.AttemptCount
		if len(ids) > 0 && rows+n > limit {
			break
		}
		ids = append(ids, d.ID)
		rows += n
	}
	attempts := tx.Where("delivery_id IN ?", ids).Delete(&model.DeliveryAttempt{})
	if attempts.Error != nil {
		return model.Swept{}, false, attempts.Error
	}
	deliveries := tx.Where("id IN ?", ids).Delete(&model.Delivery{})
	if deliveries.Error != nil {
		return model.Swept{}, false, deliveries.Error
	}
	swept := model.Swept{Deliveries: int(deliveries.RowsAffected), Attempts: int(attempts.RowsAffected)}
	return swept, len(found) == want || len(ids) < len(found), nil
}

// SweepEvents looks at up to limit events created before before, oldest
// first, starting after the position after ("" for the oldest), and
// deletes, in one transaction, those that no delivery refers to any more:
// unfinished deliveries keep their events, however old. It returns the
// position to continue from, or "" once it has looked at the last event
// due. It reads through the (created_at, id) index, and an event kept is
// looked at once per pass, not once per batch. Concurrent sweepers delete
// different rows, and SQLite's batches are capped, as in SweepDeliveries.
func (s *Store) SweepEvents(ctx context.Context, before time.Time, after string, limit int) (swept model.Swept, next string, err error) {
	limit = s.sweepLimit(limit)
	q := s.keysetIndex(s.db.WithContext(ctx).Model(&model.Event{}), "events", "idx_events_created").Select("id", "created_at").
		Where("created_at < ?", before.UTC())
	if after != "" {
		c, err := decodeCursor("after", after)
		if err != nil {
			return swept, "", err
		}
		q = q.Where(seek(true, false), c.createdAt, c.createdAt, c.createdAt, c.id)
	}
	var found []model.Event
	if err := q.Order("created_at, id").Limit(limit).Find(&found).Error; err != nil {
		return swept, "", fmt.Errorf("sweep events: %w", err)
	}
	if len(found) == 0 {
		return swept, "", nil
	}
	ids := make([]string, len(found))
	for i, ev := range found {
		ids[i] = ev.ID
	}
	err = retryDeadlocks(ctx, func() error {
		swept = model.Swept{}
		return s.transaction(ctx, func(tx *gorm.DB) error {
			var unused []string
			err := tx.Model(&model.Event{}).Clauses(skipLocked).Where("id IN ?", ids).Where(noDeliveries).Pluck("id", &unused).Error
			if err != nil || len(unused) == 0 {
				return err
			}
			swept.Events, err = deleteEvents(tx, unused)
			return err
		})
	})
	if err != nil {
		return model.Swept{}, "", fmt.Errorf("sweep events: %w", err)
	}
	if len(found) == limit {
		last := found[len(found)-1]
		next = cursor{last.CreatedAt, last.ID}.encode()
	}
	return swept, next, nil
}

// deleteEvents deletes the events with those IDs that no delivery refers
// to, and returns how many.
func deleteEvents(tx *gorm.DB, ids []string) (int, error) {
	res := tx.Where("id IN ?", ids).Where(noDeliveries).Delete(&model.Event{})
	return int(res.RowsAffected), res.Error
}

// OldestEvent returns when the oldest stored event was created, or nil
// when there is none.
func (s *Store) OldestEvent(ctx context.Context) (*time.Time, error) {
	var first []model.Event
	if err := s.db.WithContext(ctx).Select("created_at").Order("created_at").Limit(1).Find(&first).Error; err != nil {
		return nil, fmt.Errorf("oldest event: %w", err)
	}
	if len(first) == 0 {
		return nil, nil
	}
	return &first[0].CreatedAt, nil
}
