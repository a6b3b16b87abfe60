package metrics

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// testSchema is an executable schema with only its type system, which is
// all the metrics extension reads.
type testSchema struct {
	graphql.ExecutableSchema
	schema *ast.Schema
}

func (s testSchema) Schema() *ast.Schema { return s.schema }

func TestOperationLabels(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { webhooks: Int me: Int }
		type Mutation { createWebhook: Int }
		type Subscription { webhookUpdated: Int }`})
	o := New(nil, slog.New(slog.DiscardHandler)).Extension().(*operationMetrics)
	if err := o.Validate(testSchema{schema: schema}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"NamedOperation", `query AliceSecretOperationName { webhooks }`, []string{"webhooks"}},
		{"Mutation", `mutation Bob { createWebhook }`, []string{"createWebhook"}},
		{"Aliases", `{ a: webhooks b: webhooks c: me }`, []string{"webhooks", "me"}},
		{"Fragments", `query { ...F ... on Query { me } } fragment F on Query { webhooks ...G } fragment G on Query { webhooks }`, []string{"webhooks", "me"}},
		{"Introspection", `{ __schema { queryType { name } } __type(name: "Query") { name } }`, []string{"__schema", "__type"}},
		{"Typename", `{ __typename }`, []string{LabelOther}},
		{"UnknownField", `{ secretTenantField }`, []string{LabelOther}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
			if err != nil {
				t.Fatal(err)
			}
			got := o.labels(&graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]})
			if !slices.Equal(got, tt.want) {
				t.Errorf("labels(%s) = %q; want %q", tt.query, got, tt.want)
			}
		})
	}
	t.Run("Invalid", func(t *testing.T) {
		if got := o.labels(&graphql.OperationContext{}); !slices.Equal(got, []string{LabelInvalid}) {
			t.Errorf("labels of a request that did not parse = %q; want [%s]", got, LabelInvalid)
		}
	})
}

// TestCountersStartAtZero: the series whose labels are known in advance
// are there before anything happened.
func TestCountersStartAtZero(t *testing.T) {
	m := New(nil, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`hookline_delivery_attempts_total{outcome="success"} 0`,
		`hookline_delivery_attempts_total{outcome="failure"} 0`,
		`hookline_deliveries_finished_total{status="succeeded"} 0`,
		`hookline_deliveries_finished_total{status="dead"} 0`,
		`hookline_delivery_attempts_by_webhook_health_total{health="healthy"} 0`,
		`hookline_delivery_attempts_by_webhook_health_total{health="unhealthy"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
