package host

import (
	"errors"
	"fmt"

	"crmhost.dev/sdk"
)

// ErrorCode classifies a host error. Driver codes (sdk.Code) pass through
// unchanged; the host adds its own below. Only host/http maps codes to
// HTTP statuses.
type ErrorCode string

// Host error codes, beyond the sdk's.
const (
	CodeNotFound          ErrorCode = ErrorCode(sdk.CodeNotFound)
	CodeInvalid           ErrorCode = ErrorCode(sdk.CodeInvalid)
	CodeConflict          ErrorCode = ErrorCode(sdk.CodeConflict)
	CodeInternal          ErrorCode = ErrorCode(sdk.CodeInternal)
	CodeUnauthenticated   ErrorCode = "unauthenticated"
	CodeForbidden         ErrorCode = "forbidden"
	CodeDriverUnavailable ErrorCode = "driver_unavailable"
	CodeNotConnected      ErrorCode = "not_connected"
	CodeTooLarge          ErrorCode = "too_large"
	// CodeTimeout: the request's deadline (the host's, or a shorter one the
	// caller asked for) passed before the work finished.
	CodeTimeout ErrorCode = "timeout"
	// CodeUnsupportedMediaType: a request body that is not declared as
	// JSON (Content-Type application/json or application/*+json).
	CodeUnsupportedMediaType ErrorCode = "unsupported_media_type"
	// CodeIdempotencyReused: the idempotency key was used with a different
	// request body.
	CodeIdempotencyReused ErrorCode = "idempotency_key_reused"
	// CodeIdempotencyInFlight: the first request with this key is still
	// running.
	CodeIdempotencyInFlight ErrorCode = "idempotency_in_flight"
)

// Error is a host error with a code and a message safe to show a caller
// (never a secret).
type Error struct {
	Code    ErrorCode
	Message string
	// Field names the offending input, when there is one.
	Field string
	Cause error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return string(e.Code) + ": " + e.Field + ": " + e.Message
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns an *Error with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is returned (wrapped in *Error with CodeNotFound) by stores
// when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by stores when a unique constraint is violated.
var ErrConflict = errors.New("conflict")

// ErrSchemaOutdated is wrapped by stores and the job queue opened without
// applying migrations, when the database lacks some this binary needs
// (`crmhost migrate` applies them).
var ErrSchemaOutdated = errors.New("the database schema is behind this crmhost")

// NotFound returns a CodeNotFound error wrapping ErrNotFound.
func NotFound(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...), Cause: ErrNotFound}
}

// Conflict returns a CodeConflict error wrapping ErrConflict.
func Conflict(format string, args ...any) *Error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...), Cause: ErrConflict}
}

// CodeOf returns the code of err: a host *Error's code, a driver
// *sdk.Error's code (CodeDriverUnavailable when the driver process was
// unreachable), CodeInternal otherwise.
func CodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var he *Error
	if errors.As(err, &he) {
		return he.Code
	}
	if errors.Is(err, sdk.ErrDriverUnavailable) {
		return CodeDriverUnavailable
	}
	var se *sdk.Error
	if errors.As(err, &se) {
		return ErrorCode(se.Code)
	}
	return CodeInternal
}
