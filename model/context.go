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

// Caller is who does the work of a request: the authenticated API key and
// the owner it acts on, the key's own or, for an admin key, the one it
// names. Acting on another owner, an admin key has that owner's MEMBER
// rights only.
type Caller struct {
	Key   *APIKey
	Owner string
}

// IsAdmin reports whether the caller may manage API keys and owners: an
// admin key acting on its own owner.
func (c Caller) IsAdmin() bool { return c.Key.IsAdmin() && c.Owner == c.Key.Owner }

// WithCaller returns a context carrying the caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller ctx carries, and false if there is none.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok && c.Key != nil
}
