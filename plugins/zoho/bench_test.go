package main_test

// Benchmarks over the real crm-driver-zoho process (run with `make bench`,
// or `go test -run '^$' -bench .`). They measure and report; they assert
// nothing about time. The figures are in README.md, "Performance".

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// shared is the one driver process the benchmarks share. TestMain kills
// it.
var shared struct {
	once sync.Once
	p    *driverProc
	err  error
}

func sharedProc(b *testing.B) *driverProc {
	b.Helper()
	shared.once.Do(func() { shared.p, shared.err = launch(pluginSum, hclog.NewNullLogger()) })
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

func benchCtx(b *testing.B) context.Context {
	c, cancel := context.WithTimeout(sdk.WithEgressAllow(context.Background(), loopback), time.Minute)
	b.Cleanup(cancel)
	return c
}

// BenchmarkRoundTrips measures, over one driver process and one fake Zoho
// (without spec validation, which would dominate), the floor (go-plugin's
// bare gRPC health check), a lookup by phone (one search with Zoho's
// criteria), a lookup by id, and ListRecent of 50 records (one list call),
// side by side in one run so their ratios are comparable.
func BenchmarkRoundTrips(b *testing.B) {
	p := sharedProc(b)
	srv, err := fake.Start(fake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	conn := srv.Connection()
	var id string
	for i := range 50 {
		id = srv.Seed(fake.OrgA, "Contacts", map[string]any{"Last_Name": fmt.Sprint("L", i), "Phone": fmt.Sprintf("+1415555%04d", i)})
	}
	ctx := benchCtx(b)
	health := healthpb.NewHealthClient(p.conn)
	calls := []struct {
		name string
		fn   func() error
	}{
		{"bare_health_check", func() error {
			_, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"})
			return err
		}},
		{"lookup_by_phone", func() error {
			r, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "(415) 555-0042"})
			if err == nil && r.Customer == nil {
				err = fmt.Errorf("no match")
			}
			return err
		}},
		{"lookup_by_id", func() error {
			_, err := p.cl.LookupCustomer(ctx, conn, sdk.LookupQuery{ExternalID: id})
			return err
		}},
		{"list_recent_50", func() error {
			r, err := p.cl.ListRecent(ctx, conn, sdk.ListQuery{Object: "Contacts", Limit: 50})
			if err == nil && len(r.Records) != 50 {
				err = fmt.Errorf("%d records", len(r.Records))
			}
			return err
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
