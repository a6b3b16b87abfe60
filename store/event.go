package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookline/hookline/model"
)

// PublishEvent stores ev and, in the same transaction, one pending delivery
// for each of the owner's enabled webhooks subscribed to ev.Type (or "*") for
// which match returns true. take sees each delivery before it is stored and
// may lease it to the caller (LeaseToken, NextAttemptAt), to send it without
// claiming it. It tells of each delivery created. When ev.DedupKey is set
// and the owner published an event with that key within
// model.IdempotencyWindow, it stores nothing and returns that event if it
// has ev's type and payload (see model.Fingerprint), and CONFLICT if not.
// An owner being deleted is refused (FORBIDDEN).
func (s *Store) PublishEvent(ctx context.Context, ev *model.Event, match func(*model.Webhook) bool, take func(*model.Delivery, *model.Webhook)) (*model.Event, []*model.Delivery, error) {
	if err := s.refuseDeleting(ctx, ev.Owner); err != nil {
		return nil, nil, err
	}
	var (
		deliveries [][]*model.Delivery
		dup        *model.Event
	)
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if ev.CreatedAt.IsZero() {
			ev.CreatedAt = now() // the idempotency window is measured from it
		}
		if ev.DedupKey != nil {
			var err error
			if dup, err = claimEventKey(tx, ev); err != nil {
				return err
			}
			if dup != nil {
				return repeats(dup, ev)
			}
		}
		if err := tx.Create(ev).Error; err != nil {
			return err
		}
		var err error
		deliveries, err = s.insertDeliveries(tx, []*model.Event{ev}, func(_ *model.Event, w *model.Webhook) bool { return match(w) },
			func(_ *model.Event, d *model.Delivery, w *model.Webhook) { take(d, w) })
		return err
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) && ev.DedupKey != nil {
		// A concurrent publish with the same key won the insert.
		existing, err := s.eventByDedupKey(ctx, ev.Owner, *ev.DedupKey)
		if err == nil {
			err = repeats(existing, ev)
		}
		if err != nil {
			return nil, nil, err
		}
		return existing, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("publish event: %w", err)
	}
	if dup != nil {
		return dup, nil, nil
	}
	s.notifyDeliveries(ctx, deliveries[0])
	return ev, deliveries[0], nil
}

// PublishEvents stores events and their deliveries, as PublishEvent does
// for each, all in one transaction: many concurrent publishes share one
// commit. It stores all of them or, on any error, none. An event whose
// idempotency key the owner used within model.IdempotencyWindow, before or
// by an earlier event of evs, is not stored: the event that holds the key
// takes its place in the result, without deliveries. A key reused for
// another type or payload is CONFLICT. It tells of each delivery created
// and returns the events and each one's deliveries, in order. A batch with
// an event of an owner being deleted is refused whole (FORBIDDEN).
func (s *Store) PublishEvents(ctx context.Context, evs []*model.Event, match func(*model.Event, *model.Webhook) bool, take func(*model.Event, *model.Delivery, *model.Webhook)) ([]*model.Event, [][]*model.Delivery, error) {
	for _, ev := range evs {
		if err := s.refuseDeleting(ctx, ev.Owner); err != nil {
			return nil, nil, err
		}
	}
	var (
		out        []*model.Event
		deliveries [][]*model.Delivery
	)
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		t := now()
		out = make([]*model.Event, len(evs))
		deliveries = make([][]*model.Delivery, len(evs))
		type ownerKey struct{ owner, key string }
		holders := map[ownerKey]*model.Event{}
		var fresh []*model.Event
		var freshAt []int
		for i, ev := range evs {
			if ev.CreatedAt.IsZero() {
				ev.CreatedAt = t // the idempotency window is measured from it
			}
			out[i] = ev
			if ev.DedupKey != nil {
				k := ownerKey{ev.Owner, *ev.DedupKey}
				holder, seen := holders[k]
				if !seen {
					var err error
					if holder, err = claimEventKey(tx, ev); err != nil {
						return err
					}
					holders[k] = ev
					if holder != nil {
						holders[k] = holder
					}
				}
				if holder != nil {
					if err := repeats(holder, ev); err != nil {
						return err
					}
					out[i] = holder
					continue
				}
			}
			fresh = append(fresh, ev)
			freshAt = append(freshAt, i)
		}
		if len(fresh) == 0 {
			return nil
		}
		if err := tx.CreateInBatches(fresh, 200).Error; err != nil {
			return err
		}
		ds, err := s.insertDeliveries(tx, fresh, match, take)
		if err != nil {
			return err
		}
		for j, i := range freshAt {
			deliveries[i] = ds[j]
		}
		return nil
	})
	// A deadlock here is not retried: take has leased deliveries that the
	// rollback discarded; the caller decides how to try again.
	if err != nil {
		return nil, nil, fmt.Errorf("publish %d events: %w", len(evs), err)
	}
	for _, ds := range deliveries {
		s.notifyDeliveries(ctx, ds)
	}
	return out, deliveries, nil
}

// insertDeliveries stores a pending delivery for each stored event and each
// matching webhook subscribed to its type; take may lease each first.
func (s *Store) insertDeliveries(tx *gorm.DB, evs []*model.Event, match func(*model.Event, *model.Webhook) bool, take func(*model.Event, *model.Delivery, *model.Webhook)) ([][]*model.Delivery, error) {
	type key struct{ owner, typ string }
	subscribed := map[key][]*model.Webhook{}
	return insertDeliveriesTo(tx, evs, func(ev *model.Event) ([]*model.Webhook, error) {
		k := key{ev.Owner, ev.Type}
		hooks, ok := subscribed[k]
		if !ok {
			var err error
			if hooks, err = s.subscribedWebhooks(tx, ev.Owner, ev.Type); err != nil {
				return nil, err
			}
			subscribed[k] = hooks
		}
		return hooks, nil
	}, match, take)
}

// insertDeliveriesTo stores a pending delivery for each stored event and
// each of the webhooks hooksOf gives it that match; take may lease each
// first.
func insertDeliveriesTo(tx *gorm.DB, evs []*model.Event, hooksOf func(*model.Event) ([]*model.Webhook, error), match func(*model.Event, *model.Webhook) bool, take func(*model.Event, *model.Delivery, *model.Webhook)) ([][]*model.Delivery, error) {
	out := make([][]*model.Delivery, len(evs))
	var all []*model.Delivery
	for i, ev := range evs {
		hooks, err := hooksOf(ev)
		if err != nil {
			return nil, err
		}
		due := ev.CreatedAt
		for _, w := range hooks {
			if !match(ev, w) {
				continue
			}
			d := &model.Delivery{
				ID: model.NewID(model.PrefixDelivery), Owner: ev.Owner, EventID: ev.ID, WebhookID: w.ID,
				Status: model.DeliveryStatusPending, NextAttemptAt: &due, CreatedAt: ev.CreatedAt, UpdatedAt: ev.CreatedAt,
			}
			take(ev, d, w)
			out[i] = append(out[i], d)
			all = append(all, d)
		}
	}
	if len(all) > 0 {
		if err := tx.CreateInBatches(all, 500).Error; err != nil {
			return nil, err
		}
	}
	return out, nil
}

// claimKey returns owner's row of T (an event or a broadcast) that holds
// the idempotency key within model.IdempotencyWindow before t, if any. A key
// older than the window is released, so that a new row can take it.
func claimKey[T any](tx *gorm.DB, owner, key string, t time.Time, createdAt func(*T) time.Time) (*T, error) {
	var prev T
	err := tx.Where("owner = ? AND dedup_key = ?", owner, key).Take(&prev).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case createdAt(&prev).After(t.Add(-model.IdempotencyWindow)):
		return &prev, nil
	}
	return nil, tx.Model(&prev).Update("dedup_key", nil).Error
}

// claimEventKey is claimKey for ev's idempotency key.
func claimEventKey(tx *gorm.DB, ev *model.Event) (*model.Event, error) {
	return claimKey(tx, ev.Owner, *ev.DedupKey, ev.CreatedAt, func(e *model.Event) time.Time { return e.CreatedAt })
}

// repeats returns nil if ev, published with the idempotency key that first
// holds, has first's type and payload, and CONFLICT if not.
func repeats(first, ev *model.Event) error {
	if model.Fingerprint(first.Type, first.Payload) != model.Fingerprint(ev.Type, ev.Payload) {
		return model.IdempotencyConflict(*ev.DedupKey)
	}
	return nil
}

func (s *Store) eventByDedupKey(ctx context.Context, owner, key string) (*model.Event, error) {
	var ev model.Event
	if err := s.db.WithContext(ctx).Where("owner = ? AND dedup_key = ?", owner, key).Take(&ev).Error; err != nil {
		return nil, fmt.Errorf("publish event: find event of idempotency key: %w", err)
	}
	return &ev, nil
}

// Event returns the owner's event with that ID, or NOT_FOUND.
func (s *Store) Event(ctx context.Context, owner, id string) (*model.Event, error) {
	return getOwned[model.Event](ctx, s.db, owner, id, model.PrefixEvent, "event")
}

// EventsByID returns the events with those IDs, of any owner, by ID.
func (s *Store) EventsByID(ctx context.Context, ids []string) (map[string]*model.Event, error) {
	var events []*model.Event
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&events).Error; err != nil {
		return nil, fmt.Errorf("get events: %w", err)
	}
	out := make(map[string]*model.Event, len(events))
	for _, ev := range events {
		out[ev.ID] = ev
	}
	return out, nil
}

// Events returns a page of the owner's events, newest first.
func (s *Store) Events(ctx context.Context, owner string, filter *model.EventFilter, args model.PageArgs) (*model.EventConnection, error) {
	if filter == nil {
		filter = &model.EventFilter{}
	}
	base := func() *gorm.DB {
		q := s.keysetIndex(s.db.Model(&model.Event{}), "events", "idx_events_owner_created").Where("owner = ?", owner)
		if filter.Type != nil {
			q = q.Where("type = ?", *filter.Type)
		}
		if filter.Since != nil {
			q = q.Where("created_at >= ?", filter.Since.UTC())
		}
		if filter.Until != nil {
			q = q.Where("created_at < ?", filter.Until.UTC())
		}
		return q
	}
	rows, info, err := page(ctx, base, args, func(ev *model.Event) cursor { return cursor{ev.CreatedAt, ev.ID} })
	if err != nil {
		return nil, err
	}
	conn := &model.EventConnection{Edges: make([]*model.EventEdge, len(rows)), PageInfo: info, Count: counter(base)}
	for i, ev := range rows {
		conn.Edges[i] = &model.EventEdge{Cursor: cursor{ev.CreatedAt, ev.ID}.encode(), Node: ev}
	}
	return conn, nil
}

// broadcast records a broadcast, so that its idempotency key returns its
// first result.
type broadcast struct {
	ID            string  `gorm:"primaryKey;size:40"`
	Owner         string  `gorm:"size:128;not null;uniqueIndex:idx_broadcasts_dedup,priority:1"`
	DedupKey      *string `gorm:"size:255;uniqueIndex:idx_broadcasts_dedup,priority:2"`
	OwnerCount    int     `gorm:"not null"`
	DeliveryCount int     `gorm:"not null"`
	// Fingerprint is model.Fingerprint of what was broadcast; rows stored
	// before it was kept have none and match any repeat.
	Fingerprint *string `gorm:"size:64"`
	CreatedAt   time.Time
}

// Broadcast stores, in one transaction, a copy of proto for every owner
// with an enabled webhook subscribed to its type for which match returns
// true, each with its deliveries, and tells of them. by is the owner of the
// admin key broadcasting; with dedupKey set, a broadcast of by with that key
// within model.IdempotencyWindow returns its first result and stores
// nothing if it had proto's type and payload (see model.Fingerprint), and
// is CONFLICT if not.
func (s *Store) Broadcast(ctx context.Context, by string, dedupKey *string, proto *model.Event, match func(*model.Webhook) bool) (*model.BroadcastResult, error) {
	var (
		res        model.BroadcastResult
		deliveries [][]*model.Delivery
	)
	fp := model.Fingerprint(proto.Type, proto.Payload)
	broadcastOnce := func(tx *gorm.DB) error {
		res, deliveries = model.BroadcastResult{}, nil
		t := now()
		b := &broadcast{ID: model.NewID("brd_"), Owner: by, DedupKey: dedupKey, Fingerprint: &fp, CreatedAt: t}
		if dedupKey != nil {
			prev, err := claimKey(tx, by, *dedupKey, t, func(b *broadcast) time.Time { return b.CreatedAt })
			if err != nil {
				return err
			}
			if prev != nil {
				if prev.Fingerprint != nil && *prev.Fingerprint != fp {
					return model.IdempotencyConflict(*dedupKey)
				}
				res = model.BroadcastResult{OwnerCount: prev.OwnerCount, DeliveryCount: prev.DeliveryCount}
				return nil
			}
		}
		hooks, err := broadcastTargets(tx, proto.Type)
		if err != nil {
			return err
		}
		matching := map[string][]*model.Webhook{}
		var evs []*model.Event
		for _, w := range hooks {
			if !match(w) {
				continue
			}
			if matching[w.Owner] == nil {
				ev := *proto
				ev.ID, ev.Owner, ev.CreatedAt = model.NewID(model.PrefixEvent), w.Owner, t
				evs = append(evs, &ev)
			}
			matching[w.Owner] = append(matching[w.Owner], w)
		}
		if len(evs) > 0 {
			if err := tx.CreateInBatches(evs, 1000).Error; err != nil {
				return err
			}
			deliveries, err = insertDeliveriesTo(tx, evs, func(ev *model.Event) ([]*model.Webhook, error) { return matching[ev.Owner], nil },
				func(*model.Event, *model.Webhook) bool { return true }, func(*model.Event, *model.Delivery, *model.Webhook) {})
			if err != nil {
				return err
			}
		}
		res.OwnerCount = len(evs)
		for _, ds := range deliveries {
			res.DeliveryCount += len(ds)
		}
		b.OwnerCount, b.DeliveryCount = res.OwnerCount, res.DeliveryCount
		return tx.Create(b).Error
	}
	err := s.transaction(ctx, broadcastOnce)
	if errors.Is(err, gorm.ErrDuplicatedKey) && dedupKey != nil {
		// A concurrent broadcast with the same key won the insert: this
		// time the key is found, with that broadcast's result.
		err = s.transaction(ctx, broadcastOnce)
	}
	if err != nil {
		return nil, translate("broadcast event", err)
	}
	for _, ds := range deliveries {
		s.notifyDeliveries(ctx, ds)
	}
	return &res, nil
}
