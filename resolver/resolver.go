// Package resolver implements the GraphQL schema in graph/ by translating each
// operation into calls on the store, the delivery engine and the change feed.
// It knows nothing of transports: the caller comes in the context
// (model.CallerFrom), and a subscription's ending error goes to EndWith.
package resolver

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"log/slog"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/store"
)

// Resolver is the root resolver; it holds the dependencies every resolver uses.
type Resolver struct {
	Store  *store.Store
	Engine *delivery.Engine
	Feed   feed.Feed
	Logger *slog.Logger
	// Subscriptions, when set, counts open subscriptions.
	Subscriptions SubscriptionCounter
	// EndWith, when set, gives the transport the error that ends a
	// subscription (SLOW_SUBSCRIBER), to send as the stream's last message.
	EndWith func(ctx context.Context, err *gqlerror.Error)
}

// SubscriptionCounter tracks open subscriptions; *metrics.Metrics implements it.
type SubscriptionCounter interface {
	SubscriptionStarted()
	SubscriptionEnded()
}
