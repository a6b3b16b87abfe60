package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// noIntrospection refuses, before it runs, an operation that asks for the
// schema (__schema or __type) while introspection is off, with a
// validation error (GRAPHQL_VALIDATION_FAILED, as other GraphQL servers
// answer). gqlgen would run it and fail the field with an error the error
// presenter cannot tell from an internal failure.
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !introspects(oc.Operation.SelectionSet, oc.Doc.Fragments, map[string]bool{}) {
		return nil
	}
	return &gqlerror.Error{Message: "introspection is disabled", Extensions: map[string]any{"code": errcode.ValidationFailed}}
}

// introspects reports whether the root selection set, with the fragments
// it spreads, select __schema or __type. Validation allows them on the
// query type only, which no field of Hookline's schema returns, so only
// the root is searched.
func introspects(set ast.SelectionSet, fragments ast.FragmentDefinitionList, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet, fragments, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if f := fragments.ForName(s.Name); f != nil && introspects(f.SelectionSet, fragments, seen) {
				return true
			}
		}
	}
	return false
}
