package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/hookline/hookline/model"
)

type deadlineKey struct{}

// requestDeadline returns when the HTTP request of ctx must be answered by,
// if ctx is an HTTP request's.
func requestDeadline(ctx context.Context) (time.Time, bool) {
	d, ok := ctx.Value(deadlineKey{}).(time.Time)
	return d, ok
}

type sseKey struct{}

// overSSE reports whether ctx is a request's that gqlgen serves as
// Server-Sent Events.
func overSSE(ctx context.Context) bool { return ctx.Value(sseKey{}) != nil }

// withDeadline runs a query or mutation under deadline. The transports run
// an operation when they ask for its response, with a context of their
// own: the deadline goes there.
func withDeadline(responses graphql.ResponseHandler, deadline time.Time) graphql.ResponseHandler {
	return func(ctx context.Context) *graphql.Response {
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		return responses(ctx)
	}
}

// withReadDeadline gives every request but a websocket upgrade timeout to
// send its body, so that a client trickling bytes cannot hold a connection
// open: Hookline's handlers that read no body leave the rest to the server,
// which reads it after they answer. Past the deadline the connection ends.
func withReadDeadline(next http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocketUpgrade(r) {
			// Not every ResponseWriter supports deadlines (a test
			// recorder does not); those serve without one.
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads the whole request body, which must arrive by deadline (the
// request's start and timeout) and hold at most maxBody bytes, and leaves it in r.Body for the transports.
// Once it is read the connection has no read deadline: an SSE stream may
// last long after it, and a read deadline passing while the server watches
// the connection for the client going away would end the stream.
func readBody(w http.ResponseWriter, r *http.Request, deadline time.Time, timeout time.Duration, maxBody int64) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(deadline)
	body, err := io.ReadAll(r.Body)
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return model.Errorf(model.CodeTooLarge, "request body too large: over %d bytes", maxBody)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		w.Header().Set("Connection", "close")
		return &statusError{http.StatusRequestTimeout, model.Errorf(model.CodeBadUserInput,
			"request body not received within %s", timeout)}
	}
	if err != nil {
		w.Header().Set("Connection", "close")
		return model.Errorf(model.CodeBadUserInput, "could not read the request body")
	}
	rc.SetReadDeadline(time.Time{})
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// statusError is an error answered with its own HTTP status.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

type statusKey struct{}

// refusal is the HTTP status of a request refused while gqlgen serves it:
// its transports answer 200 to errors they do not know of.
type refusal struct{ status int }

// withStatus returns ctx and w with which an operation may set the HTTP
// status of its answer (see refuse). It serves a request answered once
// (POST, GET): not SSE, whose status is sent before the operation runs.
func withStatus(ctx context.Context, w http.ResponseWriter) (context.Context, http.ResponseWriter) {
	r := new(refusal)
	return context.WithValue(ctx, statusKey{}, r), &statusWriter{ResponseWriter: w, refused: r}
}

// refuse makes the request of ctx answer status instead of 200.
func refuse(ctx context.Context, status int) {
	if r, ok := ctx.Value(statusKey{}).(*refusal); ok {
		r.status = status
	}
}

// statusWriter answers with the refusal's status where gqlgen answers 200.
type statusWriter struct {
	http.ResponseWriter
	refused *refusal
	wrote   bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote && code == http.StatusOK && w.refused.status != 0 {
		code = w.refused.status
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
