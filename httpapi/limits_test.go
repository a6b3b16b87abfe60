package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	gqlcomplexity "github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/graph"
	"github.com/hookline/hookline/model"
)

// testSchema is the executable schema with Hookline's prices and no resolvers.
var testSchema = graph.NewExecutableSchema(graph.Config{Complexity: complexity(DefaultConfig().MaxBodyBytes)})

// operation parses and validates query against the schema, as the
// executor does, and returns its first operation with the document's
// fragments and the variables coerced from vars (JSON).
func operation(tb testing.TB, query, vars string) (*ast.OperationDefinition, ast.FragmentDefinitionList, map[string]any) {
	tb.Helper()
	op, frags, vs, err := tryOperation(query, vars)
	if err != nil {
		tb.Fatalf("%v\nquery: %s", err, query)
	}
	return op, frags, vs
}

func tryOperation(query, vars string) (*ast.OperationDefinition, ast.FragmentDefinitionList, map[string]any, error) {
	doc, errs := gqlparser.LoadQuery(testSchema.Schema(), query)
	if errs != nil {
		return nil, nil, nil, errs
	}
	if len(doc.Operations) == 0 {
		return nil, nil, nil, fmt.Errorf("no operation")
	}
	raw := map[string]any{}
	if vars != "" {
		d := json.NewDecoder(strings.NewReader(vars))
		d.UseNumber()
		if err := d.Decode(&raw); err != nil {
			return nil, nil, nil, err
		}
	}
	op := doc.Operations[0]
	vs, err := validator.VariableValues(testSchema.Schema(), op, raw)
	if err != nil {
		return nil, nil, nil, err
	}
	return op, doc.Fragments, vs, nil
}

// calculate is gqlgen's cost of op; ok is false when it panicked.
func calculate(op *ast.OperationDefinition, vars map[string]any) (cost int, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return gqlcomplexity.Calculate(context.Background(), testSchema, op, vars), true
}

func ptr(n int) *int { return &n }

func TestPageCost(t *testing.T) {
	for _, tc := range []struct {
		child       int
		first, last *int
		want        int
	}{
		{3, nil, nil, 1 + model.DefaultPageSize*3},
		{3, ptr(100), nil, 301},
		{3, nil, ptr(7), 22},
		{3, ptr(2), ptr(7), 22},
		{3, ptr(0), nil, 4},
		{3, ptr(-5), nil, 4},
		{0, ptr(100), nil, 1},
		{33, ptr(288230376151709435), nil, math.MaxInt},
		{4611686018427387904, ptr(2), nil, math.MaxInt},
		{math.MaxInt, ptr(1), nil, math.MaxInt},
		{math.MaxInt, nil, nil, math.MaxInt},
		{math.MaxInt/100 + 1, ptr(100), nil, math.MaxInt},
		{math.MaxInt/100 - 1, ptr(100), nil, (math.MaxInt/100-1)*100 + 1},
		{-1, ptr(100), nil, 1},
	} {
		if got := pageCost(tc.child, tc.first, tc.last); got != tc.want {
			t.Errorf("pageCost(%d, %v, %v) = %d; want %d", tc.child, deref(tc.first), deref(tc.last), got, tc.want)
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSaturatingArithmetic(t *testing.T) {
	for _, tc := range []struct{ a, b, sum, product int }{
		{0, 0, 0, 0},
		{2, 3, 5, 6},
		{math.MaxInt, 0, math.MaxInt, 0},
		{math.MaxInt, 1, math.MaxInt, math.MaxInt},
		{math.MaxInt - 1, 1, math.MaxInt, math.MaxInt - 1},
		{1 << 32, 1 << 31, 1<<32 + 1<<31, math.MaxInt},
		{1 << 32, 1 << 32, 1 << 33, math.MaxInt},
		{-7, 5, 5, 0},
	} {
		if got := satAdd(tc.a, tc.b); got != tc.sum {
			t.Errorf("satAdd(%d, %d) = %d; want %d", tc.a, tc.b, got, tc.sum)
		}
		if got := satMul(tc.a, tc.b); got != tc.product {
			t.Errorf("satMul(%d, %d) = %d; want %d", tc.a, tc.b, got, tc.product)
		}
	}
}

// The cost of a page nested in a page with a count near 2^58 saturates
// instead of wrapping around to a small number.
func TestComplexityDoesNotWrap(t *testing.T) {
	// 64 × (3 + 3 × (2^58 − 1)) = 3 × 2^64: in 64 bits, the cost wrapped to 1.
	for _, n := range []string{"288230376151711743", "288230376151709435", "4611686018427387904", "9223372036854775807"} {
		q := `{ webhooks(first: 64) { edges { node { deliveries(first: ` + n + `) { edges { node { id } } } } } } }`
		op, _, vars := operation(t, q, "")
		got, ok := calculate(op, vars)
		if !ok || got <= complexityLimit {
			t.Errorf("deliveries(first: %s) under webhooks(first: 64): cost %d (computed: %v); want over %d", n, got, ok, complexityLimit)
		}
	}
}

func TestCheckShape(t *testing.T) {
	for _, tc := range []struct {
		name, query, vars string
		field             string // of the error, for argument errors
		message           string // in the error; "" when the operation is accepted
	}{
		{"OK/Pages", `{ webhooks(first: 100) { edges { node { id } } } events(last: 0) { totalCount } }`, "", "", ""},
		{"OK/AttemptsDefault", `{ delivery(id: "d") { attempts { id } } }`, "", "", ""},
		{"OK/Attempts1And100", `{ a: delivery(id: "d") { attempts(last: 1) { id } } b: delivery(id: "d") { attempts(last: 100) { id } } }`, "", "", ""},
		{"OK/VariableAbsent", `query($n: Int) { events(first: $n) { totalCount } }`, "", "", ""},
		{"OK/VariableInRange", `query($n: Int) { events(first: $n) { totalCount } }`, `{"n": 100}`, "", ""},
		{"OK/BigNumberInPayloadVariable", `mutation($p: JSON!) { publishEvent(input: {type: "a", payload: $p}) { id } }`, `{"p": {"n": 1e400}}`, "", ""},

		{"ErrFirstHuge", `{ webhooks(first: 64) { edges { node { deliveries(first: 288230376151709435) { totalCount } } } } }`, "", "first", "Webhook.deliveries must be between 0 and 100"},
		{"ErrFirstOver64Bits", `{ events(first: 99999999999999999999) { totalCount } }`, "", "first", "cannot represent"},
		{"ErrFirst101", `{ events(first: 101) { totalCount } }`, "", "first", "Query.events must be between 0 and 100"},
		{"ErrFirstNegative", `{ deliveries(first: -1) { totalCount } }`, "", "first", "between 0 and 100"},
		{"ErrLast101", `{ webhooks(last: 101) { totalCount } }`, "", "last", "Query.webhooks must be between 0 and 100"},
		{"ErrApiKeysLast", `{ apiKeys(last: 1000) { totalCount } }`, "", "last", "Query.apiKeys"},
		{"ErrOwnersFirst", `{ owners(first: 101) { totalCount } }`, "", "first", "Query.owners"},
		{"ErrAttempts0", `{ delivery(id: "d") { attempts(last: 0) { id } } }`, "", "last", "Delivery.attempts must be between 1 and 100"},
		{"ErrAttempts101", `{ delivery(id: "d") { attempts(last: 101) { id } } }`, "", "last", "Delivery.attempts must be between 1 and 100"},
		{"ErrVariableHuge", `query($n: Int) { events(first: $n) { totalCount } }`, `{"n": 288230376151709435}`, "first", "between 0 and 100"},
		{"ErrVariableOver64Bits", `query($n: Int) { events { edges { node { deliveries(last: $n) { totalCount } } } } }`, `{"n": 99999999999999999999}`, "", "cannot use value"},
		{"ErrInFragment", `{ ...F } fragment F on Query { events { edges { node { ...D } } } } fragment D on Event { deliveries(first: 1000) { totalCount } }`, "", "first", "Event.deliveries"},
		{"ErrInNode", `{ node(id: "x") { ... on Delivery { attempts(last: 500) { id } } } }`, "", "last", "Delivery.attempts"},
		{"ErrNumberInPayloadLiteral", `mutation { publishEvent(input: {type: "a", payload: {n: 99999999999999999999}}) { id } }`, "", "input", "Expected value"},
		{"ErrFloatInPayloadLiteral", `mutation { publishEvent(input: {type: "a", payload: {n: 1e400}}) { id } }`, "", "input", "Expected value"},

		{"OK/20RootFieldsThroughFragments", `{ ` + aliases(10, "me { id }") + ` ...F ...F ... on Query { ...F } } fragment F on Query { ` + aliases(20, "me { id }") + ` }`, "", "", ""},
		{"OK/5PublishingFields", `mutation { ... on Mutation { ...P ...P } } fragment P on Mutation { ` + aliases(5, publishing) + ` }`, "", "", ""},
		{"ErrRootFieldsInInlineFragment", `{ ... on Query { ` + aliases(1000, "me { id }") + ` } }`, "", "", "1000 root fields; at most 20"},
		{"ErrRootFieldsInNamedFragment", `query { ...F } fragment F on Query { ` + aliases(21, "me { id }") + ` }`, "", "", "21 root fields"},
		{"ErrRootFieldsInNestedFragments", `{ a: me { id } ...F } fragment F on Query { ... on Query { ...G } } fragment G on Query { ` + aliases(20, "owner") + ` }`, "", "", "21 root fields"},
		{"ErrMutationRootFieldsInFragment", `mutation { ...P } fragment P on Mutation { ` + aliases(25, publishing) + ` }`, "", "", "25 root fields"},
		{"ErrPublishingFieldsInFragment", `mutation { ...P } fragment P on Mutation { ` + aliases(6, publishing) + ` }`, "", "", "6 publishing fields"},
		{"ErrPublishingFieldsMixed", `mutation { a: publishEvent(input: {type: "a", payload: {}}) { id } ... on Mutation { b: broadcastEvent(input: {type: "a", payload: {}}) { ownerCount } } ...P } fragment P on Mutation { ` + aliases(4, publishing) + ` }`, "", "", "6 publishing fields"},
		{"ErrSubscriptionRootFieldsInFragment", `subscription { ...S } fragment S on Subscription { ` + aliases(21, "deliveryUpdated { id }") + ` }`, "", "", "root field"},

		{"ErrDepth", `{ deliveries { edges { node { event { deliveries { edges { node { event { deliveries { edges { node { event { id } } } } } } } } } } } } }`, "", "", "13 levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, frags, vars, err := tryOperation(tc.query, tc.vars)
			if err != nil {
				// Refused before shapeLimit runs, as the executor does.
				if tc.message == "" || !strings.Contains(err.Error(), tc.message) {
					t.Fatalf("validation: %v; want it accepted or refused with %q", err, tc.message)
				}
				return
			}
			e := checkShape(op, frags, vars)
			if tc.message == "" {
				if e != nil {
					t.Fatalf("checkShape = %v; want nil", e)
				}
				if cost, ok := calculate(op, vars); !ok {
					t.Errorf("the cost of an accepted operation panicked (got %d)", cost)
				}
				return
			}
			wantLimitError(t, e, tc.field, tc.message)
		})
	}
}

// publishing is a publishEvents field creating four events.
const publishing = `publishEvents(inputs: [{type: "a", payload: {}}, {type: "a", payload: {}}, {type: "a", payload: {}}, {type: "a", payload: {}}]) { id }`

// aliases returns n copies of field, aliased a0 to a<n-1>.
func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	return b.String()
}

// wantLimitError checks that e is a BAD_USER_INPUT error whose message
// holds message and which names field, when field is not empty.
func wantLimitError(t *testing.T, e *gqlerror.Error, field, message string) {
	t.Helper()
	if e == nil {
		t.Fatalf("checkShape = nil; want an error with %q", message)
	}
	if !strings.Contains(e.Message, message) || e.Extensions["code"] != model.CodeBadUserInput {
		t.Errorf("error %q, code %v; want BAD_USER_INPUT with %q", e.Message, e.Extensions["code"], message)
	}
	if field != "" && (e.Extensions["field"] != field || !strings.HasPrefix(e.Message, field+" ")) {
		t.Errorf("error %q, field %v; want it to name %s", e.Message, e.Extensions["field"], field)
	}
}

// fanOut returns a query whose fragments spread the next one ten times
// each, levels deep: it expands to 10^levels fields.
func fanOut(levels int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Query { %s}\n", i, strings.Repeat(fmt.Sprintf("...F%d ", i+1), 10))
	}
	fmt.Fprintf(&b, "fragment F%d on Query { me { id } }\n", levels)
	return b.String()
}

// Fragments that spread one another expand exponentially; the selections
// are counted with each fragment measured once and refused before
// gqlgen's walk, which visits every expansion, computes the cost.
func TestSelectionsExpandedFromFragments(t *testing.T) {
	op, frags, vars := operation(t, fanOut(3), "")
	if e := checkShape(op, frags, vars); e != nil {
		t.Fatalf("checkShape(1,000 fields through fragments) = %v; want nil", e)
	}
	op, frags, vars = operation(t, fanOut(12), "")
	wantLimitError(t, checkShape(op, frags, vars), "", "at most 20000 are allowed")
	if got := measure(op.SelectionSet, frags); got.depth != 2 || got.selections <= 1e12 {
		t.Errorf("measure(10^12 fields) = %+v; want depth 2 and over 10^12 selections", got)
	}
}

// trueCost prices set by the rules complexity() sets out, in exact
// arithmetic and independently of gqlgen's walk. failed reports a priced
// field whose arguments the generated code cannot read: gqlgen then prices
// it as a plain field (1 + child), which is safe because such a field fails
// when executed and nothing below it runs; trueCost prices it at 1.
type trueCost struct {
	vars   map[string]any
	failed bool
}

func (c *trueCost) set(set ast.SelectionSet) *big.Int {
	sum := new(big.Int)
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			sum.Add(sum, c.field(s))
		case *ast.InlineFragment:
			sum.Add(sum, c.set(s.SelectionSet))
		case *ast.FragmentSpread:
			sum.Add(sum, c.set(s.Definition.SelectionSet))
		}
	}
	return sum
}

func (c *trueCost) field(f *ast.Field) *big.Int {
	schema := testSchema.Schema()
	typ := schema.Types[f.Definition.Type.Name()]
	if typ.Name == "__Schema" {
		return new(big.Int)
	}
	child := new(big.Int)
	switch typ.Kind {
	case ast.Object, ast.Interface, ast.Union:
		child = c.set(f.SelectionSet)
	}
	args := f.ArgumentMap(c.vars)
	if f.ObjectDefinition.Kind != ast.Interface {
		return c.price(f.ObjectDefinition.Name, f.Name, child, args)
	}
	most := new(big.Int) // an interface's field costs what its dearest implementation's does
	for _, impl := range schema.GetPossibleTypes(f.ObjectDefinition) {
		if p := c.price(impl.Name, f.Name, child, args); p.Cmp(most) > 0 {
			most = p
		}
	}
	return most
}

// pagedFields are the fields priced by their page size.
var pagedFields = map[string]bool{
	"Query.webhooks": true, "Query.events": true, "Query.deliveries": true, "Query.apiKeys": true, "Query.owners": true,
	"Webhook.deliveries": true, "Event.deliveries": true, "Delivery.attempts": true,
}

// sizedFields are the fields priced by the most bytes they hold, with that most.
var sizedFields = map[string]int64{
	"Event.payload":                   DefaultConfig().MaxBodyBytes,
	"DeliveryAttempt.requestBody":     DefaultConfig().MaxBodyBytes,
	"DeliveryAttempt.responseBody":    outbound.MaxResponseBody,
	"DeliveryAttempt.responseHeaders": outbound.MaxResponseHeaderBytes,
	"DeliveryAttempt.requestHeaders":  model.MaxHeaders*model.MaxHeaderValueBytes + 2*model.MaxTokenBytes,
	"Webhook.headers":                 model.MaxHeaders*model.MaxHeaderValueBytes + 2*model.MaxTokenBytes,
}

// price is the cost of object.field with child below it.
func (c *trueCost) price(object, field string, child *big.Int, args map[string]any) *big.Int {
	one := big.NewInt(1)
	name := object + "." + field
	if pagedFields[name] || name == "Mutation.publishEvents" {
		if _, ok := testSchema.Complexity(context.Background(), object, field, 0, args); !ok {
			c.failed = true
			return one
		}
	}
	switch {
	case pagedFields[name]:
		n := model.DefaultPageSize
		first, hasFirst := pageArg(args, "first")
		last, hasLast := pageArg(args, "last")
		switch {
		case hasFirst && hasLast:
			n = max(first, last)
		case hasFirst:
			n = first
		case hasLast:
			n = last
		}
		return one.Add(one, new(big.Int).Mul(big.NewInt(int64(max(n, 1))), child))
	case sizedFields[name] > 0:
		units := (sizedFields[name] + 4095) / 4096 // one unit per 4 KiB, or part of one
		return new(big.Int).Add(big.NewInt(min(1+units, 1000)), child)
	case name == "Mutation.publishEvents":
		n := 1
		if l, ok := args["inputs"].([]any); ok {
			n = max(len(l), 1)
		}
		return one.Add(one, new(big.Int).Mul(big.NewInt(int64(n)), child))
	}
	return one.Add(one, child)
}

// pageArg reads a page size argument as the executor does.
func pageArg(args map[string]any, name string) (int, bool) {
	v, ok := args[name]
	if !ok || v == nil {
		return 0, false
	}
	n, err := graphql.UnmarshalInt(v)
	return n, err == nil
}

// FuzzComplexity feeds documents (and variables) to the limits and the
// cost. Whatever the document, nothing panics once shapeLimit accepts it,
// and the cost is never below the true cost: it equals it, saturated at
// math.MaxInt, unless a priced field's arguments cannot be read; either
// way a true cost over the limit is computed as over the limit.
func FuzzComplexity(f *testing.F) {
	for _, seed := range [][2]string{
		{`{ me { id } }`, ``},
		{`{ webhooks(first: 64) { edges { node { deliveries(first: 288230376151709435) { edges { node { id } } } } } } }`, ``},
		{`{ webhooks(first: 100) { edges { node { deliveries(first: 100) { edges { node { attempts { id } } } } } } } }`, ``},
		{`query($n: Int, $m: Int) { events(first: $n) { edges { node { deliveries(last: $m) { totalCount edges { node { attempts(last: $m) { id } } } } } } } }`, `{"n": 4611686018427387904, "m": 3}`},
		{`query($n: Int) { deliveries(first: $n) { edges { node { attempts(last: $n) { id requestBody } } } } }`, `{"n": -9223372036854775808}`},
		{`{ a: events(first: 9223372036854775807) { edges { node { deliveries(first: 9223372036854775807) { edges { node { id } } } } } } b: events(first: 2) { totalCount } }`, ``},
		{`{ ...F } fragment F on Query { webhooks(last: 3) { edges { node { ...W } } } } fragment W on Webhook { deliveries(first: 50) { edges { node { id event { id payload } } } } }`, ``},
		{`{ node(id: "x") { id ... on Delivery { attempts(last: 100) { responseBody } } ... on Event { deliveries { totalCount } } } }`, ``},
		{`{ apiKeys(first: 100) { edges { node { id } } } owners(first: 100) { edges { node { name } } } }`, ``},
		{`{ events(filter: {since: "not a time"}, first: 100) { edges { node { deliveries(first: 100) { edges { node { id } } } } } } }`, ``},
		{`mutation($in: [PublishEventInput!]!) { publishEvents(inputs: $in) { id deliveries(first: 100) { totalCount } } }`, `{"in": [{"type": "a", "payload": {}}, {"type": "b", "payload": {}}]}`},
		{`mutation { publishEvent(input: {type: "a", payload: {n: 99999999999999999999}}) { id } }`, ``},
		{`{ __schema { types { name fields { name } } } __typename }`, ``},
		{fanOut(4), ``},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, query, vars string) {
		op, frags, vs, err := tryOperation(query, vars)
		if err != nil {
			return
		}
		shapeErr := checkShape(op, frags, vs)
		if measure(op.SelectionSet, frags).selections > maxSelections {
			if shapeErr == nil {
				t.Fatalf("checkShape accepted an operation over %d selections", maxSelections)
			}
			return // computing the cost would take too long
		}
		got, ok := calculate(op, vs)
		if !ok {
			if shapeErr == nil {
				t.Fatalf("computing the cost panicked on an operation checkShape accepts")
			}
			return // an unreadable number: checkShape refuses it first
		}
		c := &trueCost{vars: vs}
		want := c.set(op.SelectionSet)
		if limit := big.NewInt(complexityLimit); want.Cmp(limit) > 0 && got <= complexityLimit {
			t.Fatalf("cost %d; the true cost %s is over the limit", got, want)
		}
		saturated := want
		if !want.IsInt64() || want.Int64() > math.MaxInt {
			saturated = big.NewInt(math.MaxInt)
		}
		if c.failed {
			if big.NewInt(int64(got)).Cmp(saturated) < 0 {
				t.Fatalf("cost %d; below the true cost %s", got, want)
			}
			return
		}
		if big.NewInt(int64(got)).Cmp(saturated) != 0 {
			t.Fatalf("cost %d; want the true cost %s", got, want)
		}
	})
}

func TestSizeCost(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want int
	}{
		{0, 1}, {1, 2}, {4 << 10, 2}, {4<<10 + 1, 3}, {64 << 10, 17}, {1 << 20, 257}, {-5, 1},
		{4 << 20, 1000}, {64 << 20, 1000}, {math.MaxInt64, 1000},
	} {
		if got := sizeCost(tc.n); got != tc.want {
			t.Errorf("sizeCost(%d) = %d; want %d", tc.n, got, tc.want)
		}
	}
}

// fieldContext is the context of resolving object.field.
func fieldContext(ctx context.Context, object, field string) context.Context {
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: object, Field: graphql.CollectedField{Field: &ast.Field{Name: field}}})
}

// Whatever the request body limit, one payload can be asked for and read.
func TestLargeBodyLimit(t *testing.T) {
	es := graph.NewExecutableSchema(graph.Config{Complexity: complexity(1 << 30)})
	op, _, vars := operation(t, `{ event(id: "e") { payload } events(first: 10) { edges { node { payload } } } }`, "")
	if got := gqlcomplexity.Calculate(context.Background(), es, op, vars); got > complexityLimit {
		t.Errorf("11 payloads with a 1 GiB body limit cost %d; want within %d", got, complexityLimit)
	}
	if got := newResponseBudget(1 << 30).max; got != 2<<30 {
		t.Errorf("budget with a 1 GiB body limit = %d; want 2 GiB", got)
	}
	if got := newResponseBudget(1 << 20).max; got != 8<<20 {
		t.Errorf("budget with a 1 MiB body limit = %d; want 8 MiB", got)
	}
}

func TestResponseBudget(t *testing.T) {
	b := responseBudget{max: 100}
	resolve := func(ctx context.Context, object, field string, v any) error {
		_, err := b.InterceptField(fieldContext(ctx, object, field), func(context.Context) (any, error) { return v, nil })
		return err
	}
	payload := model.JSON(`{"blob":"` + strings.Repeat("x", 30) + `"}`) // 41 bytes
	b.InterceptResponse(context.Background(), func(ctx context.Context) *graphql.Response {
		if err := resolve(ctx, "Event", "type", strings.Repeat("t", 1000)); err != nil {
			t.Errorf("a small field: %v; want it not counted", err)
		}
		for i, want := range []bool{true, true, false, false} {
			err := resolve(ctx, "Event", "payload", payload)
			if ok := err == nil; ok != want {
				t.Errorf("payload %d of 41 bytes within 100: error %v; want ok = %v", i+1, err, want)
			}
			if err != nil && (model.ErrorCode(err) != model.CodeTooLarge || !strings.Contains(err.Error(), "ask for fewer")) {
				t.Errorf("error %v; want TOO_LARGE saying to ask for fewer", err)
			}
		}
		return nil
	})
	// Each response, each subscription message, has its own budget; every
	// field holding many bytes counts.
	for _, tc := range []struct {
		object, field string
		value         any
	}{
		{"Event", "payload", model.Event{Payload: payload}.Payload},
		{"DeliveryAttempt", "requestBody", model.DeliveryAttempt{RequestBody: string(payload)}.RequestBody},
		{"DeliveryAttempt", "responseBody", model.DeliveryAttempt{ResponseBody: string(payload)}.ResponseBody},
		{"DeliveryAttempt", "requestHeaders", model.DeliveryAttempt{RequestHeaders: []model.Header{{Name: "X-Blob", Value: string(payload)}}}.RequestHeaders},
		{"DeliveryAttempt", "responseHeaders", model.DeliveryAttempt{ResponseHeaders: []model.Header{{Name: "X-Blob", Value: string(payload)}}}.ResponseHeaders},
		{"Webhook", "headers", model.Webhook{Headers: []model.Header{{Name: "X-Blob", Value: string(payload)}}}.Headers},
	} {
		b.InterceptResponse(context.Background(), func(ctx context.Context) *graphql.Response {
			if err := resolve(ctx, tc.object, tc.field, tc.value); err != nil {
				t.Errorf("%s.%s: %v; want the first within the budget", tc.object, tc.field, err)
			}
			if err := resolve(ctx, tc.object, tc.field, tc.value); err != nil {
				t.Errorf("%s.%s: %v; want the second within the budget", tc.object, tc.field, err)
			}
			if err := resolve(ctx, tc.object, tc.field, tc.value); model.ErrorCode(err) != model.CodeTooLarge {
				t.Errorf("%s.%s: %v; want the third over the budget", tc.object, tc.field, err)
			}
			return nil
		})
	}
}
