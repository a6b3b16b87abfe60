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

type callerKey struct{}

// WithCaller returns a context carrying the authenticated API key on whose
// behalf the work is done.
func WithCaller(ctx context.Context, k *APIKey) context.Context {
	return context.WithValue(ctx, callerKey{}, k)
}

// CallerFrom returns the API key ctx carries, or nil.
func CallerFrom(ctx context.Context) *APIKey {
	k, _ := ctx.Value(callerKey{}).(*APIKey)
	return k
}
