package provider

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"crmhost.dev/sdk"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Each request a driver sends its provider is a client span under the
// driver's span of the host's call (the process's tracer provider, which
// sdk.Serve sets up when the host asks for traces). The span is named
// after the method alone and records the method, the provider's host name
// and port, the status, and the kind of failure: never the URL's path or
// query (which hold record ids, e-mail addresses, phone numbers and, for
// some providers, tokens), headers or bodies. Unlike otelhttp's transport
// it sends no trace context to the provider: traces stop at the
// driver's edge.

const tracerName = "crmhost.dev/sdk/provider"

// startSpan starts req's client span; it is not recording unless the
// driver's call was sampled.
func startSpan(req *http.Request) trace.Span {
	ctx := req.Context()
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsValid() {
		return nil
	}
	_, span := otel.Tracer(tracerName).Start(ctx, "provider "+req.Method, trace.WithSpanKind(trace.SpanKindClient))
	if !span.IsRecording() {
		span.End()
		return nil
	}
	attrs := []attribute.KeyValue{attribute.String("http.request.method", req.Method), attribute.String("server.address", req.URL.Hostname())}
	if p, err := strconv.Atoi(port(req.URL)); err == nil {
		attrs = append(attrs, attribute.Int("server.port", p))
	}
	span.SetAttributes(attrs...)
	return span
}

// endSpan ends span (nil: not traced) with the answer's status or the
// failure's kind, never its message (which may name an address).
func endSpan(span trace.Span, status int, err error) {
	if span == nil {
		return
	}
	if status > 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	switch {
	case err != nil:
		span.SetAttributes(attribute.String("error.type", errorType(err)))
		span.SetStatus(codes.Error, "")
	case status >= 400:
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(status)))
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// errorType names a transport failure by kind.
func errorType(err error) string {
	var se *sdk.Error
	switch {
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrEgress):
		return "egress_refused"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &se):
		return string(se.Code)
	}
	return "transport"
}
