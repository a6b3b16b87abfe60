// Package model holds Hookline's domain types, their validation rules and the
// application error type. It imports nothing else of Hookline's.
package model

import (
	"errors"
	"fmt"
)

// Error codes, as clients see them in a GraphQL error's extensions.code.
const (
	ErrUnauthenticated = "UNAUTHENTICATED"
	ErrForbidden       = "FORBIDDEN"
	ErrNotFound        = "NOT_FOUND"
	ErrBadUserInput    = "BAD_USER_INPUT"
	ErrConflict        = "CONFLICT"
	ErrUnavailable     = "UNAVAILABLE"
	ErrRateLimited     = "RATE_LIMITED"
	ErrInternal        = "INTERNAL"
)

// Error is an application error whose Code and Message are safe to show a
// client. Field names the input field at fault, for BAD_USER_INPUT.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns a BAD_USER_INPUT error naming the field at fault.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: ErrBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, INTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ErrInternal
}
