package main_test

// Benchmarks of the Tekmetric driver (run with `make bench`, or `go test
// -run '^$' -bench .`). They measure and report; they assert nothing about
// time. The figures are in README.md, "Performance".

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/plugins/tekmetric/tekmetric"
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

// seedShop fills shop A of a fake with n customers, one a minute.
func seedShop(b *testing.B, n int, clk func() time.Time) *fake.Server {
	b.Helper()
	srv := fake.New(b, fake.Options{RatePerMinute: -1, Now: clk})
	for i := range n {
		if _, err := srv.Add(fake.ShopA, "customers", map[string]any{"firstName": fmt.Sprint("C", i), "lastName": "Bench",
			"email": fmt.Sprintf("c%d@example.com", i), "phone": fmt.Sprintf("415-555-%04d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	return srv
}

// BenchmarkLookupPhone is the voice agent's first call: a phone lookup
// through the driver process against a shop of 1,000 customers (one
// customer search), interleaved in every iteration with the bare gRPC
// health check over the same connection, so both see the same machine
// load. It reports both means and their ratio.
func BenchmarkLookupPhone(b *testing.B) {
	p := sharedProc(b)
	srv := seedShop(b, 1000, nil)
	conn := srv.Connection()
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	hc := healthpb.NewHealthClient(p.conn)
	req := &healthpb.HealthCheckRequest{Service: "plugin"}
	var verb, bare time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		r, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "(415) 555-0" + fmt.Sprintf("%03d", n%1000)})
		if err != nil || r.Customer == nil {
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
	b.ReportMetric(float64(verb.Nanoseconds())/float64(n), "lookup-ns/op")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(n), "health-ns/op")
	b.ReportMetric(float64(verb)/float64(bare), "lookup/health")
}

// BenchmarkListRecent is ListRecent in process against a shop of 2,000
// customers: an incremental page (the 10 changed in the last ten minutes,
// one window), and the first page of a sync from the beginning (a window
// narrowed by bisection). It reports Tekmetric requests per call.
func BenchmarkListRecent(b *testing.B) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := fake.New(b, fake.Options{RatePerMinute: -1, Now: clk})
	for i := range 2000 {
		if _, err := srv.Add(fake.ShopA, "customers", map[string]any{"firstName": fmt.Sprint("C", i)}); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
	}
	conn := srv.Connection()
	d := tekmetric.NewWith(tekmetric.Options{Now: clk})
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	for name, since := range map[string]time.Time{"incremental": clk().Add(-10 * time.Minute), "from-the-beginning": {}} {
		b.Run(name, func(b *testing.B) {
			before := len(srv.Requests())
			n := 0
			for b.Loop() {
				r, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: "customers", Since: since, Limit: 100})
				if err != nil || len(r.Records) == 0 {
					b.Fatalf("list: %d records, %v", len(r.Records), err)
				}
				n++
			}
			b.ReportMetric(float64(len(srv.Requests())-before)/float64(n), "requests/op")
		})
	}
}
