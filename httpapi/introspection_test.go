package httpapi

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gqlcomplexity "github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/hookline/hookline/graph"
)

// TestIntrospectionQueriesFitTheLimits: the standard introspection queries
// kept in e2e/testdata pass the shape limits and cost far less than the
// complexity limit (gqlgen does not price __schema at all; __type is priced
// field by field).
func TestIntrospectionQueriesFitTheLimits(t *testing.T) {
	files, err := filepath.Glob("../e2e/testdata/introspection/*.graphql")
	if err != nil || len(files) == 0 {
		t.Fatalf("introspection fixtures: %v, %v", files, err)
	}
	es := graph.NewExecutableSchema(graph.Config{Complexity: complexity(DefaultConfig().MaxBodyBytes)})
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc, errs := gqlparser.LoadQuery(es.Schema(), string(src))
		if errs != nil {
			t.Fatalf("%s: %v", file, errs)
		}
		op := doc.Operations[0]
		if err := checkShape(op, doc.Fragments, nil); err != nil {
			t.Errorf("%s: %v", file, err)
		}
		got := (&introspectionMeasure{fragments: doc.Fragments, memo: map[fragmentAt]shape{}}).set(op.SelectionSet, 0, 0)
		cost := gqlcomplexity.Calculate(context.Background(), es, op, nil)
		t.Logf("%s: introspection depth %d, ofType run %d, complexity %d", filepath.Base(file), got.depth, got.chain, cost)

		// The same full type selection through __type, which gqlgen prices.
		typed := strings.Replace(string(src), "__schema {", `t: __type(name: "Webhook") { ...FullType } __schema {`, 1)
		doc, errs = gqlparser.LoadQuery(es.Schema(), typed)
		if errs != nil {
			t.Fatalf("%s with __type: %v", file, errs)
		}
		cost = gqlcomplexity.Calculate(context.Background(), es, doc.Operations[0], nil)
		t.Logf("%s with __type(name) { ...FullType } added: complexity %d", filepath.Base(file), cost)
		if cost >= complexityLimit/10 {
			t.Errorf("%s: complexity %d; want well under the limit %d", file, cost, complexityLimit)
		}
	}
}

// TestIntrospectionShapeEndsOnCycles: a fragment cycle, which validation
// refuses before the limits run, still cannot make the walk loop.
func TestIntrospectionShapeEndsOnCycles(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `
		{ __schema { types { ...A } } }
		fragment A on __Type { ofType { ...B } }
		fragment B on __Type { ofType { ...A } }`})
	if err != nil {
		t.Fatal(err)
	}
	gerr := introspectionShape(doc.Operations[0].SelectionSet, doc.Fragments)
	if gerr == nil || !strings.Contains(gerr.Message, "ofType") {
		t.Errorf("cyclic ofType fragments: %v; want the ofType limit's error", gerr)
	}
}
