package resolver

import (
	"context"
	"strings"

	"github.com/hookline/hookline/model"
)

// node resolves any ID of the caller's owner by its type prefix; unknown and
// foreign IDs resolve to null.
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	owner, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(id, model.PrefixWebhook):
		return asNode(nullIfNotFound(r.Store.Webhook(ctx, owner, id)))
	case strings.HasPrefix(id, model.PrefixAPIKey):
		return asNode(nullIfNotFound(r.Store.APIKey(ctx, owner, id)))
	case strings.HasPrefix(id, model.PrefixEvent):
		return asNode(nullIfNotFound(r.Store.Event(ctx, owner, id)))
	case strings.HasPrefix(id, model.PrefixDelivery):
		return asNode(nullIfNotFound(r.Store.Delivery(ctx, owner, id)))
	case strings.HasPrefix(id, model.PrefixAttempt):
		return asNode(nullIfNotFound(r.Store.Attempt(ctx, owner, id)))
	}
	return nil, nil
}

// asNode keeps a nil pointer from becoming a non-nil interface.
func asNode[T any, P interface {
	*T
	model.Node
}](v P, err error) (model.Node, error) {
	if v == nil || err != nil {
		return nil, err
	}
	return v, nil
}
