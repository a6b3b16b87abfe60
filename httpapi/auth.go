package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/model"
	"github.com/hookline/hookline/store"
)

// authenticator resolves and rate-limits the API key of a request.
type authenticator struct {
	store    *store.Store
	log      *slog.Logger
	limiter  *rateLimiter
	sockets  *connLimiter
	sessions *sessions
}

// middleware requires a valid API key in the Authorization header, reads
// the request body, and bounds each request's time: the body must arrive,
// and a query or mutation must finish, within timeout of the request's
// start, whatever the transport. Websocket upgrades pass through: browsers
// cannot set headers on them, so they authenticate in connection_init.
func (a *authenticator) middleware(next http.Handler, timeout time.Duration, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if isWebsocketUpgrade(r) {
			next.ServeHTTP(w, withWebsocketSlot(r))
			return
		}
		deadline := time.Now().Add(timeout)
		ctx := context.WithValue(r.Context(), deadlineKey{}, deadline)
		sse := transport.SSE{}.Supports(r)
		if sse {
			// The operation may be a subscription, which the deadline must
			// not end: a query or mutation gets it when it runs (see
			// withDeadline).
			ctx = context.WithValue(ctx, sseKey{}, true)
		} else {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		owners := r.Header.Values(OwnerHeader)
		if len(owners) > 1 {
			writeError(w, model.InvalidField(OwnerHeader, "must be sent once"), 0)
			return
		}
		if len(r.Header.Values("Authorization")) > 1 {
			writeError(w, model.InvalidField("Authorization", "must be sent once"), 0)
			return
		}
		if r.ContentLength > maxBody {
			writeError(w, model.Errorf(model.CodeTooLarge, "request body too large: %d bytes, at most %d are accepted", r.ContentLength, maxBody), 0)
			return
		}
		authCtx, cancelAuth := context.WithDeadline(ctx, deadline)
		c, err := a.authenticate(authCtx, r.Header.Get("Authorization"), owners)
		cancelAuth()
		if err != nil {
			writeError(w, err, 0)
			return
		}
		if ok, wait := a.limiter.allow(c.Key.ID); !ok {
			writeError(w, model.Errorf(model.CodeRateLimited, "rate limit exceeded for this API key; retry in %s", wait.Round(time.Millisecond)), wait)
			return
		}
		body, err := readBody(w, r, deadline, timeout, maxBody)
		if err == nil && (transport.POST{}).Supports(r) {
			err = checkBody(body) // POST and SSE
		}
		if err != nil {
			writeError(w, err, 0)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ctx = model.WithCaller(ctx, c)
		if !sse {
			ctx, w = withStatus(ctx, w)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// websocketInit authenticates a websocket from its connection_init payload:
// {"Authorization": "Bearer <key>", "Hookline-Owner": "<owner>"}, with any
// case of the names, at the top or under "headers".
func (a *authenticator) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	headers, err := initValues(payload, "Authorization")
	var owners []string
	if err == nil {
		owners, err = initValues(payload, OwnerHeader)
	}
	var c model.Caller
	if err == nil {
		c, err = a.authenticate(ctx, strings.Join(headers, ""), owners)
	}
	if err != nil {
		code := 4403
		if model.ErrorCode(err) == model.CodeBadUserInput {
			code = 4400
		}
		msg := model.PublicMessage(err)
		return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), msg), nil, errors.New(msg)
	}
	if !a.sockets.acquire(c.Key.ID) {
		const msg = "too many websocket connections for this API key"
		return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, 4429), msg), nil, errors.New(msg)
	}
	ctx = context.WithValue(model.WithCaller(ctx, c), websocketKey{}, true)
	closed := a.sessions.open(c.Key.ID, func(reason string) { closeWebsocket(ctx, 4403, reason) })
	return context.WithValue(ctx, sessionKey{}, closed), nil, nil
}

type sessionKey struct{}

// initValues returns the value under name in a connection_init payload,
// matching the name in any case, at the top or under "headers": none, or
// one. A value that is not a string, or different values, are refused
// rather than guessed at.
func initValues(payload transport.InitPayload, name string) ([]string, error) {
	var values []string
	for _, m := range []map[string]any{payload, nil} {
		if m == nil {
			m, _ = payload["headers"].(map[string]any)
		}
		for k, v := range m {
			if !strings.EqualFold(k, name) {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, model.InvalidField(name, "must be a string")
			}
			values = append(values, s)
		}
	}
	values = slices.Compact(slices.Sorted(slices.Values(values)))
	if len(values) > 1 {
		return nil, model.InvalidField(name, "must be sent once, or with one value")
	}
	return values, nil
}

// websocketOperation applies to an operation sent over a websocket what the
// HTTP middleware applies to a request: the key is checked again (it may
// have been revoked or have expired since the connection opened; then the
// connection closes), the key's rate limit, and the request timeout to
// queries and mutations.
func (a *authenticator) websocketOperation(ctx context.Context, op *ast.OperationDefinition, next graphql.OperationHandler, timeout time.Duration) graphql.ResponseHandler {
	if c, ok := model.CallerFrom(ctx); ok {
		if _, err := a.lookup(ctx, c.Key.Hash); err != nil {
			msg := model.PublicMessage(err)
			if model.ErrorCode(err) == model.CodeUnauthenticated {
				closeWebsocket(ctx, 4403, msg)
			}
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": model.ErrorCode(err)}}}})
		}
		if ok, wait := a.limiter.allow(c.Key.ID); !ok {
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
	return withDeadline(responses, time.Now().Add(timeout))
}

// websocketClose releases an authenticated connection's slot.
func (a *authenticator) websocketClose(ctx context.Context, _ int) {
	if c, ok := model.CallerFrom(ctx); ok {
		a.sockets.release(c.Key.ID)
	}
	if closed, ok := ctx.Value(sessionKey{}).(func()); ok {
		closed()
	}
}

// lookup returns the usable key with that hash: UNAUTHENTICATED for a
// revoked, expired or unknown one, UNAVAILABLE (and a log line) when the
// database cannot say.
func (a *authenticator) lookup(ctx context.Context, hash string) (*model.APIKey, error) {
	key, err := a.store.APIKeyByHash(ctx, hash)
	if err != nil && model.ErrorCode(err) != model.CodeUnauthenticated {
		a.log.ErrorContext(ctx, "authenticate", "err", err)
		return nil, model.Errorf(model.CodeUnavailable, "cannot check the API key right now; retry shortly")
	}
	return key, err
}

// OwnerHeader names the owner an admin key acts on.
const OwnerHeader = "Hookline-Owner"

// authenticate resolves the key in an Authorization header, and the owner
// it acts on: its own, or the one named in owners (the Hookline-Owner
// values), which only an admin key may name unless it is its own.
func (a *authenticator) authenticate(ctx context.Context, header string, owners []string) (model.Caller, error) {
	// The scheme is case-insensitive (RFC 7235).
	scheme, secret, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return model.Caller{}, model.Errorf(model.CodeUnauthenticated, "missing API key: send Authorization: Bearer <key>")
	}
	// Keys are looked up by their SHA-256, so the comparison never runs on
	// the secret itself and reveals nothing through timing.
	key, err := a.lookup(ctx, model.HashAPIKey(strings.TrimSpace(secret)))
	if err != nil {
		return model.Caller{}, err
	}
	c := model.Caller{Key: key, Owner: key.Owner}
	if len(owners) == 0 {
		return c, nil
	}
	if err := model.ValidateOwner(owners[0]); err != nil {
		e, _ := errors.AsType[*model.Error](err)
		return model.Caller{}, model.InvalidField(OwnerHeader, "%s", e.Message)
	}
	if owners[0] != key.Owner && !key.IsAdmin() {
		return model.Caller{}, model.Errorf(model.CodeForbidden, "only admin API keys may act as another owner (%s)", OwnerHeader)
	}
	c.Owner = owners[0]
	return c, nil
}

func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// writeError answers a request refused before GraphQL runs with a
// GraphQL-shaped body: 401 without a valid key, 403 for a member key naming
// another owner, 400 for a malformed Hookline-Owner, 429 over the rate
// limit (with Retry-After), 503 when the key cannot be checked.
func writeError(w http.ResponseWriter, err error, retryAfter time.Duration) {
	code := model.ErrorCode(err)
	status := http.StatusUnauthorized
	ext := map[string]any{"code": code}
	if e, ok := errors.AsType[*model.Error](err); ok && e.Field != "" {
		ext["field"] = e.Field
	}
	switch code {
	case model.CodeBadUserInput:
		status = http.StatusBadRequest
	case model.CodeTooLarge:
		status = http.StatusRequestEntityTooLarge
	case model.CodeForbidden:
		status = http.StatusForbidden
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
	if e, ok := errors.AsType[*statusError](err); ok {
		status = e.status
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": clipMessage(model.PublicMessage(err)), "extensions": ext}}})
}
