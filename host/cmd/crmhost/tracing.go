package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// tracingConfig is OpenTelemetry's standard environment, as far as the
// host reads it itself (the exporter reads the rest: headers, TLS,
// timeouts, batching; the SDK reads the sampler).
//
//	OTEL_EXPORTER_OTLP_ENDPOINT          the collector (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); unset: no tracing
//	OTEL_EXPORTER_OTLP_PROTOCOL          http/protobuf (default) or grpc (or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)
//	OTEL_SDK_DISABLED=true               no tracing, whatever else is set; OTEL_TRACES_EXPORTER=none too
//	OTEL_SERVICE_NAME                    the host's service name (crmhost); OTEL_RESOURCE_ATTRIBUTES adds attributes
//	OTEL_TRACES_SAMPLER[_ARG]            the sampler (parentbased_always_on)
//	OTEL_EXPORTER_OTLP_HEADERS           headers for the host's exporter (an API key, say): never passed to drivers
//
// Drivers get only sdk.TraceDriverEnv's variables (endpoint, protocol,
// TLS trust, timeouts, batching), so they export to the same collector
// without its headers.
type tracingConfig struct {
	Enabled  bool
	Protocol string
	// DriverEnv is what drivers are given ("NAME=value").
	DriverEnv []string
}

// loadTracingConfig reads tracingConfig; an unknown protocol is an error
// naming its variable.
func loadTracingConfig() (tracingConfig, error) {
	var t tracingConfig
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return t, nil
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return t, nil
	}
	name := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	t.Protocol = os.Getenv(name)
	if t.Protocol == "" {
		name = "OTEL_EXPORTER_OTLP_PROTOCOL"
		t.Protocol = os.Getenv(name)
	}
	switch t.Protocol {
	case "", "http/protobuf":
		t.Protocol = "http/protobuf"
	case "grpc":
	default:
		return t, fmt.Errorf("%s is %q; the host exports traces over http/protobuf or grpc", name, t.Protocol)
	}
	t.Enabled = true
	t.DriverEnv = sdk.TraceEnv(os.Environ())
	return t, nil
}

// startTracing installs the process's tracer provider and the W3C trace
// context propagator when tracing is enabled, with OpenTelemetry's own
// errors (an unreachable collector, say) in log, and returns the function
// that flushes and stops it (a no-op otherwise).
func startTracing(ctx context.Context, t tracingConfig, log hclog.Logger) (func(context.Context) error, error) {
	if !t.Enabled {
		return func(context.Context) error { return nil }, nil
	}
	var exp sdktrace.SpanExporter
	var err error
	if t.Protocol == "grpc" {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "crmhost")),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing", "error", err) }))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	log.Info("tracing", "protocol", t.Protocol, "drivers_export", len(t.DriverEnv) > 0)
	return tp.Shutdown, nil
}
