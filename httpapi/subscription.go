package httpapi

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
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
