package main_test

// Benchmarks of the athena driver (run with `make bench`, or
// `go test -run '^$' -bench .`). They measure and report; they assert
// nothing about time. The figures are in README.md, "Performance".

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/athena"
	"crmhost.dev/plugins/athena/fake"
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

// seeded starts a fake (not validating requests, so that it costs little)
// with one patient to find.
func seeded(b *testing.B, o fake.Options) (*fake.Server, sdk.Connection) {
	b.Helper()
	srv, err := fake.Start(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	conn := srv.Connection()
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	if _, err := athena.New().CreateRecord(ctx, conn, sdk.CreateInput{Object: "patients", Fields: map[string]any{
		"firstname": "Ada", "lastname": "Lovelace", "dob": "12/10/1815", "email": "ada@example.com", "mobilephone": "+14155550100"}}); err != nil {
		b.Fatal(err)
	}
	return srv, conn
}

// BenchmarkLookupRoundTrip is a LookupCustomer by phone through the
// launched driver process against the fake athenahealth, with the token
// stored: one GET /patients?anyphone= per call.
func BenchmarkLookupRoundTrip(b *testing.B) {
	p := sharedProc(b)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	_, conn := seeded(b, fake.Options{})
	for b.Loop() {
		r, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "(415) 555-0100"})
		if err != nil || r.Customer == nil {
			b.Fatalf("lookup: %+v, %v", r, err)
		}
	}
}

// BenchmarkSDKOverhead interleaves a LookupCustomer through the plugin and
// a bare gRPC health check over the same connection in every iteration, so
// both see the same machine load; overhead-% is the lookup's extra time
// over the health check (the HTTP call to the fake included).
func BenchmarkSDKOverhead(b *testing.B) {
	p := sharedProc(b)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	_, conn := seeded(b, fake.Options{})
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

// BenchmarkStoredToken compares, through the plugin and interleaved, a
// lookup on a connection whose token the host stored from an earlier
// credential update (one API request) with one on a connection holding no
// token, as every call would be if the driver kept its token to itself
// (a token request, then the API request). requests/op counts the HTTP
// requests the fake received.
func BenchmarkStoredToken(b *testing.B) {
	p := sharedProc(b)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	srv, stored := seeded(b, fake.Options{TokenLimit: 1 << 30})
	bare := srv.Unissued()
	q := sdk.LookupQuery{Email: "ada@example.com"}
	var coldT, warmT time.Duration
	var coldN, warmN, n int
	for b.Loop() {
		r0 := srv.RequestCount()
		t0 := time.Now()
		if _, err := p.cl.LookupCustomer(ctx, bare, q); err != nil {
			b.Fatal(err)
		}
		coldT += time.Since(t0)
		r1 := srv.RequestCount()
		t1 := time.Now()
		if _, err := p.cl.LookupCustomer(ctx, stored, q); err != nil {
			b.Fatal(err)
		}
		warmT += time.Since(t1)
		coldN += r1 - r0
		warmN += srv.RequestCount() - r1
		n++
	}
	b.ReportMetric(float64(coldT.Nanoseconds())/float64(n), "no-token-ns/op")
	b.ReportMetric(float64(warmT.Nanoseconds())/float64(n), "stored-token-ns/op")
	b.ReportMetric(float64(coldN)/float64(n), "no-token-requests/op")
	b.ReportMetric(float64(warmN)/float64(n), "stored-token-requests/op")
}

// BenchmarkListRecent pages through a feed of 200 changed patients, 50 at
// a time, in process: every page reads the whole retained feed (the
// driver keeps no state between calls), so a page costs what the feed
// holds, not what the page holds.
func BenchmarkListRecent(b *testing.B) {
	srv, err := fake.Start(fake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	conn := srv.Connection()
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	d := athena.New()
	for i := range 200 {
		if _, err := d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "patients", Fields: map[string]any{
			"firstname": "Ada", "lastname": "Lovelace", "dob": "12/10/1815", "email": "ada" + strconv.Itoa(i) + "@example.com"}}); err != nil {
			b.Fatal(err)
		}
	}
	pages := 0
	for b.Loop() {
		cursor := ""
		for {
			r, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: "patients", Cursor: cursor, Limit: 50})
			if err != nil {
				b.Fatal(err)
			}
			pages++
			cursor = r.NextCursor
			if !r.HasMore {
				break
			}
		}
	}
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
}
