package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookline/hookline/model"
)

// errOwnerDeleting refuses new data for an owner being deleted.
func errOwnerDeleting(owner string) error {
	return model.Errorf(model.CodeForbidden, "owner %s is being deleted: it takes no new keys, webhooks or events", owner)
}

// DeleteOwner starts removing an owner and everything it has. At once, in
// one transaction, it marks the owner as being deleted, revokes its API
// keys and deletes its webhooks, cancelling their unfinished deliveries; it
// tells of each cancellation. Its events, deliveries and attempts are left
// to SweepOwners, which removes the owner last. It returns what it did and
// what remains.
//
// An owner with neither a row in the owners list nor an event is NOT_FOUND.
// Revoking the last admin keys is refused (BAD_USER_INPUT, field owner).
// Deleting an owner already being deleted does the same again, which
// finds little or nothing left to do, and reports what remains.
func (s *Store) DeleteOwner(ctx context.Context, owner string) (*model.DeleteOwnerResult, error) {
	var (
		res       model.DeleteOwnerResult
		hashes    []string
		cancelled []*model.Delivery
	)
	err := retryDeadlocks(ctx, func() error {
		res, hashes, cancelled = model.DeleteOwnerResult{Owner: owner}, nil, nil
		return s.transaction(ctx, func(tx *gorm.DB) error {
			t := now()
			if err := markDeleting(tx, owner, t); err != nil {
				return err
			}
			var err error
			if hashes, err = revokeOwnerKeys(tx, owner, t); err != nil {
				return err
			}
			res.RevokedAPIKeyCount = len(hashes)
			var hooks []string
			err = tx.Model(&model.Webhook{}).Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
				Where("owner = ?", owner).Order("id").Pluck("id", &hooks).Error
			if err != nil {
				return err
			}
			res.DeletedWebhookCount = len(hooks)
			for chunk := range slices.Chunk(hooks, 500) {
				if err := tx.Where("webhook_id IN ?", chunk).Delete(&webhookEvent{}).Error; err != nil {
					return err
				}
				if err := tx.Where("id IN ?", chunk).Delete(&model.Webhook{}).Error; err != nil {
					return err
				}
			}
			for _, id := range hooks {
				ds, err := cancelPending(tx, id, t)
				if err != nil {
					return err
				}
				cancelled = append(cancelled, ds...)
			}
			res.CancelledDeliveryCount = len(cancelled)
			return nil
		})
	})
	if err != nil {
		return nil, translate("delete owner", err)
	}
	s.forgetKeys(hashes)
	s.deleting.add(owner)
	s.notifyDeliveries(ctx, cancelled)
	if res.RemainingEvents, res.RemainingDeliveries, err = s.remaining(ctx, owner); err != nil {
		return nil, err
	}
	return &res, nil
}

// markDeleting marks owner as being deleted, if it is not already, and
// locks its row. It adds the row of an owner that has events but none.
func markDeleting(tx *gorm.DB, owner string, t time.Time) error {
	var row ownerRow
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("name = ?", owner).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		var ids []string
		if err := tx.Model(&model.Event{}).Where("owner = ?", owner).Limit(1).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return &model.Error{Code: model.CodeNotFound, Field: "owner", Message: fmt.Sprintf("owner %s not found: it has no key, webhook or event", owner)}
		}
		return tx.Create(&ownerRow{Name: owner, DeleteRequestedAt: &t}).Error
	case err != nil:
		return err
	case row.DeleteRequestedAt != nil:
		return nil
	}
	return tx.Model(&row).Update("delete_requested_at", t).Error
}

// revokeOwnerKeys revokes the owner's unrevoked keys and returns their
// hashes. It refuses to revoke the last admin keys.
func revokeOwnerKeys(tx *gorm.DB, owner string, t time.Time) ([]string, error) {
	var keys []model.APIKey
	if err := tx.Select("id", "hash", "role").Where("owner = ? AND revoked_at IS NULL", owner).Find(&keys).Error; err != nil {
		return nil, err
	}
	if slices.ContainsFunc(keys, func(k model.APIKey) bool { return k.IsAdmin() }) {
		var others int64
		err := tx.Model(&model.APIKey{}).Where("role = ? AND revoked_at IS NULL AND owner <> ?", model.ApiKeyRoleAdmin, owner).Count(&others).Error
		if err != nil {
			return nil, err
		}
		if others == 0 {
			return nil, model.InvalidField("owner", "holds the last admin keys; create an admin key of another owner first")
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	if err := tx.Model(&model.APIKey{}).Where("owner = ? AND revoked_at IS NULL", owner).Update("revoked_at", t).Error; err != nil {
		return nil, err
	}
	hashes := make([]string, len(keys))
	for i, k := range keys {
		hashes[i] = k.Hash
	}
	return hashes, nil
}

// forgetKeys drops revoked keys from the lookup cache, after the commit,
// so that this process refuses them at once.
func (s *Store) forgetKeys(hashes []string) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	for _, h := range hashes {
		delete(s.keys, h)
	}
}

// remaining counts the owner's events and deliveries.
func (s *Store) remaining(ctx context.Context, owner string) (events, deliveries int, err error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&model.Event{}).Where("owner = ?", owner).Count(&n).Error; err != nil {
		return 0, 0, fmt.Errorf("count owner's events: %w", err)
	}
	events = int(n)
	if err := s.db.WithContext(ctx).Model(&model.Delivery{}).Where("owner = ?", owner).Count(&n).Error; err != nil {
		return 0, 0, fmt.Errorf("count owner's deliveries: %w", err)
	}
	return events, int(n), nil
}

// SweepOwners deletes, in one transaction, rows of an owner being deleted:
// finished deliveries with their attempts, as many as fit in limit rows
// (see SweepDeliveries), or, once none is left, up to limit of its events
// that have no delivery. An owner with nothing left loses its keys, its
// broadcasts' records and its row, and is returned in removed. more
// reports that rows were deleted and more may be due. Concurrent sweepers
// take different rows.
//
// Unfinished deliveries are not deleted: the webhooks are gone, so the
// engine cancels any that a publish stored at the moment of DeleteOwner,
// and the next sweep takes them. SQLite's batches are capped as in
// SweepDeliveries.
func (s *Store) SweepOwners(ctx context.Context, limit int) (swept model.Swept, removed []string, more bool, err error) {
	limit = s.sweepLimit(limit)
	var names []string
	err = s.db.WithContext(ctx).Model(&ownerRow{}).Where("delete_requested_at IS NOT NULL").
		Order("delete_requested_at, name").Limit(100).Pluck("name", &names).Error
	if err != nil {
		return swept, nil, false, fmt.Errorf("sweep owners: %w", err)
	}
	for _, name := range names {
		if swept, err = s.sweepOwner(ctx, name, limit); err != nil || swept.Total() > 0 {
			return swept, removed, err == nil, err
		}
		gone, err := s.removeOwner(ctx, name)
		if err != nil {
			return swept, removed, false, err
		}
		if gone {
			removed = append(removed, name)
		}
	}
	return swept, removed, false, nil
}

// sweepOwner deletes one batch of the owner's rows: deliveries first, then
// events.
func (s *Store) sweepOwner(ctx context.Context, owner string, limit int) (model.Swept, error) {
	var swept model.Swept
	err := retryDeadlocks(ctx, func() error {
		swept = model.Swept{}
		return s.transaction(ctx, func(tx *gorm.DB) error {
			var err error
			q := tx.Model(&model.Delivery{}).Where("owner = ? AND status IN ?", owner, finishedStatuses)
			if swept, _, err = sweepDeliveries(tx, q, limit); err != nil || swept.Deliveries > 0 {
				return err
			}
			var ids []string
			err = tx.Model(&model.Event{}).Clauses(skipLocked).Where("owner = ?", owner).Where(noDeliveries).Limit(limit).Pluck("id", &ids).Error
			if err != nil || len(ids) == 0 {
				return err
			}
			swept.Events, err = deleteEvents(tx, ids)
			return err
		})
	})
	if err != nil {
		return model.Swept{}, fmt.Errorf("sweep owner %s: %w", owner, err)
	}
	return swept, nil
}

// removeOwner removes an owner being deleted that has no event or delivery
// left: its keys, its broadcasts' records and its row. It reports whether
// it did.
func (s *Store) removeOwner(ctx context.Context, owner string) (bool, error) {
	var gone bool
	err := retryDeadlocks(ctx, func() error {
		gone = false
		return s.transaction(ctx, func(tx *gorm.DB) error {
			var names []string
			err := tx.Model(&ownerRow{}).Clauses(skipLocked).Where("name = ? AND delete_requested_at IS NOT NULL", owner).Pluck("name", &names).Error
			if err != nil || len(names) == 0 {
				return err
			}
			for _, m := range []any{&model.Delivery{}, &model.Event{}} {
				var ids []string
				if err := tx.Model(m).Where("owner = ?", owner).Limit(1).Pluck("id", &ids).Error; err != nil || len(ids) > 0 {
					return err
				}
			}
			for _, m := range []any{&model.APIKey{}, &broadcast{}, &model.Webhook{}} {
				if err := tx.Where("owner = ?", owner).Delete(m).Error; err != nil {
					return err
				}
			}
			if err := tx.Where("name = ?", owner).Delete(&ownerRow{}).Error; err != nil {
				return err
			}
			gone = true
			return nil
		})
	})
	if err != nil {
		return false, fmt.Errorf("remove owner %s: %w", owner, err)
	}
	if gone {
		s.deleting.remove(owner)
	}
	return gone, nil
}

// refuseDeleting returns FORBIDDEN if any of owners is being deleted, as
// this process knows: at once for deletions it made, within
// deletingCacheTTL for those of other processes.
func (s *Store) refuseDeleting(ctx context.Context, owners ...string) error {
	set := s.deleting.get(ctx, s)
	for _, o := range owners {
		if set[o] {
			return errOwnerDeleting(o)
		}
	}
	return nil
}

// deletingCacheTTL is how long the set of owners being deleted is trusted
// without reading it again.
const deletingCacheTTL = 2 * time.Second

// ownerSet is the set of owners being deleted, read at most once per
// deletingCacheTTL, so that publishing costs no query. The zero value is
// empty and due for a read.
type ownerSet struct {
	mu    sync.Mutex
	names map[string]bool
	read  time.Time
}

// get returns the set, reading it again if it is stale. A failed read is
// logged and the previous set kept until the next try.
func (o *ownerSet) get(ctx context.Context, s *Store) map[string]bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if time.Since(o.read) < deletingCacheTTL {
		return o.names
	}
	o.read = time.Now()
	var names []string
	err := s.db.WithContext(ctx).Model(&ownerRow{}).Where("delete_requested_at IS NOT NULL").Pluck("name", &names).Error
	if err != nil {
		s.log.WarnContext(ctx, "read the owners being deleted", "err", err)
		return o.names
	}
	o.names = make(map[string]bool, len(names))
	for _, n := range names {
		o.names[n] = true
	}
	return o.names
}

// add and remove change the set at once for this process's own deletions;
// the set is copied, so that a caller's map never changes under it.
func (o *ownerSet) add(owner string) { o.update(func(m map[string]bool) { m[owner] = true }) }

func (o *ownerSet) remove(owner string) { o.update(func(m map[string]bool) { delete(m, owner) }) }

func (o *ownerSet) update(change func(map[string]bool)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := make(map[string]bool, len(o.names)+1)
	for n := range o.names {
		m[n] = true
	}
	change(m)
	o.names = m
}
