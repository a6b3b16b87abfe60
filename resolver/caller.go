package resolver

import (
	"context"

	"github.com/hookline/hookline/model"
)

// caller returns who the request acts for, or UNAUTHENTICATED.
func caller(ctx context.Context) (model.Caller, error) {
	c, ok := model.CallerFrom(ctx)
	if !ok {
		return model.Caller{}, model.Errorf(model.CodeUnauthenticated, "missing or invalid API key")
	}
	return c, nil
}

// owner returns the owner the request acts on. Every resolver scopes its
// work to it.
func owner(ctx context.Context) (string, error) {
	c, err := caller(ctx)
	return c.Owner, err
}

// admin returns the caller if it is an admin key acting on its own owner,
// or FORBIDDEN.
func admin(ctx context.Context) (model.Caller, error) {
	c, err := caller(ctx)
	if err != nil {
		return c, err
	}
	if !c.IsAdmin() {
		msg := "only admin API keys may do this"
		if c.Key.IsAdmin() {
			msg += "; acting as owner " + c.Owner + " (Hookline-Owner), the key has that owner's member rights"
		}
		return c, model.Errorf(model.CodeForbidden, "%s", msg)
	}
	return c, nil
}
