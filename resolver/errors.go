package resolver

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/graph"

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
	case isArgumentError(ctx, gqlErr):
		// gqlgen could not coerce an argument or input field: the client's
		// mistake, which names Go types in its own words.
		r.Logger.DebugContext(ctx, "argument refused", "path", gqlErr.Path.String(), "err", err)
		field, typ := argumentAt(ctx, gqlErr.Path)
		gqlErr.Message = fmt.Sprintf("%s: not a valid %s", field, typ)
		if typ == "Time" {
			gqlErr.Message += ": want an RFC 3339 date-time such as 2026-01-02T15:04:05Z"
		}
		gqlErr.Extensions = map[string]any{"code": model.CodeBadUserInput, "field": field}
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

// isArgumentError tells whether gqlErr was raised while coercing a field's
// arguments: its path then runs past the field's own, into the argument.
func isArgumentError(ctx context.Context, gqlErr *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	return fc != nil && fc.Field.Definition != nil && len(gqlErr.Path) > len(fc.Path())
}

// argumentAt names the argument or input field at the end of path, and the
// GraphQL type it wants, walking from the field's argument definitions.
func argumentAt(ctx context.Context, path ast.Path) (field, typ string) {
	fc := graphql.GetFieldContext(ctx)
	rest := path[len(fc.Path()):]
	var t *ast.Type
	for i, el := range rest {
		switch el := el.(type) {
		case ast.PathName:
			field = string(el)
			if i == 0 {
				if arg := fc.Field.Definition.Arguments.ForName(field); arg != nil {
					t = arg.Type
				}
			} else if t != nil {
				t = inputFieldType(t, field)
			}
		case ast.PathIndex:
			if t != nil && t.Elem != nil {
				t = t.Elem
			}
		}
	}
	if t == nil {
		return field, "value"
	}
	return field, t.Name()
}

// inputFieldType is the type of the input object t's field name, or nil.
func inputFieldType(t *ast.Type, name string) *ast.Type {
	def := schema().Types[t.Name()]
	if def == nil {
		return nil
	}
	if f := def.Fields.ForName(name); f != nil {
		return f.Type
	}
	return nil
}

var schema = sync.OnceValue(func() *ast.Schema {
	return graph.NewExecutableSchema(graph.Config{}).Schema()
})
