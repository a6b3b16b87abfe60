package httpapi

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hookline/hookline/model"
)

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
// transport would only say "complete". A stream whose key is revoked or
// expires ends with an UNAUTHENTICATED error event.
func (a *authenticator) sseSubscription(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	notice := new(endNotice)
	ctx, cancel := context.WithCancel(context.WithValue(ctx, endNoticeKey{}, notice))
	closed := func() {}
	if c, ok := model.CallerFrom(ctx); ok {
		closed = a.sessions.open(c.Key.ID, func(reason string) {
			notice.err.CompareAndSwap(nil, &gqlerror.Error{Message: reason, Extensions: map[string]any{"code": model.CodeUnauthenticated}})
			cancel()
		})
	}
	responses := next(ctx)
	var told bool
	return func(rctx context.Context) *graphql.Response {
		r := responses(rctx)
		if r == nil {
			closed()
			cancel()
			if err := notice.err.Load(); err != nil && !told {
				told = true
				return &graphql.Response{Errors: gqlerror.List{err}}
			}
		}
		return r
	}
}

// streamedSubscriptions refuses, before it runs, a subscription sent where
// it cannot stream: over a plain POST or a GET it would wait for its first
// message and answer it alone. It answers HTTP 400 with BAD_USER_INPUT.
type streamedSubscriptions struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = streamedSubscriptions{}

func (streamedSubscriptions) ExtensionName() string                   { return "StreamedSubscriptions" }
func (streamedSubscriptions) Validate(graphql.ExecutableSchema) error { return nil }

func (streamedSubscriptions) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription || overWebsocket(ctx) || overSSE(ctx) {
		return nil
	}
	refuse(ctx, http.StatusBadRequest)
	return &gqlerror.Error{
		Message:    "subscriptions need a websocket (graphql-transport-ws or graphql-ws) or Server-Sent Events: a POST with Accept: text/event-stream",
		Extensions: map[string]any{"code": model.CodeBadUserInput},
	}
}
