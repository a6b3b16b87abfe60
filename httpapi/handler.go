// Package httpapi is Hookline's HTTP and GraphQL transport: it
// authenticates API keys, limits requests (rate, body size, query shape and
// cost, websockets per key, time), gives every request an ID, serves the
// GraphQL endpoint over POST, GET, SSE and both websocket protocols, the
// console and GraphiQL, and the health and metrics endpoints.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/graph"
	"github.com/hookline/hookline/metrics"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/resolver"
	"github.com/hookline/hookline/store"
	"github.com/hookline/hookline/web"
)

// Config bounds what clients may ask of the API.
type Config struct {
	// AllowedOrigins limits cross-origin websocket upgrades; empty allows any.
	AllowedOrigins []string
	MaxBodyBytes   int64
	// RequestTimeout bounds a request: its body must arrive, and a query
	// or mutation over any transport must finish, within it. Subscriptions
	// run as long as they are wanted.
	RequestTimeout time.Duration
	Introspection  bool
	// RatePerSecond and RateBurst limit each API key; 0 means unlimited.
	RatePerSecond       float64
	RateBurst           int
	MaxWebsocketsPerKey int
	// ServeMetrics serves Deps.Metrics at /metrics beside the API. Off,
	// the metrics are still counted, for a listener of their own.
	ServeMetrics bool
	// PingInterval is how often a websocket is pinged; one that answers
	// no ping for twice as long is closed as dead.
	PingInterval time.Duration
}

// DefaultConfig returns the production limits.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 1 << 20, RequestTimeout: 30 * time.Second, Introspection: true, MaxWebsocketsPerKey: 100, ServeMetrics: true, PingInterval: 15 * time.Second}
}

// Deps are the parts the API serves.
type Deps struct {
	Store  *store.Store
	Engine *delivery.Engine
	Feed   feed.Feed
	// Metrics, when set, counts operations and subscriptions, and is
	// served at /metrics if Config.ServeMetrics.
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Stopping, when set, makes /readyz answer 503 once it holds true.
	Stopping *atomic.Bool
}

// New returns Hookline's HTTP handler: the console at / (and its deep
// links), GraphiQL at /graphiql, the
// authenticated GraphQL endpoint at /graphql (POST, GET, SSE and both
// websocket protocols), and /livez, /readyz and, unless they have a
// listener of their own, /metrics.
func New(cfg Config, d Deps) http.Handler {
	if d.Stopping == nil {
		d.Stopping = new(atomic.Bool)
	}
	res := &resolver.Resolver{Store: d.Store, Engine: d.Engine, Feed: d.Feed, Logger: d.Log, EndWith: endSubscription}
	if d.Metrics != nil {
		res.Subscriptions = d.Metrics
	}
	auth := &authenticator{
		store:    d.Store,
		log:      d.Log,
		limiter:  newRateLimiter(cfg.RatePerSecond, cfg.RateBurst),
		sockets:  &connLimiter{max: cfg.MaxWebsocketsPerKey, open: map[string]int{}},
		sessions: newSessions(d.Store, d.Log),
	}

	// Cross-origin websocket upgrades are refused unless allowed; with no
	// list any origin may connect, which is safe because API keys are bearer
	// tokens, never cookies.
	accept := websocket.AcceptOptions{OriginPatterns: cfg.AllowedOrigins, InsecureSkipVerify: len(cfg.AllowedOrigins) == 0}
	gql := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: res, Complexity: complexity(cfg.MaxBodyBytes)}))
	gql.AddTransport(transport.Websocket{
		Implementation:        trackedWebsockets{transport.CoderWebsocketImplementation{AcceptOptions: accept}},
		InitFunc:              auth.websocketInit,
		CloseFunc:             auth.websocketClose,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: cfg.PingInterval,
		PingPongInterval:      cfg.PingInterval,
	})
	gql.AddTransport(transport.SSE{})
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.SetParserTokenLimit(parserTokenLimit)
	if cfg.Introspection {
		gql.Use(extension.Introspection{})
	} else {
		gql.Use(noIntrospection{})
	}
	// "Did you mean …" in validation errors tells the schema too.
	gql.SetDisableSuggestion(!cfg.Introspection)
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	// shapeLimit first: it refuses what the cost cannot be computed from.
	gql.Use(shapeLimit{})
	gql.Use(streamedSubscriptions{})
	gql.Use(extension.FixedComplexityLimit(complexityLimit))
	gql.Use(newResponseBudget(cfg.MaxBodyBytes))
	if d.Metrics != nil {
		gql.Use(d.Metrics.Extension())
	}
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		name := oc.OperationName
		if name == "" && oc.Operation != nil {
			name = oc.Operation.Name // named in the document, not in the request
		}
		name = clip(name) // the client's: logged, so bounded
		d.Log.DebugContext(ctx, "graphql operation", "request_id", model.RequestID(ctx), "operation", name)
		if oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
			next = audited(d.Log, name, oc.Operation, next)
		}
		switch {
		case overWebsocket(ctx):
			return auth.websocketOperation(ctx, oc.Operation, next, cfg.RequestTimeout)
		case oc.Operation != nil && oc.Operation.Operation == ast.Subscription:
			return auth.sseSubscription(ctx, next)
		}
		// A query or mutation over HTTP ends at its request's deadline:
		// over POST and GET its context has it already, over SSE it does
		// not, as the request could have been a subscription.
		if deadline, ok := requestDeadline(ctx); ok {
			return withDeadline(next(ctx), deadline)
		}
		return next(ctx)
	})
	gql.SetErrorPresenter(clippedErrors(res.PresentError))
	gql.SetRecoverFunc(res.Recover)

	mux := http.NewServeMux()
	mux.Handle("/", assets(web.Dist))
	mux.Handle("/graphql", http.MaxBytesHandler(auth.middleware(gql, cfg.RequestTimeout, cfg.MaxBodyBytes), cfg.MaxBodyBytes))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", ready(d.Store, d.Stopping))
	if d.Metrics != nil && cfg.ServeMetrics {
		mux.Handle("GET /metrics", d.Metrics.Handler())
	}
	return withRequestID(withReadDeadline(mux, cfg.RequestTimeout))
}

// ready answers 200 when the database answers and the process is not
// shutting down, 503 otherwise.
func ready(st *store.Store, stopping *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if stopping.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}
}

// withRequestID gives every request an ID, taken from X-Request-Id when the
// client sends a sane one, returned in the response header, logged with the
// request's operations and stored with the events it publishes.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = model.RandomHex(12)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(model.WithRequestID(r.Context(), id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return false
		}
	}
	return true
}

// audited logs a mutation at info once it has run: the key's ID, the owner
// it acted on, the operation and its root fields, and whether it failed.
// The key itself is never logged.
func audited(log *slog.Logger, name string, op *ast.OperationDefinition, next graphql.OperationHandler) graphql.OperationHandler {
	var fields []string
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			fields = append(fields, f.Name)
		}
	}
	return func(ctx context.Context) graphql.ResponseHandler {
		responses := next(ctx)
		c, _ := model.CallerFrom(ctx)
		return func(rctx context.Context) *graphql.Response {
			r := responses(rctx)
			if r == nil {
				return nil
			}
			outcome := "ok"
			if len(r.Errors) > 0 {
				outcome = "error"
			}
			var keyID string
			if c.Key != nil {
				keyID = c.Key.ID
			}
			log.InfoContext(ctx, "mutation", "request_id", model.RequestID(ctx), "key", keyID, "owner", c.Owner,
				"operation", name, "fields", strings.Join(fields, ","), "outcome", outcome)
			return r
		}
	}
}
