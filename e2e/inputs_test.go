package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"

	"github.com/hookline/hookline/model"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestWrongTypedInputsAreBadUserInput is generated from the schema: every
// argument and input field of every query and mutation gets values of the
// wrong type, as a variable and as a literal. None may answer INTERNAL or
// log an error, and each error names the field. New fields are covered
// without touching the test.
func TestWrongTypedInputsAreBadUserInput(t *testing.T) {
	schema := loadSchema(t)
	var logs syncBuffer
	ts := newTestServerOpts(t, testOptions{url: "sqlite://:memory:", delivery: testDeliveryConfig(), logs: &logs})

	cases := 0
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, field := range root.Fields {
			if strings.HasPrefix(field.Name, "__") {
				continue
			}
			for _, arg := range field.Arguments {
				for _, probe := range probes(schema, arg.Type, arg.Name, 0) {
					cases++
					checkProbe(t, ts, schema, root, field, arg, probe)
				}
			}
		}
	}
	if cases < 100 {
		t.Fatalf("only %d probes generated; the schema walk is broken", cases)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("wrong-typed input logged an error:\n%s", logs.String())
	}
}

// probe is one wrong value for an argument: value replaces the argument,
// field is the input field it is wrong in (for the error's extensions).
type probe struct {
	value any
	field string
}

// wrongScalars are values of the wrong type for each scalar, including the
// near misses: a day that does not exist, a year past 9999, an integer past
// 32 and 64 bits.
var wrongScalars = map[string][]any{
	"String":  {12345, true, map[string]any{"a": 1}, []any{"x"}},
	"ID":      {true, 1.5, map[string]any{"a": 1}},
	"Int":     {"abc", 1.5, true, 99999999999999999999.0, 4294967296, map[string]any{}},
	"Boolean": {"yes", 1, map[string]any{}},
	"Time":    {"2026-02-30T00:00:00Z", "notatime", 12345, "10000-01-01T00:00:00Z", true, map[string]any{}},
	"JSON":    {},
}

// probes returns the wrong values for a value of type typ: each wrong
// scalar, a wrong enum value, and for input objects each field made wrong
// in an otherwise valid object.
func probes(schema *ast.Schema, typ *ast.Type, name string, depth int) []probe {
	if typ.Elem != nil {
		var out []probe
		for _, p := range probes(schema, typ.Elem, name, depth) {
			out = append(out, probe{value: []any{p.value}, field: p.field})
		}
		return append(out, probe{value: "not a list item", field: name})
	}
	def := schema.Types[typ.NamedType]
	switch def.Kind {
	case ast.Scalar:
		var out []probe
		for _, v := range wrongScalars[def.Name] {
			out = append(out, probe{value: v, field: name})
		}
		return out
	case ast.Enum:
		return []probe{{value: "NOT_A_VALUE", field: name}, {value: 7, field: name}}
	case ast.InputObject:
		out := []probe{{value: "not an object", field: name}, {value: map[string]any{"noSuchField": 1}, field: name}}
		if depth > 2 {
			return out
		}
		for _, f := range def.Fields {
			for _, p := range probes(schema, f.Type, f.Name, depth+1) {
				obj := validValue(schema, &ast.Type{NamedType: def.Name, NonNull: true}).(map[string]any)
				obj[f.Name] = p.value
				out = append(out, probe{value: obj, field: p.field})
			}
		}
		return out
	}
	return nil
}

// validValue returns a value of type typ that coercion accepts.
func validValue(schema *ast.Schema, typ *ast.Type) any {
	if typ.Elem != nil {
		return []any{validValue(schema, typ.Elem)}
	}
	def := schema.Types[typ.NamedType]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		obj := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull {
				obj[f.Name] = validValue(schema, f.Type)
			}
		}
		return obj
	}
	switch def.Name {
	case "Int":
		return 1
	case "Boolean":
		return true
	case "Time":
		return "2026-01-01T00:00:00Z"
	case "JSON":
		return map[string]any{}
	}
	return "x"
}

// checkProbe sends the probe as a variable and as a literal: queries and
// mutations over HTTP, subscriptions over a websocket.
func checkProbe(t *testing.T, ts *testServer, schema *ast.Schema, root *ast.Definition, field *ast.FieldDefinition, arg *ast.ArgumentDefinition, p probe) {
	t.Helper()
	var sel string
	if def := schema.Types[field.Type.Name()]; def.Kind != ast.Scalar && def.Kind != ast.Enum {
		sel = " { __typename }"
	}
	op := strings.ToLower(root.Name)
	vars := map[string]any{}
	var decls, args []string
	for _, a := range field.Arguments {
		v := validValue(schema, a.Type)
		if a == arg {
			v = p.value
		} else if !a.Type.NonNull {
			continue
		}
		vars[a.Name] = v
		decls = append(decls, fmt.Sprintf("$%s: %s", a.Name, a.Type.String()))
		args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
	}
	withVars := fmt.Sprintf("%s(%s) { %s(%s)%s }", op, strings.Join(decls, ", "), field.Name, strings.Join(args, ", "), sel)
	literals := make([]string, 0, len(args))
	for _, a := range field.Arguments {
		if v, ok := vars[a.Name]; ok {
			literals = append(literals, a.Name+": "+literal(v))
		}
	}
	withLiterals := fmt.Sprintf("%s { %s(%s)%s }", op, field.Name, strings.Join(literals, ", "), sel)

	for _, sent := range []struct {
		query string
		vars  map[string]any
	}{{withVars, vars}, {withLiterals, nil}} {
		var errs []gqlError
		if root.Name == "Subscription" {
			errs = subscriptionErrors(t, ts, sent.query, sent.vars)
		} else {
			resp := ts.admin.do(t, sent.query, sent.vars)
			if resp.Status >= 500 {
				t.Errorf("%s with %s = %v: HTTP %d", field.Name, p.field, p.value, resp.Status)
			}
			errs = resp.Errors
		}
		for _, e := range errs {
			code, _ := e.Extensions["code"].(string)
			if code == "INTERNAL" || code == "" {
				t.Errorf("%s\nvariables %v\n%s = %#v: code %q, message %q; want an input error", sent.query, sent.vars, p.field, p.value, code, e.Message)
				continue
			}
			if code == "BAD_USER_INPUT" && e.Extensions["field"] == nil && !strings.Contains(e.Message, p.field) {
				t.Errorf("%s = %#v: message %q names neither the field nor extensions.field", p.field, p.value, e.Message)
			}
		}
	}
}

// subscriptionErrors starts the subscription and returns the errors it
// answers; a probe that coerces starts a live subscription, which has none.
func subscriptionErrors(t *testing.T, ts *testServer, query string, vars map[string]any) []gqlError {
	t.Helper()
	sub, err := trySubscribe(ts.URL, protoTransportWS, ts.admin.key, query, vars)
	if err != nil {
		var ce *connectionError
		if errors.As(err, &ce) {
			var errs []gqlError
			if json.Unmarshal([]byte(ce.payload), &errs) == nil {
				return errs
			}
		}
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.close()
	select {
	case errs := <-sub.errors:
		return errs
	case <-sub.next:
		return nil
	case <-sub.done:
		return nil
	case <-time.After(300 * time.Millisecond):
		// Coerced (a number for an ID is legal): the server answers a
		// refused subscribe at once, and nothing is published here, so a
		// quiet subscription is an accepted one; the wait bounds the test,
		// it decides nothing that can fail.
		return nil
	}
}

// literal writes v as a GraphQL literal; strings stay strings, so an enum
// probe tests the string form a careless client sends.
func literal(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case float64:
		return fmt.Sprintf("%.0f", v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = literal(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+": "+literal(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func loadSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	files, err := filepath.Glob("../graph/*.graphqls")
	if err != nil || len(files) == 0 {
		tb.Fatalf("find schema files: %v", err)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		tb.Fatalf("load schema: %v", err)
	}
	return schema
}

// TestEventNamesThatCanMatch: matching is exact, so a "*" anywhere but
// alone would make a webhook that never fires; such names are refused, in
// webhooks and in the events filter.
func TestEventNamesThatCanMatch(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	for _, name := range []string{"order.*", "a*", "*.created", "**", "order.*.paid"} {
		resp := ts.admin.do(t, createWebhookMutation, map[string]any{"in": map[string]any{"url": "https://example.com/h", "events": []string{name}}})
		e := wantError(t, resp, "BAD_USER_INPUT", "events")
		if !strings.Contains(e.Message, "alone") {
			t.Errorf("events [%q]: message %q does not say that * stands alone", name, e.Message)
		}
		resp = ts.admin.do(t, `query($e: String!) { webhooks(filter: {event: $e}) { totalCount } }`, map[string]any{"e": name})
		wantError(t, resp, "BAD_USER_INPUT", "filter.event")
	}
	w, _ := ts.admin.createWebhook(t, map[string]any{"url": "https://example.com/h", "events": []string{"*", "order.created"}})
	if len(w.Events) != 2 {
		t.Errorf("events = %v; want the lone * kept beside a name", w.Events)
	}
}

// TestErrorsDoNotEchoInput: an error quotes at most the first 200 bytes of
// a bad value.
func TestErrorsDoNotEchoInput(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	huge := strings.Repeat("x y", 100<<10/3)
	cases := []struct {
		name  string
		query string
		vars  map[string]any
		field string
	}{
		{"EventType", `mutation($t: String!) { publishEvent(input: {type: $t, payload: {}}) { id } }`, map[string]any{"t": huge}, "type"},
		{"WebhookEvents", createWebhookMutation, map[string]any{"in": map[string]any{"url": "https://example.com/h", "events": []string{huge}}}, "events"},
		{"HeaderName", createWebhookMutation, map[string]any{"in": map[string]any{"url": "https://example.com/h", "events": []string{"a"}, "headers": oneHeader(huge, "v")}}, "headers"},
		{"FilterKey", createWebhookMutation, map[string]any{"in": map[string]any{"url": "https://example.com/h", "events": []string{"a"}, "filters": map[string]any{huge: "v"}}}, "filters"},
		{"Enum", `mutation($r: ApiKeyRole) { createApiKey(owner: "acme", role: $r) { key } }`, map[string]any{"r": huge}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := ts.admin.do(t, tc.query, tc.vars)
			if len(resp.Errors) == 0 {
				t.Fatalf("want an error, got %s", resp.Data)
			}
			e := resp.Errors[0]
			if tc.field != "" && e.Extensions["field"] != tc.field {
				t.Errorf("field = %v; want %s (message %.300q)", e.Extensions["field"], tc.field, e.Message)
			}
			if len(e.Message) > 500 {
				t.Errorf("message is %d bytes; want the value cut to 200: %.300q", len(e.Message), e.Message)
			}
		})
	}
}

// TestFilterBounds: filter keys, values and the whole filters object have
// size limits.
func TestFilterBounds(t *testing.T) {
	ts := newTestServer(t, "sqlite://:memory:")
	many := make([]any, model.MaxFilterValues)
	for i := range many {
		many[i] = strings.Repeat("v", model.MaxFilterValueBytes-4) + fmt.Sprint(1000+i)
	}
	manyKeys := map[string]any{} // 50 keys × 3 values of 500 bytes: 75 KB
	for i := range model.MaxFilterKeys {
		manyKeys[fmt.Sprintf("k%d", i)] = many[:3]
	}
	refused := map[string]map[string]any{
		"KeyTooLong":   {strings.Repeat("k", model.MaxFilterKeyBytes+1): []any{"1"}},
		"ValueTooLong": {"awb": []any{strings.Repeat("1", model.MaxFilterValueBytes+1)}},
		"Value500KB":   {"awb": []any{strings.Repeat("1", 500<<10)}},
		"TooLarge":     manyKeys,
	}
	for name, filters := range refused {
		t.Run("Err"+name, func(t *testing.T) {
			resp := ts.admin.do(t, createWebhookMutation, map[string]any{"in": map[string]any{"url": "https://example.com/h", "events": []string{"a"}, "filters": filters}})
			wantError(t, resp, "BAD_USER_INPUT", "filters")
		})
	}
	t.Run("OK/AtTheLimits", func(t *testing.T) {
		ts.admin.createWebhook(t, map[string]any{"url": "https://example.com/h", "events": []string{"a"}, "filters": map[string]any{
			strings.Repeat("k", model.MaxFilterKeyBytes): []any{strings.Repeat("1", model.MaxFilterValueBytes)},
			"dcId": many[:20],
		}})
	})
}

const createWebhookMutation = `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { webhook { id } } }`
