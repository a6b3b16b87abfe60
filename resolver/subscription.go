package resolver

import (
	"context"
	"errors"
	"sync/atomic"

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

type endNoticeKey struct{}

// EndNotice carries the error that ended a subscription to a transport
// without gqlgen's subscription-error hook (SSE); it is set before the
// subscription's stream closes.
type EndNotice struct {
	err atomic.Pointer[gqlerror.Error]
}

// WithEndNotice returns a context whose subscription reports its end to n.
func WithEndNotice(ctx context.Context, n *EndNotice) context.Context {
	return context.WithValue(ctx, endNoticeKey{}, n)
}

// Err is the error that ended the subscription, or nil.
func (n *EndNotice) Err() *gqlerror.Error { return n.err.Load() }

// OverWebsocket reports whether ctx is a websocket connection's.
func OverWebsocket(ctx context.Context) bool { return ctx.Value(websocketKey{}) != nil }

// stream subscribes to the caller owner's changes and forwards those pick
// accepts. The broker never waits for it: when the client cannot keep up,
// the broker drops the subscription and the client gets an error saying so.
func stream[T any](ctx context.Context, r *Resolver, pick func(*delivery.Message) (*T, bool)) (<-chan *T, error) {
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
		if errors.Is(sub.Err(), delivery.ErrSlowSubscriber) {
			err := &gqlerror.Error{Message: sub.Err().Error(), Extensions: map[string]any{"code": ErrSlowSubscriber}}
			if OverWebsocket(ctx) {
				transport.AddSubscriptionError(ctx, err)
			} else if n, ok := ctx.Value(endNoticeKey{}).(*EndNotice); ok {
				n.err.Store(err)
			}
		}
	}()
	return out, nil
}

func matchAttempt(f *model.AttemptFilter) func(*delivery.Message) (*model.DeliveryAttempt, bool) {
	return func(m *delivery.Message) (*model.DeliveryAttempt, bool) {
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

func matchDelivery(f *model.DeliveryFilter) func(*delivery.Message) (*model.Delivery, bool) {
	return func(m *delivery.Message) (*model.Delivery, bool) {
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

func matchWebhook(id *string) func(*delivery.Message) (*model.Webhook, bool) {
	return func(m *delivery.Message) (*model.Webhook, bool) {
		w := m.Webhook
		return w, w != nil && (id == nil || *id == w.ID)
	}
}
