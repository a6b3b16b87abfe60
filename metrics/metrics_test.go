package metrics

import (
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestOperationLabelsCapped(t *testing.T) {
	var names operationNames
	op := func(name string) *graphql.OperationContext {
		return &graphql.OperationContext{Operation: &ast.OperationDefinition{Name: name, Operation: ast.Query}}
	}
	labels := map[string]bool{}
	for i := range 3 * MaxOperationNames {
		labels[names.label(op(fmt.Sprintf("Op%d", i)))] = true
	}
	if got, want := len(labels), MaxOperationNames+1; got != want {
		t.Errorf("%d distinct operation names gave %d label values; want %d", 3*MaxOperationNames, got, want)
	}
	if got := names.label(op("Op0")); got != "Op0" {
		t.Errorf("label of a name seen early = %q; want Op0", got)
	}
	if got := names.label(op(fmt.Sprintf("Op%d", 2*MaxOperationNames))); got != "other" {
		t.Errorf("label of a name past the cap = %q; want other", got)
	}
	tests := []struct {
		name string
		op   *graphql.OperationContext
		want string
	}{
		{"Anonymous", op(""), "anonymous_query"},
		{"TooLong", op(fmt.Sprintf("%065d", 0)), "anonymous_query"},
		{"Invalid", &graphql.OperationContext{}, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names.label(tt.op); got != tt.want {
				t.Errorf("label = %q; want %q", got, tt.want)
			}
		})
	}
}
