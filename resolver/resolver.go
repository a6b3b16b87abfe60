// Package resolver implements the GraphQL schema in graph/ by translating each
// operation into calls on the store and the delivery module.
package resolver

//go:generate go run github.com/99designs/gqlgen generate

import (
	"log/slog"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/store"
)

// Resolver is the root resolver; it holds the dependencies every resolver uses.
type Resolver struct {
	Store  *store.Store
	Engine *delivery.Engine
	Broker delivery.Broker
	Logger *slog.Logger
	// Subscriptions, when set, counts open subscriptions.
	Subscriptions SubscriptionCounter
}

// SubscriptionCounter tracks open subscriptions; *metrics.Metrics implements it.
type SubscriptionCounter interface {
	SubscriptionStarted()
	SubscriptionEnded()
}
