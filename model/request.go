package model

import "context"

type requestIDKey struct{}

// WithRequestID returns a context carrying the ID of the API request that
// does the work, so that logs and records can name it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
