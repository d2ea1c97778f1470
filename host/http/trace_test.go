package http_test

import (
	"context"
	nethttp "net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestTraceIDsInLogsAndExemplars sends a lookup that continues a sampled
// trace: the request's log line carries its trace and span ids, and the
// latency histograms (the request's and the driver call's) carry the
// trace id as an exemplar. Not parallel: it installs the process's tracer
// provider.
func TestTraceIDsInLogsAndExemplars(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = tp.Shutdown(context.Background())
	})
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"},
		"Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01", "X-Request-ID", "req-traced-1"), nethttp.StatusOK)

	line := lineWith(e.logs.String(), "req-traced-1")
	var spanID string
	for _, s := range exp.GetSpans() {
		if s.Name == "POST /api/tools/crm_lookup_customer" && s.SpanContext.TraceID().String() == traceID {
			spanID = s.SpanContext.SpanID().String()
		}
	}
	if spanID == "" || !strings.Contains(line, "trace_id="+traceID) || !strings.Contains(line, "span_id="+spanID) {
		t.Errorf("request log line %q, want trace_id=%s span_id=%s", line, traceID, spanID)
	}

	r := e.do(nethttp.MethodGet, "/metrics", metricsToken, nil, "Accept", "application/openmetrics-text; version=1.0.0")
	wantStatus(t, r, nethttp.StatusOK)
	body := string(r.body)
	for _, metric := range []string{"crmhost_http_request_seconds_bucket", "crmhost_driver_call_seconds_bucket"} {
		if !hasExemplar(body, metric, traceID) {
			t.Errorf("%s carries no exemplar of trace %s", metric, traceID)
		}
	}
	// No per-call series is labelled with the tenant.
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "crmhost_") && (strings.Contains(l, tenant) || strings.Contains(l, "tenant=") || strings.Contains(l, "tenant_id=")) {
			t.Errorf("a metric names the tenant: %s", l)
		}
	}
}

// hasExemplar reports whether a bucket of metric carries traceID as its
// exemplar.
func hasExemplar(body, metric, traceID string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, metric+"{") && strings.Contains(l, ` # {trace_id="`+traceID+`"}`) {
			return true
		}
	}
	return false
}
