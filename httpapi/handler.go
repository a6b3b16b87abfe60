package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
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
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/feed"
	"github.com/hookline/hookline/graph"
	"github.com/hookline/hookline/metrics"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/resolver"
	"github.com/hookline/hookline/store"
)

// Config bounds what clients may ask of the API.
type Config struct {
	// AllowedOrigins limits cross-origin websocket upgrades; empty allows any.
	AllowedOrigins []string
	MaxBodyBytes   int64
	// RequestTimeout bounds a query or mutation (subscriptions excepted).
	RequestTimeout time.Duration
	Introspection  bool
	// RatePerSecond and RateBurst limit each API key; 0 means unlimited.
	RatePerSecond       float64
	RateBurst           int
	MaxWebsocketsPerKey int
}

// DefaultConfig returns the production limits.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 1 << 20, RequestTimeout: 30 * time.Second, Introspection: true, MaxWebsocketsPerKey: 100}
}

// Deps are the parts the API serves.
type Deps struct {
	Store  *store.Store
	Engine *delivery.Engine
	Feed   feed.Feed
	// Metrics, when set, is served at /metrics and counts operations.
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Stopping, when set, makes /readyz answer 503 once it holds true.
	Stopping *atomic.Bool
}

// New returns Hookline's HTTP handler: the GraphQL IDE at /, the
// authenticated GraphQL endpoint at /graphql (POST, GET, SSE and both
// websocket protocols), and /livez, /readyz, /metrics.
func New(cfg Config, d Deps) http.Handler {
	if d.Stopping == nil {
		d.Stopping = new(atomic.Bool)
	}
	res := &resolver.Resolver{Store: d.Store, Engine: d.Engine, Feed: d.Feed, Logger: d.Log, EndWith: endSubscription}
	if d.Metrics != nil {
		res.Subscriptions = d.Metrics
	}
	auth := &authenticator{
		store:   d.Store,
		log:     d.Log,
		limiter: newRateLimiter(cfg.RatePerSecond, cfg.RateBurst),
		sockets: &connLimiter{max: cfg.MaxWebsocketsPerKey, open: map[string]int{}},
	}

	// Cross-origin websocket upgrades are refused unless allowed; with no
	// list any origin may connect, which is safe because API keys are bearer
	// tokens, never cookies.
	accept := websocket.AcceptOptions{OriginPatterns: cfg.AllowedOrigins, InsecureSkipVerify: len(cfg.AllowedOrigins) == 0}
	gql := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: res, Complexity: complexity()}))
	gql.AddTransport(transport.Websocket{
		Implementation:        transport.CoderWebsocketImplementation{AcceptOptions: accept},
		InitFunc:              auth.websocketInit,
		CloseFunc:             auth.websocketClose,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      15 * time.Second,
	})
	gql.AddTransport(transport.SSE{})
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.SetParserTokenLimit(parserTokenLimit)
	if cfg.Introspection {
		gql.Use(extension.Introspection{})
	}
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	gql.Use(extension.FixedComplexityLimit(complexityLimit))
	gql.Use(shapeLimit{})
	if d.Metrics != nil {
		gql.Use(d.Metrics.Extension())
	}
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		name := oc.OperationName
		if name == "" && oc.Operation != nil {
			name = oc.Operation.Name // named in the document, not in the request
		}
		d.Log.DebugContext(ctx, "graphql operation", "request_id", model.RequestID(ctx), "operation", name)
		switch {
		case overWebsocket(ctx):
			return auth.websocketOperation(ctx, oc.Operation, next, cfg.RequestTimeout)
		case oc.Operation != nil && oc.Operation.Operation == ast.Subscription:
			return sseSubscription(ctx, next)
		}
		return next(ctx)
	})
	gql.SetErrorPresenter(res.PresentError)
	gql.SetRecoverFunc(res.Recover)

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", ideHandler())
	mux.Handle("/graphql", http.MaxBytesHandler(auth.middleware(gql, cfg.RequestTimeout), cfg.MaxBodyBytes))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", ready(d.Store, d.Stopping))
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics.Handler())
	}
	return withRequestID(mux)
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

// authenticator resolves and rate-limits the API key of a request.
type authenticator struct {
	store   *store.Store
	log     *slog.Logger
	limiter *rateLimiter
	sockets *connLimiter
}

// middleware requires a valid API key in the Authorization header and
// bounds each request's time. Websocket upgrades pass through: browsers
// cannot set headers on them, so they authenticate in connection_init.
func (a *authenticator) middleware(next http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		key, err := a.authenticate(ctx, r.Header.Get("Authorization"))
		if err != nil {
			writeError(w, err, 0)
			return
		}
		if ok, wait := a.limiter.allow(key.ID); !ok {
			writeError(w, model.Errorf(model.CodeRateLimited, "rate limit exceeded for this API key; retry in %s", wait.Round(time.Millisecond)), wait)
			return
		}
		next.ServeHTTP(w, r.WithContext(model.WithCaller(ctx, key)))
	})
}

// websocketInit authenticates a websocket from its connection_init payload:
// {"Authorization": "Bearer <key>"}, "authorization", or headers.Authorization.
func (a *authenticator) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	header := payload.Authorization()
	if header == "" {
		header = payload.GetString("authorization")
	}
	if header == "" {
		if h, ok := payload["headers"].(map[string]any); ok {
			for k, v := range h {
				if s, ok := v.(string); ok && strings.EqualFold(k, "authorization") {
					header = s
				}
			}
		}
	}
	key, err := a.authenticate(ctx, header)
	if err != nil {
		return transport.WithWebsocketCloseCode(ctx, 4403), nil, errors.New("forbidden: " + err.Error())
	}
	if !a.sockets.acquire(key.ID) {
		return transport.WithWebsocketCloseCode(ctx, 4429), nil, errors.New("too many websocket connections for this API key")
	}
	return context.WithValue(model.WithCaller(ctx, key), websocketKey{}, true), nil, nil
}

// websocketOperation applies to an operation sent over a websocket what the
// HTTP middleware applies to a request: the key's rate limit, and the
// request timeout to queries and mutations.
func (a *authenticator) websocketOperation(ctx context.Context, op *ast.OperationDefinition, next graphql.OperationHandler, timeout time.Duration) graphql.ResponseHandler {
	if key := model.CallerFrom(ctx); key != nil {
		if ok, wait := a.limiter.allow(key.ID); !ok {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
				Message:    fmt.Sprintf("rate limit exceeded for this API key; retry in %s", wait.Round(time.Millisecond)),
				Extensions: map[string]any{"code": model.CodeRateLimited, "retryAfterMs": wait.Milliseconds()},
			}}})
		}
	}
	responses := next(ctx)
	if op == nil || op.Operation == ast.Subscription {
		return responses
	}
	// The transport runs the operation when it asks for the response, with
	// the connection's context: the deadline goes there.
	deadline := time.Now().Add(timeout)
	return func(ctx context.Context) *graphql.Response {
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		return responses(ctx)
	}
}

type websocketKey struct{}

// overWebsocket reports whether ctx is a websocket connection's.
func overWebsocket(ctx context.Context) bool { return ctx.Value(websocketKey{}) != nil }

type endNoticeKey struct{}

// endNotice holds the error that ended an SSE subscription until its
// stream sends it.
type endNotice struct {
	err atomic.Pointer[gqlerror.Error]
}

// endSubscription sends err as a subscription's last message: an error
// message on websockets, the last event on SSE.
func endSubscription(ctx context.Context, err *gqlerror.Error) {
	if overWebsocket(ctx) {
		transport.AddSubscriptionError(ctx, err)
	} else if n, ok := ctx.Value(endNoticeKey{}).(*endNotice); ok {
		n.err.Store(err)
	}
}

// sseSubscription makes the last event of a subscription over SSE carry the
// error that ended it (SLOW_SUBSCRIBER), as websockets do; gqlgen's SSE
// transport would only say "complete".
func sseSubscription(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	notice := new(endNotice)
	responses := next(context.WithValue(ctx, endNoticeKey{}, notice))
	var told bool
	return func(ctx context.Context) *graphql.Response {
		r := responses(ctx)
		if r == nil && !told {
			if err := notice.err.Load(); err != nil {
				told = true
				return &graphql.Response{Errors: gqlerror.List{err}}
			}
		}
		return r
	}
}

// websocketClose releases an authenticated connection's slot.
func (a *authenticator) websocketClose(ctx context.Context, _ int) {
	if key := model.CallerFrom(ctx); key != nil {
		a.sockets.release(key.ID)
	}
}

func (a *authenticator) authenticate(ctx context.Context, header string) (*model.APIKey, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || secret == "" {
		return nil, model.Errorf(model.CodeUnauthenticated, "missing API key: send Authorization: Bearer <key>")
	}
	// Keys are looked up by their SHA-256, so the comparison never runs on
	// the secret itself and reveals nothing through timing.
	key, err := a.store.APIKeyByHash(ctx, model.HashAPIKey(strings.TrimSpace(secret)))
	if err != nil && model.ErrorCode(err) != model.CodeUnauthenticated {
		a.log.ErrorContext(ctx, "authenticate", "err", err)
		return nil, model.Errorf(model.CodeUnavailable, "cannot check the API key right now; retry shortly")
	}
	return key, err
}

func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// writeError answers a request refused before GraphQL runs with a
// GraphQL-shaped body: 401 without a valid key, 429 over the rate limit
// (with Retry-After), 503 when the key cannot be checked.
func writeError(w http.ResponseWriter, err error, retryAfter time.Duration) {
	code := model.ErrorCode(err)
	status := http.StatusUnauthorized
	ext := map[string]any{"code": code}
	switch code {
	case model.CodeUnavailable:
		status = http.StatusServiceUnavailable
	case model.CodeRateLimited:
		status = http.StatusTooManyRequests
		secs := int(math.Ceil(retryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		ext["retryAfterMs"] = retryAfter.Milliseconds()
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookline"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": model.PublicMessage(err), "extensions": ext}}})
}
