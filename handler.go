package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/graph"
	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/resolver"
	"github.com/hookline/hookline/store"
)

const (
	maxBodyBytes    = 1 << 20
	complexityLimit = 5000
)

// newHandler returns Hookline's HTTP handler: the GraphQL IDE at / and the
// authenticated GraphQL endpoint at /graphql.
// allowedOrigins limits cross-origin websocket upgrades (host patterns such
// as "app.example.com" or "*.example.com"); empty allows any origin, which
// is safe because API keys are bearer tokens, never cookies.
func newHandler(st *store.Store, engine *delivery.Engine, broker delivery.Broker, log *slog.Logger, allowedOrigins []string) http.Handler {
	res := &resolver.Resolver{Store: st, Engine: engine, Broker: broker, Logger: log}
	auth := authenticator{store: st, log: log}

	accept := websocket.AcceptOptions{OriginPatterns: allowedOrigins, InsecureSkipVerify: len(allowedOrigins) == 0}
	gql := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: res}))
	gql.AddTransport(transport.Websocket{
		Implementation:        transport.CoderWebsocketImplementation{AcceptOptions: accept},
		InitFunc:              auth.websocketInit,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      15 * time.Second,
	})
	gql.AddTransport(transport.SSE{})
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.Use(extension.Introspection{})
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	gql.Use(extension.FixedComplexityLimit(complexityLimit))
	gql.SetErrorPresenter(res.PresentError)
	gql.SetRecoverFunc(res.Recover)

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", ideHandler())
	mux.Handle("/graphql", http.MaxBytesHandler(auth.middleware(gql), maxBodyBytes))
	return mux
}

// authenticator resolves the API key of a request.
type authenticator struct {
	store *store.Store
	log   *slog.Logger
}

// middleware requires a valid API key in the Authorization header. Websocket
// upgrades pass through: browsers cannot set headers on them, so they
// authenticate in connection_init instead.
func (a authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		key, err := a.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			writeAuthError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(resolver.WithCaller(r.Context(), key)))
	})
}

// websocketInit authenticates a websocket from its connection_init payload:
// {"Authorization": "Bearer <key>"}, "authorization", or headers.Authorization.
func (a authenticator) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
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
	return resolver.WithWebsocket(resolver.WithCaller(ctx, key)), nil, nil
}

func (a authenticator) authenticate(ctx context.Context, header string) (*model.ApiKey, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || secret == "" {
		return nil, model.Errorf(model.ErrUnauthenticated, "missing API key: send Authorization: Bearer <key>")
	}
	key, err := a.store.APIKeyByHash(ctx, model.HashAPIKey(strings.TrimSpace(secret)))
	if err != nil && model.ErrorCode(err) != model.ErrUnauthenticated {
		a.log.ErrorContext(ctx, "authenticate", "err", err)
		return nil, model.Errorf(model.ErrUnavailable, "cannot check the API key right now")
	}
	return key, err
}

func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// writeAuthError answers 401 (503 when the database is down) with a
// GraphQL-shaped body.
func writeAuthError(w http.ResponseWriter, err error) {
	code := model.ErrorCode(err)
	status := http.StatusUnauthorized
	if code == model.ErrUnavailable {
		status = http.StatusServiceUnavailable
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookline"`)
	}
	var appErr *model.Error
	errors.As(err, &appErr)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": appErr.Message, "extensions": map[string]any{"code": code}}},
	})
}
