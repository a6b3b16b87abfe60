package httpapi

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
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
