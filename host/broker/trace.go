package broker

import (
	"context"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The broker's steps are spans of the process's tracer provider (a no-op
// unless cmd/crmhost configured one), under the caller's span: the
// connection's config load (crmhost.broker.config), the mapping
// (crmhost.broker.mapping, crmhost.broker.mapping.read), and each driver
// call (crmhost.broker.call, carrying tenant, provider, verb and error
// code) with its provider limits (crmhost.broker.limits), its decrypt
// (crmhost.broker.decrypt) and the gRPC call to the driver beneath it.
// Attributes never carry a secret, a record's fields or a lookup's phone
// number or e-mail address; errors are recorded by code, never by
// message.

const tracerName = "crmhost.dev/host/broker"

// step starts the span of one broker step.
func step(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return otel.Tracer(tracerName).Start(ctx, name, trace.WithAttributes(attrs...))
}

// endStep ends a step's span, with err's code when it failed.
func endStep(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.SetAttributes(sdk.AttrErrorCode.String(string(host.CodeOf(err))))
		span.SetStatus(codes.Error, "")
	}
	span.End()
}
