package httpapi

import (
	"context"
	"fmt"

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
			if isIntrospection(s) {
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

// Introspection limits. Standard tools fetch the schema with a deeper query
// than applications need: graphql-js 16's getIntrospectionQuery, which
// GraphiQL sends too, nests 15 levels (__schema, types, fields, args, type,
// then nine ofType and a leaf), past maxQueryDepth. So an introspection
// field's subtree is measured apart, against its own bounds, and depth
// counts the field itself only.
const (
	// maxIntrospectionDepth allows the deepest standard query with room for
	// one more ofType.
	maxIntrospectionDepth = 16
	// maxOfTypeChain bounds ofType { ofType { … } } runs: a type reference
	// is at most a few wrappers deep (e.g. [[Int!]!]! is five), and graphql-js
	// asks for nine.
	maxOfTypeChain = 10
)

// isIntrospection reports whether f is one of the introspection fields that
// root a separately measured subtree. Both exist only on the query type.
func isIntrospection(f *ast.Field) bool { return f.Name == "__schema" || f.Name == "__type" }

// introspectionShape refuses an operation whose root-level __schema and
// __type fields (in fragments too; their number is bounded by the root
// field limit) nest deeper than maxIntrospectionDepth, or chain ofType
// more than maxOfTypeChain times. The error has code BAD_USER_INPUT.
func introspectionShape(root ast.SelectionSet, fragments ast.FragmentDefinitionList) *gqlerror.Error {
	m := &introspectionMeasure{fragments: fragments, memo: map[fragmentAt]shape{}}
	var fields []*ast.Field
	seen := map[string]bool{} // fragments spread at the root: the same wherever spread there
	var collect func(set ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if isIntrospection(s) {
					fields = append(fields, s)
				}
			case *ast.InlineFragment:
				collect(s.SelectionSet)
			case *ast.FragmentSpread:
				if f := fragments.ForName(s.Name); f != nil && !seen[s.Name] {
					seen[s.Name] = true
					collect(f.SelectionSet)
				}
			}
		}
	}
	collect(root)
	for _, f := range fields {
		got := m.set(f.SelectionSet, 1, 0)
		switch {
		case got.chain > maxOfTypeChain:
			return limitError(fmt.Sprintf("introspection nests ofType %d deep; at most %d are allowed", got.chain, maxOfTypeChain))
		case got.depth > maxIntrospectionDepth:
			return limitError(fmt.Sprintf("introspection is nested %d levels deep; at most %d are allowed", got.depth, maxIntrospectionDepth))
		}
	}
	return nil
}

// shape is what a selection set reaches: its deepest level and its longest
// run of nested ofType fields.
type shape struct{ depth, chain int }

func (s shape) max(o shape) shape { return shape{max(s.depth, o.depth), max(s.chain, o.chain)} }

// fragmentAt is a fragment entered at a depth and ofType run, which
// determine what walking it finds.
type fragmentAt struct {
	name         string
	depth, chain int
}

// introspectionMeasure walks introspection subtrees. Each fragment is walked
// once per entry depth and run, so a fragment spread many times (TypeRef in
// the standard query) costs one walk, and nesting spreads cannot multiply
// the work.
type introspectionMeasure struct {
	fragments ast.FragmentDefinitionList
	memo      map[fragmentAt]shape
}

// set measures the fields below set, whose parent is at level depth and
// ends a run of chain ofType fields. It stops past the limits, so a
// fragment cycle cannot loop.
func (m *introspectionMeasure) set(set ast.SelectionSet, depth, chain int) shape {
	got := shape{depth, chain}
	if depth > maxIntrospectionDepth || chain > maxOfTypeChain {
		return got
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			run := 0
			if s.Name == "ofType" {
				run = chain + 1
			}
			got = got.max(m.set(s.SelectionSet, depth+1, run))
		case *ast.InlineFragment:
			got = got.max(m.set(s.SelectionSet, depth, chain))
		case *ast.FragmentSpread:
			key := fragmentAt{s.Name, depth, chain}
			r, ok := m.memo[key]
			if !ok {
				m.memo[key] = shape{depth, chain} // a cycle back here finds nothing deeper
				if f := m.fragments.ForName(s.Name); f != nil {
					r = m.set(f.SelectionSet, depth, chain)
				}
				m.memo[key] = r
			}
			got = got.max(r)
		}
	}
	return got
}
