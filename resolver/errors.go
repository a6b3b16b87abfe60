package resolver

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
)

// PresentError maps errors onto GraphQL errors with extensions.code. An
// *model.Error shows its message; anything else is logged and shown as a
// generic INTERNAL error, so that no internals reach the client.
func (r *Resolver) PresentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var appErr *model.Error
	switch {
	case errors.As(err, &appErr):
		gqlErr.Message = model.PublicMessage(err)
		gqlErr.Extensions = map[string]any{"code": appErr.Code}
		if appErr.Field != "" {
			gqlErr.Extensions["field"] = appErr.Field
		}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		gqlErr.Message = "request cancelled or timed out"
		gqlErr.Extensions = map[string]any{"code": model.CodeUnavailable}
	case store.IsUnavailable(err):
		r.Logger.WarnContext(ctx, "database unavailable", "path", gqlErr.Path.String(), "err", err)
		gqlErr.Message = "the database is unavailable; retry shortly (publishEvent with the same idempotencyKey is safe to retry)"
		gqlErr.Extensions = map[string]any{"code": model.CodeUnavailable}
	case gqlErr.Err == nil:
		// Parse and validation errors raised by gqlgen itself describe the
		// request, so the client sees them as they are.
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		if _, ok := gqlErr.Extensions["code"]; !ok {
			gqlErr.Extensions["code"] = model.CodeBadUserInput
		}
	default:
		r.Logger.ErrorContext(ctx, "graphql operation failed", "path", gqlErr.Path.String(), "err", err)
		gqlErr.Message = model.PublicMessage(err)
		gqlErr.Extensions = map[string]any{"code": model.CodeInternal}
	}
	return gqlErr
}

// Recover turns a panic in a resolver into an INTERNAL error and logs it.
func (r *Resolver) Recover(ctx context.Context, p any) error {
	r.Logger.ErrorContext(ctx, "resolver panic", "panic", p, "stack", string(debug.Stack()))
	return fmt.Errorf("panic: %v", p)
}
