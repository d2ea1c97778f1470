package main_test

// Benchmarks of the Odoo driver (run with `make bench`, or
// `go test -run '^$' -bench .`). They measure and report; they assert
// nothing about time. The figures are in README.md, "Performance".

import (
	"context"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// shared is the one driver process the round-trip benchmarks share.
// TestMain kills it.
var shared struct {
	once sync.Once
	p    *driverProc
	err  error
}

func sharedProc(b *testing.B) *driverProc {
	b.Helper()
	shared.once.Do(func() { shared.p, shared.err = launch(pluginSum, nil) })
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

// seeded starts a fake with one partner to find and returns the
// connection with the facts a first call learns stored, as the host keeps
// them.
func seeded(b *testing.B, version string) (*fake.Server, sdk.Connection) {
	b.Helper()
	srv := fake.New(b, fake.Options{Version: version})
	conn := srv.Connection()
	ctx, learned := sdk.CaptureCredentialUpdate(sdk.WithEgressAllow(context.Background(), loopback))
	d := odoo.New()
	if _, err := d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "res.partner", Fields: map[string]any{
		"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+14155550100"}}); err != nil {
		b.Fatal(err)
	}
	if u := learned(); u != nil {
		conn = u.Apply(conn)
	}
	return srv, conn
}

// BenchmarkLookupRoundTrip is a LookupCustomer by phone through the
// launched driver process against the fake Odoo, with the server version
// (and the JSON-RPC uid) stored: one search_read per call.
func BenchmarkLookupRoundTrip(b *testing.B) {
	p := sharedProc(b)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	for _, version := range []string{"17.0", "19.0"} {
		b.Run(version, func(b *testing.B) {
			_, conn := seeded(b, version)
			for b.Loop() {
				r, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "(415) 555-0100"})
				if err != nil || r.Customer == nil {
					b.Fatalf("lookup: %+v, %v", r, err)
				}
			}
		})
	}
}

// BenchmarkSDKOverhead interleaves a LookupCustomer through the plugin
// and a bare gRPC health check over the same connection in every
// iteration, so both see the same machine load; overhead-% is the
// lookup's extra time over the health check (the HTTP call to the fake
// included).
func BenchmarkSDKOverhead(b *testing.B) {
	p := sharedProc(b)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	_, conn := seeded(b, "19.0")
	hc := healthpb.NewHealthClient(p.conn)
	req := &healthpb.HealthCheckRequest{Service: "plugin"}
	var verb, bare time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "ada@example.com"}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := hc.Check(ctx, req); err != nil {
			b.Fatal(err)
		}
		verb += t1.Sub(t0)
		bare += time.Since(t1)
		n++
	}
	b.ReportMetric(float64(verb.Nanoseconds())/float64(n), "lookup-ns/op")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(n), "health-ns/op")
	b.ReportMetric(100*(float64(verb)-float64(bare))/float64(bare), "overhead-%")
}

// BenchmarkLearnedFacts compares, in process, a lookup on a connection
// that holds nothing the driver learned (a fresh driver: version probe,
// authenticate for JSON-RPC, fields_get, search_read) with one holding
// the facts the host stores from the first call's credential update and
// a warm schema cache (search_read alone), interleaved. requests/op counts
// the HTTP requests the fake received.
func BenchmarkLearnedFacts(b *testing.B) {
	for _, version := range []string{"17.0", "19.0"} {
		b.Run(version, func(b *testing.B) {
			srv, learned := seeded(b, version)
			cold := srv.Connection()
			warm := odoo.New()
			ctx := sdk.WithEgressAllow(context.Background(), loopback)
			q := sdk.LookupQuery{Email: "ada@example.com"}
			var coldT, warmT time.Duration
			var coldN, warmN int
			n := 0
			for b.Loop() {
				r0 := len(srv.Requests())
				t0 := time.Now()
				if _, err := odoo.New().LookupCustomer(ctx, cold, q); err != nil {
					b.Fatal(err)
				}
				coldT += time.Since(t0)
				r1 := len(srv.Requests())
				t1 := time.Now()
				if _, err := warm.LookupCustomer(ctx, learned, q); err != nil {
					b.Fatal(err)
				}
				warmT += time.Since(t1)
				coldN += r1 - r0
				warmN += len(srv.Requests()) - r1
				n++
			}
			b.ReportMetric(float64(coldT.Nanoseconds())/float64(n), "cold-ns/op")
			b.ReportMetric(float64(warmT.Nanoseconds())/float64(n), "learned-ns/op")
			b.ReportMetric(float64(coldN)/float64(n), "cold-requests/op")
			b.ReportMetric(float64(warmN)/float64(n), "learned-requests/op")
		})
	}
}
