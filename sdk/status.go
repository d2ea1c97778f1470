package sdk

import (
	"context"
	"errors"
	"time"

	pb "crmhost.dev/sdk/internal/driverv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var grpcCodes = map[Code]codes.Code{
	CodeAuth:              codes.Unauthenticated,
	CodeRateLimited:       codes.ResourceExhausted,
	CodeNotFound:          codes.NotFound,
	CodeInvalid:           codes.InvalidArgument,
	CodeConflict:          codes.AlreadyExists,
	CodeDeleteUnsupported: codes.Unimplemented,
	CodeUnsupported:       codes.Unimplemented,
	CodeUnavailable:       codes.Unavailable,
	CodeInternal:          codes.Internal,
}

// toStatus encodes err as a gRPC status carrying an ErrorDetail. Foreign
// errors become CodeInternal; context errors keep their gRPC meaning.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	e := AsError(err)
	if !e.Code.Valid() {
		e = &Error{Code: CodeInternal, Message: e.Error()}
	}
	gc := grpcCodes[e.Code]
	// A driver error caused by its context ending keeps that meaning on the
	// wire, so the client can wrap the context error again.
	switch {
	case errors.Is(err, context.Canceled):
		gc = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		gc = codes.DeadlineExceeded
	}
	st := status.New(gc, e.Message)
	detailed, derr := st.WithDetails(&pb.ErrorDetail{Code: string(e.Code), Message: e.Message,
		RetryAfterMs: e.RetryAfter.Milliseconds(), Field: e.Field})
	if derr != nil {
		return st.Err()
	}
	return detailed.Err()
}

// fromStatus decodes a gRPC error into an *Error. An error without an
// ErrorDetail came from the transport, not the driver: CodeUnavailable with
// cause ErrDriverUnavailable, or the context's own error.
func fromStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if ok {
		for _, d := range st.Details() {
			if ed, ok := d.(*pb.ErrorDetail); ok {
				e := &Error{Code: Code(ed.Code), Message: ed.Message, Field: ed.Field,
					RetryAfter: msDuration(ed.RetryAfterMs)}
				switch st.Code() {
				case codes.Canceled:
					e.Cause = context.Canceled
				case codes.DeadlineExceeded:
					e.Cause = context.DeadlineExceeded
				}
				return e
			}
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return &Error{Code: CodeUnavailable, Message: "call ended: " + cerr.Error(), Cause: cerr}
	}
	if ok {
		switch st.Code() {
		case codes.Canceled:
			// The caller's context is live, so the connection itself was
			// closed: the driver process is gone.
			return &Error{Code: CodeUnavailable, Message: "driver connection closed", Cause: ErrDriverUnavailable}
		case codes.DeadlineExceeded:
			return &Error{Code: CodeUnavailable, Message: "deadline exceeded", Cause: context.DeadlineExceeded}
		case codes.Unimplemented:
			return &Error{Code: CodeUnsupported, Message: st.Message()}
		case codes.ResourceExhausted:
			return &Error{Code: CodeInvalid, Message: st.Message()}
		}
		return &Error{Code: CodeUnavailable, Message: "driver unavailable: " + st.Message(), Cause: ErrDriverUnavailable}
	}
	return &Error{Code: CodeUnavailable, Message: "driver unavailable: " + err.Error(), Cause: ErrDriverUnavailable}
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
