package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
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
// request's start and timeout) and hold at most maxBody bytes. Once it is
// read the connection has no read deadline: an SSE stream may last long
// after it, and a read deadline passing while the server watches the
// connection for the client going away would end the stream.
func readBody(w http.ResponseWriter, r *http.Request, deadline time.Time, timeout time.Duration, maxBody int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(deadline)
	body, err := io.ReadAll(r.Body)
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return nil, model.Errorf(model.CodeTooLarge, "request body too large: over %d bytes", maxBody)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		w.Header().Set("Connection", "close")
		return nil, &statusError{http.StatusRequestTimeout, model.Errorf(model.CodeBadUserInput, "request body not received within %s", timeout)}
	}
	if err != nil {
		w.Header().Set("Connection", "close")
		return nil, model.Errorf(model.CodeBadUserInput, "could not read the request body")
	}
	rc.SetReadDeadline(time.Time{})
	return body, nil
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

// checkBody says, in the client's words, what is wrong with a JSON request
// body that gqlgen's POST and SSE transports could not decode: theirs would
// echo the whole body and name Go types. It decodes one JSON value, as they
// do.
func checkBody(body []byte) error {
	var p struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&p)
	if err == nil {
		if t := jsonType(p.Variables); t != "object" && t != "null" {
			return model.InvalidField("variables", "must be a JSON object, not %s", withArticle(t))
		}
		if t := jsonType(p.Extensions); t != "object" && t != "null" {
			return model.InvalidField("extensions", "must be a JSON object, not %s", withArticle(t))
		}
		return nil
	}
	if errors.Is(err, io.EOF) {
		return model.Errorf(model.CodeBadUserInput, "request body is empty: send a JSON object with a query")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return model.Errorf(model.CodeBadUserInput, "request body is not valid JSON: it ends inside a value, at offset %d", len(body))
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return model.Errorf(model.CodeBadUserInput, "request body is not valid JSON: %s at offset %d", clip(e.Error()), e.Offset)
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		switch e.Field {
		case "":
			return model.Errorf(model.CodeBadUserInput, "request body must be a JSON object, not %s", withArticle(e.Value))
		case "query", "operationName":
			return model.InvalidField(e.Field, "must be a string, not %s", withArticle(e.Value))
		}
	}
	return model.Errorf(model.CodeBadUserInput, "request body is not a GraphQL request: want a JSON object with a query")
}

// jsonType names the type of the JSON value v as encoding/json does:
// object, array, string, number, bool or null (also when v is empty).
func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "null"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// withArticle puts "a" or "an" before a JSON type's name.
func withArticle(t string) string {
	switch t {
	case "null":
		return t
	case "array", "object":
		return "an " + t
	}
	return "a " + t
}
