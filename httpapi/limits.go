package httpapi

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"github.com/hookline/hookline/delivery/outbound"
	"github.com/hookline/hookline/graph"
	"github.com/hookline/hookline/model"
)

// GraphQL request limits.
const (
	maxQueryDepth = 12
	maxRootFields = 20
	// maxPublishFields caps the root fields that publish (publishEvent,
	// publishEvents, broadcastEvent) in one operation.
	maxPublishFields = 5
	complexityLimit  = 20000
	// maxSelections bounds the selections of an operation with its
	// fragments expanded, which is what computing its cost visits: a few
	// fragments spreading one another ten times each expand to millions.
	maxSelections    = complexityLimit
	parserTokenLimit = 15000
	// sizeUnit is what a field may hold for each unit of its cost: a
	// field of up to 1 MiB costs 257, as much as 257 small fields.
	sizeUnit = 4 << 10
	// maxFieldCost caps the cost of one field priced by its size, so that
	// one payload can be asked for whatever the request body limit is.
	maxFieldCost = complexityLimit / 20
	// maxResponseBytes bounds the payloads, attempt bodies and headers one
	// response (one subscription message) holds, unless twice the request
	// body limit is more: the cost prices them by the most they can hold,
	// this by what they hold.
	maxResponseBytes = 8 << 20
	// maxHeaderBytes is the most a webhook's headers hold, tokens included.
	maxHeaderBytes = model.MaxHeaders*model.MaxHeaderValueBytes + 2*model.MaxTokenBytes
)

// publishingFields are the mutations that store events.
var publishingFields = map[string]bool{"publishEvent": true, "publishEvents": true, "broadcastEvent": true}

// shapeLimit refuses, before the cost is computed and before any resolver
// runs, operations with more than maxRootFields root fields or more than
// maxPublishFields publishing ones (aliases make one request do the work of
// many; fragments count as the fields they hold), nested deeper than
// maxQueryDepth, with more than maxSelections selections once fragments
// are expanded, or with arguments the cost cannot be computed from: a page
// size (first, last) out of its range, or a number too large to read. It
// must run before the complexity limit. Its errors are BAD_USER_INPUT;
// those about an argument name it in extensions.field.
type shapeLimit struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (shapeLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	return checkShape(oc.Operation, oc.Doc.Fragments, oc.Variables)
}

// checkShape returns the BAD_USER_INPUT error shapeLimit answers op with,
// or nil when op is within the limits.
func checkShape(op *ast.OperationDefinition, fragments ast.FragmentDefinitionList, vars map[string]any) *gqlerror.Error {
	roots := rootFields(op.SelectionSet, fragments)
	if n := len(roots); n > maxRootFields {
		return limitError(fmt.Sprintf("operation has %d root fields; at most %d are allowed", n, maxRootFields))
	}
	publishing := 0
	for _, f := range roots {
		if publishingFields[f.Name] {
			publishing++
		}
	}
	if publishing > maxPublishFields {
		return limitError(fmt.Sprintf("operation has %d publishing fields (publishEvent, publishEvents, broadcastEvent); at most %d are allowed", publishing, maxPublishFields))
	}
	e := measure(op.SelectionSet, fragments)
	if e.depth > maxQueryDepth {
		return limitError(fmt.Sprintf("operation is nested %d levels deep; at most %d are allowed", e.depth, maxQueryDepth))
	}
	if e.selections > maxSelections {
		return limitError(fmt.Sprintf("operation has %d selections once its fragments are expanded; at most %d are allowed", e.selections, maxSelections))
	}
	if err := introspectionShape(op.SelectionSet, fragments); err != nil {
		return err
	}
	return checkArguments(op.SelectionSet, fragments, vars, map[string]bool{})
}

func limitError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": model.CodeBadUserInput}}
}

func argumentError(field, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: field + " " + msg, Extensions: map[string]any{"code": model.CodeBadUserInput, "field": field}}
}

// rootFields returns the fields set runs at its root, one for each
// response key (alias or name) as the executor merges them, with inline
// fragments and fragment spreads expanded. Each named fragment is expanded
// once, so fragment cycles cannot loop.
func rootFields(set ast.SelectionSet, fragments ast.FragmentDefinitionList) []*ast.Field {
	var fields []*ast.Field
	keys := map[string]bool{}
	expanded := map[string]bool{}
	var collect func(ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				if !keys[key] {
					keys[key] = true
					fields = append(fields, s)
				}
			case *ast.InlineFragment:
				collect(s.SelectionSet)
			case *ast.FragmentSpread:
				if expanded[s.Name] {
					continue
				}
				expanded[s.Name] = true
				if f := fragments.ForName(s.Name); f != nil {
					collect(f.SelectionSet)
				}
			}
		}
	}
	collect(set)
	return fields
}

// extent is how far a selection set reaches once its fragments are
// expanded: how deep its fields nest and how many selections it has
// (fields, inline fragments and fragment spreads; __schema's count as one,
// as the complexity does not look inside).
type extent struct{ depth, selections int }

// measure returns set's extent. Each named fragment is measured once, so
// the work is linear in the document however often fragments spread one
// another (gqlgen's own complexity walk is not, which is why the
// selections are limited before it runs), and cycles cannot loop.
func measure(set ast.SelectionSet, fragments ast.FragmentDefinitionList) extent {
	m := measurer{fragments: fragments, done: map[string]extent{}, open: map[string]bool{}}
	return m.set(set)
}

type measurer struct {
	fragments ast.FragmentDefinitionList
	done      map[string]extent
	open      map[string]bool // fragments being measured: spreading one again is a cycle
}

func (m *measurer) set(set ast.SelectionSet) extent {
	var out extent
	for _, sel := range set {
		var e extent
		switch s := sel.(type) {
		case *ast.Field:
			if isIntrospection(s) {
				// One level and one selection here: introspectionShape
				// measures what is below, and the complexity does not
				// look inside.
				e = extent{depth: 1, selections: 1}
				break
			}
			e = m.set(s.SelectionSet)
			e.depth++
		case *ast.InlineFragment:
			e = m.set(s.SelectionSet)
		case *ast.FragmentSpread:
			e = m.fragment(s.Name)
		}
		out.depth = max(out.depth, e.depth)
		out.selections = satAdd(out.selections, satAdd(e.selections, 1))
	}
	return out
}

func (m *measurer) fragment(name string) extent {
	if e, ok := m.done[name]; ok {
		return e
	}
	if m.open[name] {
		return extent{} // validation refuses cycles before this runs
	}
	m.open[name] = true
	var e extent
	if f := m.fragments.ForName(name); f != nil {
		e = m.set(f.SelectionSet)
	}
	delete(m.open, name)
	m.done[name] = e
	return e
}

// checkArguments checks the arguments of every field below set, each named
// fragment once (expanded records those seen): every value must be
// readable, and every page size (first, last) within its range,
// pageSizeMin to model.MaxPageSize.
func checkArguments(set ast.SelectionSet, fragments ast.FragmentDefinitionList, vars map[string]any, expanded map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		var err *gqlerror.Error
		switch s := sel.(type) {
		case *ast.Field:
			if err = checkFieldArguments(s, vars); err == nil {
				err = checkArguments(s.SelectionSet, fragments, vars, expanded)
			}
		case *ast.InlineFragment:
			err = checkArguments(s.SelectionSet, fragments, vars, expanded)
		case *ast.FragmentSpread:
			if expanded[s.Name] {
				continue
			}
			expanded[s.Name] = true
			if f := fragments.ForName(s.Name); f != nil {
				err = checkArguments(f.SelectionSet, fragments, vars, expanded)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pageSizeMin is the smallest page size a list field takes, when not 0.
var pageSizeMin = map[string]int{"Delivery.attempts": 1}

func checkFieldArguments(f *ast.Field, vars map[string]any) *gqlerror.Error {
	for _, arg := range f.Arguments {
		v, err := arg.Value.Value(vars)
		if err != nil {
			// Validation refuses numbers beyond 64 bits already; one
			// getting through would make gqlgen's cost panic.
			return argumentError(arg.Name, "holds a number out of range")
		}
		if f.Definition == nil || v == nil || (arg.Name != "first" && arg.Name != "last") {
			continue
		}
		if def := f.Definition.Arguments.ForName(arg.Name); def == nil || def.Type.Name() != "Int" {
			continue
		}
		var object string
		if f.ObjectDefinition != nil {
			object = f.ObjectDefinition.Name
		}
		lo := pageSizeMin[object+"."+f.Name]
		// Read as the executor and the cost will read it.
		if n, err := graphql.UnmarshalInt(v); err != nil || n < lo || n > model.MaxPageSize {
			return argumentError(arg.Name, fmt.Sprintf("of %s.%s must be between %d and %d", object, f.Name, lo, model.MaxPageSize))
		}
	}
	return nil
}

// rateLimiter is a token bucket per API key.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token from the key's bucket, or says how long until one is there.
func (l *rateLimiter) allow(keyID string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	b, ok := l.buckets[keyID]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[keyID] = b
	}
	l.mu.Unlock()
	r := b.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

// ParseRate reads "100/s" or "6000/m", with an optional burst: "100/s,200".
// The burst defaults to one second's worth, at least 1.
func ParseRate(s string) (perSecond float64, burst int, err error) {
	spec, burstText, hasBurst := strings.Cut(s, ",")
	n, unit, ok := strings.Cut(strings.TrimSpace(spec), "/")
	count, err := strconv.ParseFloat(n, 64)
	// ParseFloat also reads "NaN" and "Inf", with which the limiter would
	// let everything through.
	if !ok || err != nil || !(count > 0) || math.IsInf(count, 0) {
		return 0, 0, fmt.Errorf("want a rate such as 100/s or 6000/m, optionally with a burst: 100/s,200")
	}
	switch unit {
	case "s":
		perSecond = count
	case "m":
		perSecond = count / 60
	case "h":
		perSecond = count / 3600
	default:
		return 0, 0, fmt.Errorf("rate unit %q: want s, m or h", unit)
	}
	burst = max(1, int(perSecond))
	if hasBurst {
		if burst, err = strconv.Atoi(strings.TrimSpace(burstText)); err != nil || burst < 1 {
			return 0, 0, fmt.Errorf("burst %q: want a positive integer", burstText)
		}
	}
	return perSecond, burst, nil
}

// connLimiter caps the websocket connections each API key holds open.
type connLimiter struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (c *connLimiter) acquire(keyID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[keyID] >= c.max {
		return false
	}
	c.open[keyID]++
	return true
}

func (c *connLimiter) release(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[keyID]--; c.open[keyID] <= 0 {
		delete(c.open, keyID)
	}
}

// complexity prices list fields by the page size they ask for, so that
// nested pages multiply: 100 webhooks × 100 deliveries each is 10,000
// nodes; and the fields that hold many bytes (payloads, attempt bodies,
// header lists) by the most they can hold, one unit per sizeUnit: an
// event's payload and the body sent with it hold up to maxPayloadBytes,
// the request body limit; no field costs over maxFieldCost. The arithmetic saturates at math.MaxInt, as
// gqlgen's sums do, so no request can wrap its cost around; shapeLimit
// has refused page sizes out of range before.
func complexity(maxPayloadBytes int64) graph.ComplexityRoot {
	var c graph.ComplexityRoot
	deliveries := func(child int, first *int, _ *string, last *int, _ *string, _ *model.DeliveryFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.Deliveries = deliveries
	c.Webhook.Deliveries = deliveries
	c.Event.Deliveries = deliveries
	c.Query.Webhooks = func(child int, first *int, _ *string, last *int, _ *string, _ *model.WebhookFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.Events = func(child int, first *int, _ *string, last *int, _ *string, _ *model.EventFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.APIKeys = func(child int, first *int, _ *string, last *int, _ *string, _ *model.APIKeyFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.Owners = func(child int, first *int, _ *string, _ *model.OwnerFilter) int {
		return pageCost(child, first, nil)
	}
	c.Delivery.Attempts = func(child int, last *int) int { return pageCost(child, nil, last) }
	c.Mutation.PublishEvents = func(child int, inputs []*model.PublishEventInput) int {
		return satAdd(1, satMul(max(len(inputs), 1), child))
	}

	payload := sizeCost(maxPayloadBytes)
	c.Event.Payload = func(int) int { return payload }
	c.DeliveryAttempt.RequestBody = func(int) int { return payload }
	c.DeliveryAttempt.ResponseBody = func(int) int { return sizeCost(outbound.MaxResponseBody) }
	c.DeliveryAttempt.ResponseHeaders = func(child int) int { return satAdd(sizeCost(outbound.MaxResponseHeaderBytes), child) }
	headers := func(child int) int { return satAdd(sizeCost(maxHeaderBytes), child) }
	c.DeliveryAttempt.RequestHeaders = headers
	c.Webhook.Headers = headers
	c.Query.WebhookStats = statsCost
	return c
}

// sizeCost is the cost of a field holding up to n bytes: 1 and a unit for
// each sizeUnit or part of one, at most maxFieldCost.
func sizeCost(n int64) int {
	units := max(n, 0) / sizeUnit
	if n%sizeUnit > 0 {
		units++
	}
	return int(min(1+units, maxFieldCost))
}

// pageCost is 1 plus child for each item of the page: the larger of first
// and last, model.DefaultPageSize when neither is given, at least 1.
func pageCost(child int, first, last *int) int {
	n := model.DefaultPageSize
	switch {
	case first != nil && last != nil:
		n = max(*first, *last)
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return satAdd(1, satMul(max(n, 1), child))
}

// satAdd returns a+b for non-negative a and b, or math.MaxInt when the sum
// does not fit; a negative operand counts as 0.
func satAdd(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// satMul returns a×b for non-negative a and b, or math.MaxInt when the
// product does not fit; a negative operand counts as 0.
func satMul(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if a != 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}

// responseBudget answers the fields that hold many bytes (payloads,
// attempt bodies, header lists) with TOO_LARGE once those of one response
// (one subscription message) hold more than max bytes: the cost limit
// prices them by the most they can hold, this by what they hold. The
// fields already resolved keep their values; a field answered with the
// error is null, and so are its non-null parents.
type responseBudget struct{ max int64 }

// newResponseBudget returns the budget for a request body limit of
// maxBodyBytes: maxResponseBytes, or twice the body limit when that is
// more, so that the largest payload can be read.
func newResponseBudget(maxBodyBytes int64) responseBudget {
	return responseBudget{max: max(maxResponseBytes, 2*maxBodyBytes)}
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = responseBudget{}

func (responseBudget) ExtensionName() string                   { return "ResponseBudget" }
func (responseBudget) Validate(graphql.ExecutableSchema) error { return nil }

// budgetKey holds the bytes the current response's heavy fields hold, an
// *atomic.Int64: fields resolve concurrently.
type budgetKey struct{}

func (responseBudget) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(context.WithValue(ctx, budgetKey{}, new(atomic.Int64)))
}

func (b responseBudget) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !heavy(fc.Object, fc.Field.Name) {
		return res, nil
	}
	used, _ := ctx.Value(budgetKey{}).(*atomic.Int64)
	if used == nil {
		return res, nil
	}
	if used.Add(int64(heldBytes(res))) > b.max {
		return nil, model.Errorf(model.CodeTooLarge, "the response would hold over %d MiB of payloads, bodies and headers; ask for fewer items or fewer of these fields", b.max>>20)
	}
	return res, nil
}

// heavy reports whether object.field is one of the fields responseBudget counts.
func heavy(object, field string) bool {
	switch object {
	case "Event":
		return field == "payload"
	case "DeliveryAttempt":
		return field == "requestBody" || field == "responseBody" || field == "requestHeaders" || field == "responseHeaders"
	case "Webhook":
		return field == "headers"
	}
	return false
}

// heldBytes is how many bytes a heavy field's value holds.
func heldBytes(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case model.JSON:
		return len(v)
	case []model.Header:
		n := 0
		for _, h := range v {
			n += len(h.Name) + len(h.Value)
		}
		return n
	}
	return 0
}
