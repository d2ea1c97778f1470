package main_test

// Benchmarks over the real crm-driver-genericrest process and the
// Sample CRM (run with `make bench`). They measure and report; they
// assert nothing about time.

import (
	"context"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

var shared struct {
	once sync.Once
	p    *driverProc
	err  error
}

func sharedProc(b *testing.B) *driverProc {
	b.Helper()
	shared.once.Do(func() { shared.p, shared.err = launch(pluginSum) })
	if shared.err != nil {
		b.Fatalf("launch %s: %v", pluginBin, shared.err)
	}
	return shared.p
}

func stopShared() {
	if shared.p != nil {
		shared.p.pc.Kill()
	}
}

// BenchmarkLookupOverhead interleaves, in every iteration, a
// LookupCustomer by email through the plugin (the definition compiled once
// per process, its token reused: one request to the Sample CRM) and a bare
// gRPC health check over the same connection, and reports both and the
// difference: what the driver adds (the sdk's frame, the definition's
// cache lookup, the templates, the JSONPaths, the HTTP request).
func BenchmarkLookupOverhead(b *testing.B) {
	p := sharedProc(b)
	api := fake.New(b, fake.Options{})
	conn := api.Connection()
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	cctx, update := sdk.CaptureCredentialUpdate(ctx)
	c, err := p.cl.CreateRecord(cctx, conn, sdk.CreateInput{Object: "contacts", Fields: map[string]any{"email": "ada@example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	id := c.ExternalID
	conn = update().Apply(conn)
	hc := healthpb.NewHealthClient(p.conn)
	req := &healthpb.HealthCheckRequest{Service: "plugin"}
	var verb, bare time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		r, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "ada@example.com", Objects: []string{"contacts"}})
		if err != nil || r.Customer == nil || r.Customer.ExternalID != id {
			b.Fatalf("lookup: %+v, %v", r, err)
		}
		t1 := time.Now()
		if _, err := hc.Check(ctx, req); err != nil {
			b.Fatal(err)
		}
		verb += t1.Sub(t0)
		bare += time.Since(t1)
		n++
	}
	b.ReportMetric(float64(verb.Microseconds())/float64(n), "lookup-µs/op")
	b.ReportMetric(float64(bare.Microseconds())/float64(n), "health-µs/op")
	b.ReportMetric(float64(verb)/float64(bare), "ratio")
}

// BenchmarkDefinition is the cost of a definition: compiled from scratch
// (what the first call of a process pays, per definition) against checked
// through the per-process cache (every later call: one SHA-256).
func BenchmarkDefinition(b *testing.B) {
	raw := []byte(fake.Definition)
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			if _, err := genericrest.Compile(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		d := genericrest.New()
		conn := sdk.Connection{Config: map[string]string{"definition": fake.Definition}}
		for b.Loop() {
			if _, err := d.ListObjects(context.Background(), conn); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDryRun renders one create request (templates only, no I/O).
func BenchmarkDryRun(b *testing.B) {
	raw := []byte(fake.Definition)
	in := genericrest.DryRunInput{Fields: map[string]any{"first_name": "Ada", "email": "ada@example.com"}, IdempotencyKey: "k1"}
	for b.Loop() {
		if _, err := genericrest.DryRun(context.Background(), raw, "contacts", "create", in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartToFirstCall is what the host pays to launch the driver:
// checksum of the binary, exec, AutoMTLS, dispense and a first Describe.
// The binary is larger than a dedicated driver's (CEL, JSON Schema,
// OpenAPI); compare with the same benchmark of plugins/hubspot run beside
// it.
func BenchmarkStartToFirstCall(b *testing.B) {
	for b.Loop() {
		p, err := launch(pluginSum)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.cl.Describe(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		p.pc.Kill()
		b.StartTimer()
	}
}
