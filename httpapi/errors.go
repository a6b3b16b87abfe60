package httpapi

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// How much of a request an error message may repeat.
const (
	maxQuoted  = 100 // bytes of one quoted fragment, word or path element
	maxMessage = 400 // bytes of the whole message: values quoted without quotes (gqlparser's "x is not a valid Enum") have spaces in them
)

// clippedErrors presents errors as present does, with their messages and
// paths clipped (see clipMessage).
func clippedErrors(present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := present(ctx, err)
		if e == nil {
			return nil
		}
		e.Message = clipMessage(e.Message)
		for i, p := range e.Path {
			if name, ok := p.(ast.PathName); ok {
				e.Path[i] = ast.PathName(clip(string(name)))
			}
		}
		return e
	}
}

// clipMessage bounds what an error message repeats of the request: gqlparser
// quotes names, strings and values whole, gqlgen names the operation asked
// for, and numbers out of range come back digit for digit, so a 500 KB
// string in a query would come back in its error. Each quoted fragment and
// each word keeps its first maxQuoted bytes, the message its first
// maxMessage.
func clipMessage(msg string) string {
	if len(msg) <= maxQuoted {
		return msg
	}
	var b strings.Builder
	for len(msg) > 0 {
		i := strings.IndexAny(msg, "\" \t\n")
		if i < 0 {
			b.WriteString(clip(msg))
			break
		}
		sep := msg[i]
		b.WriteString(clip(msg[:i]))
		b.WriteByte(sep)
		msg = msg[i+1:]
		if sep != '"' {
			continue
		}
		// A quoted fragment, spaces and all, up to its closing quote.
		if n := strings.IndexByte(msg, '"'); n >= 0 {
			b.WriteString(clip(msg[:n]))
			b.WriteByte('"')
			msg = msg[n+1:]
		}
	}
	return clipTo(b.String(), maxMessage)
}

// clip shortens s to its first maxQuoted bytes.
func clip(s string) string { return clipTo(s, maxQuoted) }

// clipTo shortens s to at most n bytes and a whole character, marking the
// cut with "…".
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
