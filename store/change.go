package store

import (
	"context"

	"github.com/hookline/hookline/model"
)

// notify tells the Notifier of changes the caller has committed, in order.
// It never fails the write: the change is stored, and a subscriber that
// missed it catches up through the queries; the error is logged.
func (s *Store) notify(ctx context.Context, changes ...model.Change) {
	if s.changes == nil {
		return
	}
	for _, c := range changes {
		if err := s.changes.Notify(ctx, c); err != nil {
			s.log.WarnContext(ctx, "notify subscribers", "err", err)
		}
	}
}

// notifyDeliveries tells of deliveries as they now are. Each goes out as a
// copy without its lease token, which is the engine's business: the caller
// may go on using its own.
func (s *Store) notifyDeliveries(ctx context.Context, ds []*model.Delivery) {
	for _, d := range ds {
		c := *d
		c.LeaseToken = ""
		s.notify(ctx, model.DeliveryChanged(&c))
	}
}
