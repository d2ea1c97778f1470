package http

import (
	"context"
	"strconv"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Every request is a server span of the process's tracer provider (a
// no-op unless cmd/crmhost configured one), continuing the caller's trace
// when it sent a valid W3C traceparent. A malformed or oversized
// traceparent or tracestate is ignored (the span starts a trace of its
// own) and never echoed. Health, readiness and metrics requests are not
// traced. The span is named after the method and the
// route's template, and records the route, the method, the status, the
// request id, the tenant and the error code: never the URL's path or
// query, headers, the client's address or a body.

const tracerName = "crmhost.dev/host/http"

// maxTraceHeader bounds the trace headers the host reads: a traceparent
// is 55 bytes, a tracestate at most 32 members of 256 bytes.
const maxTraceHeader = 32 * 257

// traceContext is the only propagator the host reads requests with.
var traceContext = propagation.TraceContext{}

// untraced are the routes probes and scrapers call every few seconds:
// spans of theirs would be noise.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// traceRequests starts the request's span.
func traceRequests(c *gin.Context) {
	if untraced[c.FullPath()] {
		c.Next()
		return
	}
	carrier := traceCarrier{c.Request.Header.Get("Traceparent"), c.Request.Header.Get("Tracestate")}
	ctx := traceContext.Extract(c.Request.Context(), carrier)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	ctx, span := otel.Tracer(tracerName).Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", c.Request.Method), attribute.String("http.route", route),
			sdk.AttrRequestID.String(requestID(c))))
	defer span.End()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	status := c.Writer.Status()
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if t := c.GetString(ctxTenant); t != "" {
		span.SetAttributes(sdk.AttrTenantID.String(t))
	}
	if v, ok := c.Get(ctxError); ok {
		if err, ok := v.(error); ok {
			span.SetAttributes(sdk.AttrErrorCode.String(string(host.CodeOf(err))))
		}
	}
	if status >= 500 {
		span.SetStatus(codes.Error, strconv.Itoa(status))
	}
}

// traceCarrier hands the propagator the two W3C headers, and only when
// they are of a sane size.
type traceCarrier struct{ parent, state string }

func (t traceCarrier) Get(key string) string {
	var v string
	switch key {
	case "traceparent":
		v = t.parent
	case "tracestate":
		v = t.state
	}
	if len(v) > maxTraceHeader {
		return ""
	}
	return v
}

func (traceCarrier) Set(string, string) {}
func (traceCarrier) Keys() []string     { return []string{"traceparent", "tracestate"} }

// traceIDs returns the trace and span ids of ctx's span, when it is
// sampled, for logs and exemplars.
func traceIDs(ctx context.Context) (traceID, spanID string, ok bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || !sc.IsSampled() {
		return "", "", false
	}
	return sc.TraceID().String(), sc.SpanID().String(), true
}
