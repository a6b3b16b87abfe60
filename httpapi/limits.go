package httpapi

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"github.com/hookline/hookline/graph"
	"github.com/hookline/hookline/model"
)

// GraphQL request limits.
const (
	maxQueryDepth    = 12
	maxRootFields    = 20
	complexityLimit  = 20000
	parserTokenLimit = 15000
)

// shapeLimit refuses operations nested deeper than maxQueryDepth or with
// more than maxRootFields root fields (aliases make one request do the work
// of many).
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
	if n := len(oc.Operation.SelectionSet); n > maxRootFields {
		return limitError(fmt.Sprintf("operation has %d root fields; at most %d are allowed", n, maxRootFields))
	}
	if d := depth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0); d > maxQueryDepth {
		return limitError(fmt.Sprintf("operation is nested %d levels deep; at most %d are allowed", d, maxQueryDepth))
	}
	return introspectionShape(oc.Operation.SelectionSet, oc.Doc.Fragments)
}

func limitError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": model.CodeBadUserInput}}
}

// depth returns how deep fields nest below set, following fragments; it
// stops counting past the limit, so fragment cycles cannot loop. A root
// __schema or __type field counts as one level: introspectionShape measures
// what is below it.
func depth(set ast.SelectionSet, fragments ast.FragmentDefinitionList, level int) int {
	if level > maxQueryDepth {
		return level
	}
	deepest := level
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 || (level == 0 && isIntrospection(s)) {
				d = level + 1
			} else {
				d = depth(s.SelectionSet, fragments, level+1)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, fragments, level)
		case *ast.FragmentSpread:
			if f := fragments.ForName(s.Name); f != nil {
				d = depth(f.SelectionSet, fragments, level)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
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
// nested pages multiply: 100 webhooks × 100 deliveries each is 10,000 nodes.
func complexity() graph.ComplexityRoot {
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
	c.Delivery.Attempts = func(child int, last *int) int { return pageCost(child, nil, last) }
	c.Query.WebhookStats = statsCost
	return c
}

func pageCost(child int, first, last *int) int {
	n := model.DefaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return 1 + max(n, 1)*child
}
