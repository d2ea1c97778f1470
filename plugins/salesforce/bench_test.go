package main_test

// Benchmarks of the Salesforce driver over the real crm-driver-salesforce
// process (run with `make bench`, or `go test -run '^$' -bench .`). They
// measure and report; they assert nothing about time. The figures are in
// README.md, "Performance".

import (
	"context"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/sdk"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// shared is the one driver process the round-trip benchmarks share, so
// that the sdk call and the bare health check hit the same process over
// the same connection. TestMain kills it.
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

// webhookCall is an Outbound Message for a record of org A and the
// connection that verifies it.
func webhookCall(b *testing.B, srv *fake.Server) (sdk.Connection, sdk.WebhookRequest) {
	conn := srv.Connection()
	p := sharedProc(b)
	c, err := p.cl.CreateRecord(sdk.WithEgressAllow(context.Background(), loopback), conn,
		sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": "Bench", "Email": "bench@example.com", "Phone": "+14155550100"}})
	if err != nil {
		b.Fatal(err)
	}
	req, err := srv.OutboundMessage(fake.OrgA, "", c.ExternalID)
	if err != nil {
		b.Fatal(err)
	}
	return conn, req
}

// BenchmarkVerbRoundTrip is one sdk client call through sdk.Serve in the
// driver process: Describe (answered from the sdk's cache), VerifyWebhook
// (parsed locally: one SOAP notification), and the lookups that reach the
// fake Salesforce in this process (SOQL by email; SOSL by phone).
func BenchmarkVerbRoundTrip(b *testing.B) {
	p := sharedProc(b)
	srv := fake.New(b, fake.Options{})
	conn, req := webhookCall(b, srv)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	calls := []struct {
		name string
		call func() error
	}{
		{"Describe", func() error { _, err := p.cl.Describe(ctx); return err }},
		{"VerifyWebhook", func() error { _, err := p.cl.VerifyWebhook(ctx, conn, req); return err }},
		{"LookupCustomer-email", func() error {
			_, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "bench@example.com"})
			return err
		}},
		{"LookupCustomer-phone", func() error {
			_, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "(415) 555-0100"})
			return err
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBareHealthCheck is the floor: go-plugin's gRPC health check to
// the same process over the same (AutoMTLS) connection.
func BenchmarkBareHealthCheck(b *testing.B) {
	p := sharedProc(b)
	hc := healthpb.NewHealthClient(p.conn)
	req := &healthpb.HealthCheckRequest{Service: "plugin"}
	for b.Loop() {
		if _, err := hc.Check(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDKOverhead interleaves an sdk verb and a bare health check in
// every iteration, timing each, so that both see the same machine state;
// it reports both means and the verb's overhead over the bare call.
func BenchmarkSDKOverhead(b *testing.B) {
	p := sharedProc(b)
	srv := fake.New(b, fake.Options{})
	conn, hook := webhookCall(b, srv)
	ctx := sdk.WithEgressAllow(context.Background(), loopback)
	verbs := []struct {
		name string
		call func() error
	}{
		{"Describe", func() error { _, err := p.cl.Describe(ctx); return err }},
		{"VerifyWebhook", func() error { _, err := p.cl.VerifyWebhook(ctx, conn, hook); return err }},
	}
	hc := healthpb.NewHealthClient(p.conn)
	req := &healthpb.HealthCheckRequest{Service: "plugin"}
	for _, v := range verbs {
		b.Run(v.name, func(b *testing.B) {
			var verb, bare time.Duration
			n := 0
			for b.Loop() {
				t0 := time.Now()
				if err := v.call(); err != nil {
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
			b.ReportMetric(float64(verb.Nanoseconds())/float64(n), "verb-ns/op")
			b.ReportMetric(float64(bare.Nanoseconds())/float64(n), "health-ns/op")
			b.ReportMetric(100*(float64(verb)-float64(bare))/float64(bare), "overhead-%")
		})
	}
}

// BenchmarkStartToFirstCall launches the driver as the host does
// (checksum, exec, AutoMTLS, dispense) and times it to the first Describe
// answer.
func BenchmarkStartToFirstCall(b *testing.B) {
	ctx := context.Background()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		p, err := launch(pluginSum, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.cl.Describe(ctx); err != nil {
			p.pc.Kill()
			b.Fatal(err)
		}
		total += time.Since(t0)
		b.StopTimer()
		p.pc.Kill()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/op")
}
