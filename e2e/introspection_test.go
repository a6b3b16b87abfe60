package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/httpapi"
	"github.com/hookline/hookline/model"
)

// TestIntrospectionStandardQueries: the schema fetches of standard tools,
// kept verbatim in testdata/introspection, pass under the default limits
// and return the schema's types.
func TestIntrospectionStandardQueries(t *testing.T) {
	files, err := filepath.Glob("testdata/introspection/*.graphql")
	if err != nil || len(files) < 4 {
		t.Fatalf("introspection fixtures: %v, %v; want at least 4", files, err)
	}
	ts := newTestServer(t, "sqlite://:memory:")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".graphql"), func(t *testing.T) {
			query, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Schema struct {
					QueryType struct{ Name string }
					Types     []struct{ Name string }
				} `json:"__schema"`
			}
			ts.admin.mustDo(t, string(query), nil, &got)
			if got.Schema.QueryType.Name != "Query" {
				t.Errorf("__schema.queryType.name = %q; want Query", got.Schema.QueryType.Name)
			}
			var names []string
			for _, typ := range got.Schema.Types {
				names = append(names, typ.Name)
			}
			for _, want := range []string{"Webhook", "Delivery", "__Type"} {
				if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
					t.Errorf("__schema.types has no %s: %v", want, names)
				}
			}
		})
	}
}

// TestIntrospectionAbuse: introspection has bounds of its own, which
// refuse queries no tool sends with BAD_USER_INPUT.
func TestIntrospectionAbuse(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	c := ts.admin

	// ofType returns a __type query with n nested ofType fields.
	ofType := func(n int) string {
		return `{ __type(name: "Webhook") { ` + strings.Repeat("ofType { ", n) + "name" + strings.Repeat(" }", n) + " } }"
	}
	// aliased returns n aliased __schema fields.
	aliased := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, " s%d: __schema { queryType { name } }", i)
		}
		return b.String()
	}

	t.Run("OfTypeChainAtTheLimit", func(t *testing.T) {
		c.mustDo(t, ofType(10), nil, nil)
	})
	t.Run("ErrOfTypeChain", func(t *testing.T) {
		for _, n := range []int{11, 40} {
			e := wantError(t, c.do(t, ofType(n), nil), model.CodeBadUserInput, "")
			if !strings.Contains(e.Message, "ofType") || !strings.Contains(e.Message, "at most 10") {
				t.Errorf("ofType nested %d deep: message %q does not name the ofType limit", n, e.Message)
			}
		}
	})
	t.Run("ErrDepth", func(t *testing.T) {
		// 18 levels, with ten ofType: the run is allowed, the depth is not.
		q := `{ __schema { types { fields { args { type { ` + strings.Repeat("ofType { ", 10) +
			"fields { type { name } }" + strings.Repeat(" }", 10) + " } } } } } }"
		e := wantError(t, c.do(t, q, nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "introspection is nested") || !strings.Contains(e.Message, "at most 16") {
			t.Errorf("message %q does not say the introspection is too deep", e.Message)
		}
	})
	t.Run("ErrAliases", func(t *testing.T) {
		e := wantError(t, c.do(t, "{"+aliased(1000)+" }", nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "root fields") {
			t.Errorf("message %q does not name the root field limit", e.Message)
		}
	})
	t.Run("ErrAliasesInAFragment", func(t *testing.T) {
		// The root fields are counted through the spread.
		q := "{ ...F } fragment F on Query {" + aliased(1000) + " }"
		e := wantError(t, c.do(t, q, nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "1000 root fields") {
			t.Errorf("message %q does not name the root field limit", e.Message)
		}
		c.mustDo(t, "{ ...F } fragment F on Query {"+aliased(20)+" }", nil, nil)
	})
	t.Run("OrdinaryDepthUnchanged", func(t *testing.T) {
		// Beside introspection, the rest of the operation keeps its limit.
		q := `{ __schema { queryType { name } } deliveries(first: 1) { edges { node { event { deliveries(first: 1) { edges { node { event { deliveries(first: 1) { edges { node { event { id } } } } } } } } } } } } }`
		e := wantError(t, c.do(t, q, nil), model.CodeBadUserInput, "")
		if !strings.Contains(e.Message, "13 levels") {
			t.Errorf("message %q does not say the operation is 13 levels deep", e.Message)
		}
	})
}

// TestSuggestionsFollowIntrospection: "Did you mean" in validation errors
// tells the schema, so it is off when introspection is.
func TestSuggestionsFollowIntrospection(t *testing.T) {
	const misspelled = `{ webhoks(first: 1) { totalCount } }`
	for _, introspection := range []bool{true, false} {
		t.Run(fmt.Sprintf("introspection=%t", introspection), func(t *testing.T) {
			cfg := httpapi.DefaultConfig()
			cfg.Introspection = introspection
			ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), config: &cfg})
			resp := ts.admin.do(t, misspelled, nil)
			if len(resp.Errors) == 0 {
				t.Fatalf("misspelled field answered: %s", resp.Data)
			}
			msg := resp.Errors[0].Message
			if !strings.Contains(msg, "webhoks") {
				t.Errorf("message %q does not name the unknown field", msg)
			}
			if got := strings.Contains(msg, "Did you mean"); got != introspection {
				t.Errorf("message %q: suggests a field = %t; want %t", msg, got, introspection)
			}
		})
	}
}
