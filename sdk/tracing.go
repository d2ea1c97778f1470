package sdk

import (
	"context"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// Tracing crosses the plugin boundary as W3C trace context in the gRPC
// metadata of each driver call (otelgrpc stats handlers on both ends,
// with the W3C propagator whatever the process's global one is). A driver
// records spans only under a sampled span of the host (it never starts a
// trace of its own), and exports them itself over OTLP when the host
// hands it an OTLP endpoint through the variables of TraceDriverEnv: the
// driver's environment stays empty but for its allowlists, so exporter
// headers (which often hold an API key) never reach it, and a driver is
// expected to reach a collector that needs none (an agent or sidecar on
// the host's machine).

// Span attribute keys the host and the sdk set. No attribute ever holds a
// phone number, e-mail address, secret, record field, URL path or query,
// or request or response body.
const (
	AttrTenantID  = attribute.Key("crmhost.tenant_id")
	AttrProvider  = attribute.Key("crmhost.provider")
	AttrVerb      = attribute.Key("crmhost.verb")
	AttrErrorCode = attribute.Key("crmhost.error_code")
	AttrRequestID = attribute.Key("crmhost.request_id")
)

// TraceDriverEnv are the OpenTelemetry variables the host may pass to a
// driver (ClientOptions.TraceEnv) so it exports its spans: where and how
// to send them, and the batching. Exporter headers, client keys and
// resource attributes are not among them and are never passed.
var TraceDriverEnv = []string{
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
	"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
}

// TraceEnv returns the TraceDriverEnv variables set in environ
// (os.Environ() form), for ClientOptions.TraceEnv. An endpoint that
// carries credentials (user info) or a query is left out. It returns nil
// when no endpoint is set: drivers then trace nothing.
func TraceEnv(environ []string) []string {
	var out []string
	endpoint := false
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || !slices.Contains(TraceDriverEnv, name) {
			continue
		}
		if strings.HasSuffix(name, "_ENDPOINT") {
			if !safeEndpoint(v) {
				continue
			}
			endpoint = true
		}
		out = append(out, kv)
	}
	if !endpoint {
		return nil
	}
	return out
}

// safeEndpoint reports whether an OTLP endpoint may be handed to a driver:
// an http(s) URL or host:port with no user info and no query.
func safeEndpoint(v string) bool {
	if v == "" || strings.ContainsAny(v, "@?#") {
		return false
	}
	if !strings.Contains(v, "://") {
		return true // host:port (gRPC)
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.User == nil && u.RawQuery == ""
}

// driverCalls selects the driver protocol's RPCs for tracing, leaving out
// go-plugin's own (health, stdio stream, broker, controller).
func driverCalls(info *stats.RPCTagInfo) bool {
	return strings.HasPrefix(info.FullMethodName, "/crm.driver.")
}

// clientStatsHandler traces the host's driver calls and carries their
// trace context to the driver.
func clientStatsHandler() grpc.DialOption {
	return grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(globalProvider{}),
		otelgrpc.WithPropagators(propagation.TraceContext{}), otelgrpc.WithFilter(driverCalls)))
}

// serverStatsHandler traces the driver's side of each call under the
// host's span.
func serverStatsHandler() grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(globalProvider{}),
		otelgrpc.WithPropagators(propagation.TraceContext{}), otelgrpc.WithFilter(driverCalls)))
}

// globalProvider is the process's tracer provider (otel's global) as it is
// at each span's start, not as it was when a gRPC connection was made:
// otelgrpc binds its tracer once, and a driver connection may outlive a
// change of the global provider (a test's, or a benchmark's switching
// tracing on and off).
type globalProvider struct{ embedded.TracerProvider }

func (globalProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return globalTracer{name: name, opts: opts}
}

type globalTracer struct {
	embedded.Tracer
	name string
	opts []trace.TracerOption
}

func (t globalTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return otel.GetTracerProvider().Tracer(t.name, t.opts...).Start(ctx, name, opts...)
}

// traceUnary records the driver's slug and, on failure, the error code on
// the driver call's span.
func traceUnary(s *grpcServer) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			return h(ctx, req)
		}
		if d, err := s.description(ctx); err == nil {
			span.SetAttributes(AttrProvider.String(d.Slug))
		}
		resp, err := h(ctx, req)
		if err != nil {
			span.SetAttributes(AttrErrorCode.String(string(CodeOf(fromStatus(ctx, err)))))
		}
		return resp, err
	}
}

// startTracing sets up the driver process's tracer provider when the host
// passed an OTLP endpoint (TraceDriverEnv); otherwise it does nothing and
// spans are not recorded. The provider samples only what the host
// sampled. The returned function flushes and stops it.
func startTracing(d Driver) func() {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return func() {}
	}
	ctx := context.Background()
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var exp sdktrace.SpanExporter
	var err error
	if proto == "grpc" {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return func() {}
	}
	name := "crm-driver"
	if desc, err := d.Describe(ctx); err == nil && desc.Slug != "" {
		name += "-" + desc.Slug
	}
	res, _ := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	}
}
