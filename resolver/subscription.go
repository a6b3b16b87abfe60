package resolver

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/model"
)

// SubscriberBuffer is how many messages a subscriber may fall behind before
// it is dropped.
const SubscriberBuffer = 256

// ErrSlowSubscriber is the code a dropped subscriber's error carries.
const ErrSlowSubscriber = "SLOW_SUBSCRIBER"

type websocketKey struct{}

// WithWebsocket marks a context as a websocket connection's, where a
// subscription can end with an error message.
func WithWebsocket(ctx context.Context) context.Context {
	return context.WithValue(ctx, websocketKey{}, true)
}

// OverWebsocket reports whether ctx is a websocket connection's.
func OverWebsocket(ctx context.Context) bool { return ctx.Value(websocketKey{}) != nil }

// stream subscribes to the caller owner's changes and forwards those pick
// accepts. The broker never waits for it: when the client cannot keep up,
// the broker drops the subscription and the client gets an error saying so.
func stream[T any](ctx context.Context, r *Resolver, pick func(delivery.Message) (*T, bool)) (<-chan *T, error) {
	owner, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := r.Broker.Subscribe(ctx, owner, SubscriberBuffer)
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
		if errors.Is(sub.Err(), delivery.ErrSlowSubscriber) && ctx.Value(websocketKey{}) != nil {
			transport.AddSubscriptionError(ctx, &gqlerror.Error{
				Message:    sub.Err().Error(),
				Extensions: map[string]any{"code": ErrSlowSubscriber},
			})
		}
	}()
	return out, nil
}

func matchAttempt(f *model.AttemptFilter) func(delivery.Message) (*model.DeliveryAttempt, bool) {
	return func(m delivery.Message) (*model.DeliveryAttempt, bool) {
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

func matchDelivery(f *model.DeliveryFilter) func(delivery.Message) (*model.Delivery, bool) {
	return func(m delivery.Message) (*model.Delivery, bool) {
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

func matchWebhook(id *string) func(delivery.Message) (*model.Webhook, bool) {
	return func(m delivery.Message) (*model.Webhook, bool) {
		w := m.Webhook
		return w, w != nil && (id == nil || *id == w.ID)
	}
}
