package resolver

import (
	"context"
	"errors"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/model"
)

// SubscriberBuffer is how many messages a subscriber may fall behind before
// it is dropped.
const SubscriberBuffer = 256

// stream watches the caller owner's changes and forwards those pick
// accepts. The feed never waits for it: when the client cannot keep up, the
// feed drops the stream and the client gets an error saying so.
func stream[T any](ctx context.Context, r *Resolver, pick func(*model.Change) (*T, bool)) (<-chan *T, error) {
	owner, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := r.Feed.Watch(ctx, owner, SubscriberBuffer)
	if err != nil {
		return nil, err
	}
	if r.Subscriptions != nil {
		r.Subscriptions.SubscriptionStarted()
	}
	out := make(chan *T)
	go func() {
		defer close(out)
		defer sub.Close()
		if r.Subscriptions != nil {
			defer r.Subscriptions.SubscriptionEnded()
		}
		for m := range sub.C {
			v, ok := pick(m)
			if !ok {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
		if errors.Is(sub.Err(), feed.ErrSlowSubscriber) && r.EndWith != nil {
			r.EndWith(ctx, &gqlerror.Error{Message: sub.Err().Error(), Extensions: map[string]any{"code": model.CodeSlowSubscriber}})
		}
	}()
	return out, nil
}

func matchAttempt(f *model.AttemptFilter) func(*model.Change) (*model.DeliveryAttempt, bool) {
	return func(m *model.Change) (*model.DeliveryAttempt, bool) {
		a := m.Attempt
		if a == nil || f == nil {
			return a, a != nil
		}
		ok := (f.WebhookID == nil || *f.WebhookID == a.WebhookID) &&
			(f.EventType == nil || *f.EventType == a.EventType) &&
			(f.Outcome == nil || *f.Outcome == a.Outcome)
		return a, ok
	}
}

func matchDelivery(f *model.DeliveryFilter) func(*model.Change) (*model.Delivery, bool) {
	return func(m *model.Change) (*model.Delivery, bool) {
		d := m.Delivery
		if d == nil || f == nil {
			return d, d != nil
		}
		ok := (f.WebhookID == nil || *f.WebhookID == d.WebhookID) &&
			(f.EventID == nil || *f.EventID == d.EventID) &&
			(f.Status == nil || *f.Status == d.Status)
		return d, ok
	}
}

func matchWebhook(id *string) func(*model.Change) (*model.Webhook, bool) {
	return func(m *model.Change) (*model.Webhook, bool) {
		w := m.Webhook
		return w, w != nil && (id == nil || *id == w.ID)
	}
}
