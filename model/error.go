// Package model holds Hookline's domain types, their validation rules and the
// application error type. It imports nothing else of Hookline's.
package model

import (
	"errors"
	"fmt"
)

// Error codes, as clients see them in a GraphQL error's extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeConflict        = "CONFLICT"
	CodeUnavailable     = "UNAVAILABLE"
	CodeRateLimited     = "RATE_LIMITED"
	CodeTooLarge        = "TOO_LARGE"
	CodeInternal        = "INTERNAL"
	// CodeSlowSubscriber ends a subscription that fell too far behind.
	CodeSlowSubscriber = "SLOW_SUBSCRIBER"
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
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
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
	return CodeInternal
}

// AtField returns err as the fault of the input named field: an *Error of
// code BAD_USER_INPUT gets field put before its own field, if any
// (AtField("inputs[3]", type error) names "inputs[3].type"). Other errors
// come back as they are.
func AtField(field string, err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeBadUserInput {
		return err
	}
	at := *e
	at.Field = field
	if e.Field != "" {
		at.Field = field + "." + e.Field
	}
	return &at
}

// PublicMessage returns what a client may read of err: an *Error's message,
// after its field if it names one, or "internal error" for anything else.
func PublicMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return "internal error"
	}
	if e.Field != "" {
		return e.Field + " " + e.Message
	}
	return e.Message
}
