package e2e_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// BenchmarkLookupTracing is crm_lookup_customer through the host, one at
// a time, alternating call by call between tracing off (no tracer
// provider, as without OTEL_EXPORTER_OTLP_ENDPOINT) and on with every
// call sampled: the host's spans batched and exported over OTLP/HTTP, the
// driver's too, to a receiver on loopback that decodes each export. It
// reports both sides' p50/p99 and their ratio (on/off); it never asserts
// on time.
func BenchmarkLookupTracing(b *testing.B) {
	recv := startOTLP(b)
	recv.discard = true
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(recv.URL+"/v1/traces"), otlptracehttp.WithInsecure())
	if err != nil {
		b.Fatal(err)
	}
	on := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	off := noop.NewTracerProvider()
	prev := otel.GetTracerProvider()
	b.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = on.Shutdown(context.Background())
	})
	otel.SetTracerProvider(off)
	h := newHarness(b, harnessOptions{lenient: true, traceEnv: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.URL}})
	lookup := hostLookup(b, h)
	var lat [2][]time.Duration
	ctx := context.Background()
	i := 0
	for b.Loop() {
		side := i % 2
		i++
		if side == 0 {
			otel.SetTracerProvider(off)
		} else {
			otel.SetTracerProvider(on)
		}
		start := time.Now()
		if err := lookup(ctx); err != nil {
			b.Fatal(err)
		}
		lat[side] = append(lat[side], time.Since(start))
	}
	b.StopTimer()
	otel.SetTracerProvider(off)
	if err := on.ForceFlush(ctx); err != nil {
		b.Errorf("flush the host's spans: %v", err)
	}
	if _, err := recv.spans(); err != nil {
		b.Errorf("OTLP receiver: %v", err)
	}
	for s := range lat {
		slices.Sort(lat[s])
	}
	offP50, offP99 := percentile(lat[0], 0.50), percentile(lat[0], 0.99)
	onP50, onP99 := percentile(lat[1], 0.50), percentile(lat[1], 0.99)
	b.ReportMetric(micros(offP50), "off-p50-µs")
	b.ReportMetric(micros(offP99), "off-p99-µs")
	b.ReportMetric(micros(onP50), "on-p50-µs")
	b.ReportMetric(micros(onP99), "on-p99-µs")
	if offP50 > 0 && offP99 > 0 {
		b.ReportMetric(float64(onP50)/float64(offP50), "on/off-p50")
		b.ReportMetric(float64(onP99)/float64(offP99), "on/off-p99")
	}
}
