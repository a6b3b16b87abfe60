package resolver

import (
	"context"

	"github.com/hookline/hookline/model"
)

type callerKey struct{}

// WithCaller returns a context carrying the authenticated API key.
func WithCaller(ctx context.Context, k *model.ApiKey) context.Context {
	return context.WithValue(ctx, callerKey{}, k)
}

// Caller returns the authenticated API key, or UNAUTHENTICATED. Every
// resolver scopes its work to the caller's owner.
func Caller(ctx context.Context) (*model.ApiKey, error) {
	k, ok := ctx.Value(callerKey{}).(*model.ApiKey)
	if !ok || k == nil {
		return nil, model.Errorf(model.ErrUnauthenticated, "missing or invalid API key")
	}
	return k, nil
}

// owner returns the caller's owner.
func owner(ctx context.Context) (string, error) {
	k, err := Caller(ctx)
	if err != nil {
		return "", err
	}
	return k.Owner, nil
}

// admin returns the caller if it is an admin key, or FORBIDDEN.
func admin(ctx context.Context) (*model.ApiKey, error) {
	k, err := Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !k.IsAdmin() {
		return nil, model.Errorf(model.ErrForbidden, "only admin API keys may do this")
	}
	return k, nil
}
