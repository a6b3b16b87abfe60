package resolver

import (
	"context"

	"github.com/hookline/hookline/model"
)

// caller returns the authenticated API key, or UNAUTHENTICATED. Every
// resolver scopes its work to the caller's owner.
func caller(ctx context.Context) (*model.APIKey, error) {
	k := model.CallerFrom(ctx)
	if k == nil {
		return nil, model.Errorf(model.CodeUnauthenticated, "missing or invalid API key")
	}
	return k, nil
}

// owner returns the caller's owner.
func owner(ctx context.Context) (string, error) {
	k, err := caller(ctx)
	if err != nil {
		return "", err
	}
	return k.Owner, nil
}

// admin returns the caller if it is an admin key, or FORBIDDEN.
func admin(ctx context.Context) (*model.APIKey, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !k.IsAdmin() {
		return nil, model.Errorf(model.CodeForbidden, "only admin API keys may do this")
	}
	return k, nil
}
