package sdk

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an Error. Codes are the only thing callers branch on.
type Code string

// The error codes of the contract. Only the host's HTTP layer maps them to
// HTTP statuses.
const (
	CodeAuth              Code = "auth_error"
	CodeRateLimited       Code = "rate_limited"
	CodeNotFound          Code = "not_found"
	CodeInvalid           Code = "invalid"
	CodeConflict          Code = "conflict"
	CodeDeleteUnsupported Code = "delete_unsupported"
	CodeUnsupported       Code = "unsupported"
	CodeUnavailable       Code = "unavailable"
	CodeInternal          Code = "internal"
)

// Codes lists every code, for exhaustive tables and validation.
var Codes = []Code{CodeAuth, CodeRateLimited, CodeNotFound, CodeInvalid, CodeConflict,
	CodeDeleteUnsupported, CodeUnsupported, CodeUnavailable, CodeInternal}

// Valid reports whether c is one of Codes.
func (c Code) Valid() bool {
	for _, k := range Codes {
		if c == k {
			return true
		}
	}
	return false
}

// Error is the typed error of the contract. It crosses the plugin boundary
// intact (as a gRPC status detail). Message must never contain a secret.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input for CodeInvalid ("phone", "config.base_url").
	Field string
	// RetryAfter is the provider's back-off for CodeRateLimited (and
	// optionally CodeUnavailable); zero when unknown.
	RetryAfter time.Duration
	// Cause is a local cause (never sent over the wire), e.g.
	// context.Canceled or ErrDriverUnavailable on the host side.
	Cause error
}

// ErrDriverUnavailable is the Cause of the CodeUnavailable errors the
// client returns when the driver process itself cannot be reached (it
// exited, crashed or its connection broke), as opposed to a driver that
// reports its provider unavailable.
var ErrDriverUnavailable = errors.New("driver process unavailable")

// Unwrap returns the local cause.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if e.Field != "" {
		return string(e.Code) + ": " + e.Field + ": " + e.Message
	}
	return string(e.Code) + ": " + e.Message
}

// Is makes errors.Is(err, &Error{Code: c}) match any *Error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Field == ""
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a CodeInvalid error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// RateLimited returns a CodeRateLimited error with a retry-after.
func RateLimited(retryAfter time.Duration, format string, args ...any) *Error {
	return &Error{Code: CodeRateLimited, RetryAfter: retryAfter, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns err's Code: the code of the first *Error in its chain,
// CodeInternal for any other non-nil error, "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err as an *Error, wrapping a foreign error as CodeInternal.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: err.Error()}
}
