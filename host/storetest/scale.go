package storetest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/host"
)

// ScaleEnv gates BenchScale: unset, the benchmark is skipped (so `make
// test` and `make bench` never load millions of rows); 1 loads the full
// fixture; a fraction such as 0.01 loads that share of it, for a quick
// look.
const ScaleEnv = "CRMHOST_BENCH_SCALE"

// Scale is the size of the scale fixture.
type Scale struct {
	Tenants, Audit, Idempotency int
}

// FullScale is the fixture of issue 15: 10,000 tenants spread over the
// ten registered drivers, 5 million audit rows, 1 million idempotency
// records.
var FullScale = Scale{Tenants: 10_000, Audit: 5_000_000, Idempotency: 1_000_000}

// ScaleProviders are the driver slugs the fixture's connections spread
// over, round robin.
var ScaleProviders = []string{"athena", "genericrest", "hubspot", "mindbody", "odoo", "salesforce", "tekmetric", "toast", "webhook", "zoho"}

// ScaleStart is the fixture's first audit time; audit row i is at
// ScaleStart + i seconds, so 5 million rows span 58 days. Idempotency
// record i expires at ScaleStart + i seconds.
var ScaleStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ScaleActions are the audit actions, row i having ScaleActions[i%4];
// every 20th row's outcome is error. Row i's tenant is
// ScaleTenant(i % Tenants).
var ScaleActions = []string{"credential.decrypt", "record.create", "record.update", "connection.test"}

// ScaleTenant is the ID of the fixture's i-th tenant (created at
// ScaleStart + i ms).
func ScaleTenant(i int) string { return fmt.Sprintf("ten_scale_%05d", i) }

// ScaleFromEnv returns the fixture size ScaleEnv asks for, skipping b when
// it is unset.
func ScaleFromEnv(b *testing.B) Scale {
	b.Helper()
	v := os.Getenv(ScaleEnv)
	if v == "" {
		b.Skipf("%s is not set: the scale fixture (%d tenants, %d audit rows, %d idempotency records) loads only on request",
			ScaleEnv, FullScale.Tenants, FullScale.Audit, FullScale.Idempotency)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1 {
		b.Fatalf("%s must be 1 (the full fixture) or a fraction of it, got %q", ScaleEnv, v)
	}
	sc := func(n int) int { return max(1, int(float64(n)*f)) }
	return Scale{Tenants: max(10, sc(FullScale.Tenants)), Audit: sc(FullScale.Audit), Idempotency: sc(FullScale.Idempotency)}
}

// Explainer returns the query plan of a query in the store's dialect
// (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL), for the log.
type Explainer func(ctx context.Context, query string, args ...any) (string, error)

// BenchScale measures, on a store holding the scale fixture (loaded by
// the caller), the operations whose cost could grow with it: tenant
// listing pages, audit pages with and without filters at several depths,
// and one bounded batch of each prune. Each sub-benchmark reports its
// p50 and p99 in µs.
func BenchScale(b *testing.B, s host.Store, sc Scale) {
	ctx := context.Background()
	// Audit IDs are the store's; find the oldest and newest.
	newest, err := s.ListAudit(ctx, host.AuditFilter{Limit: 1})
	if err != nil || len(newest) == 0 {
		b.Fatalf("ListAudit newest: %v, %d rows", err, len(newest))
	}
	top := newest[0].ID
	bottom := top - int64(sc.Audit) + 1
	depth := func(frac float64) int64 { return bottom + int64(float64(sc.Audit)*frac) }
	tenant := ScaleTenant(sc.Tenants / 2)
	cases := []struct {
		name string
		f    host.AuditFilter
	}{
		{"All/newest", host.AuditFilter{}},
		{"All/middle", host.AuditFilter{BeforeID: depth(0.5)}},
		{"All/oldest", host.AuditFilter{BeforeID: depth(0.001)}},
		{"Tenant/newest", host.AuditFilter{TenantID: tenant}},
		{"Tenant/middle", host.AuditFilter{TenantID: tenant, BeforeID: depth(0.5)}},
		{"Tenant/oldest", host.AuditFilter{TenantID: tenant, BeforeID: depth(0.01)}},
		{"TenantAction/middle", host.AuditFilter{TenantID: tenant, Action: ScaleActions[1], BeforeID: depth(0.5)}},
		{"Action/middle", host.AuditFilter{Action: ScaleActions[2], BeforeID: depth(0.5)}},
		{"TenantErrors/middle", host.AuditFilter{TenantID: tenant, Outcome: host.OutcomeError, BeforeID: depth(0.5)}},
		{"Errors/middle", host.AuditFilter{Outcome: host.OutcomeError, BeforeID: depth(0.5)}},
		{"TenantDay/middle", host.AuditFilter{TenantID: tenant, Since: ScaleStart.Add(time.Duration(sc.Audit/2) * time.Second),
			Until: ScaleStart.Add(time.Duration(sc.Audit/2)*time.Second + 24*time.Hour)}},
		{"Request", host.AuditFilter{RequestID: "req-" + strconv.Itoa(sc.Audit/2)}},
	}
	for _, c := range cases {
		b.Run("Audit/"+c.name, func(b *testing.B) {
			f := c.f
			f.Limit = 50
			measure(b, func() error {
				_, err := s.ListAudit(ctx, f)
				return err
			})
		})
	}
	all, err := s.ListTenants(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, at := range []struct {
		name string
		frac float64
	}{{"first", 0}, {"middle", 0.5}, {"last", 0.99}} {
		b.Run("Tenants/"+at.name, func(b *testing.B) {
			p := host.TenantPage{Limit: 100}
			if i := int(float64(len(all)) * at.frac); i > 0 {
				p.After = host.CursorOf(all[i-1])
			}
			measure(b, func() error {
				_, err := s.ListTenantsPage(ctx, p)
				return err
			})
		})
	}
	// One batch of each prune at a time, oldest first: every iteration
	// deletes rows the fixture holds (batches of 1,000 from the oldest,
	// up to a tenth of the rows).
	b.Run("PruneAudit/batch1000", func(b *testing.B) {
		before := ScaleStart.Add(time.Duration(sc.Audit/10) * time.Second)
		measure(b, func() error {
			_, err := s.PruneAudit(ctx, before, 1000)
			return err
		})
	})
	b.Run("PruneIdempotency/batch1000", func(b *testing.B) {
		before := ScaleStart.Add(time.Duration(sc.Idempotency/10) * time.Second)
		measure(b, func() error {
			_, err := s.PruneIdempotency(ctx, before, 1000)
			return err
		})
	})
}

// Measure runs op b.Loop times and reports its p50 and p99 (µs).
func Measure(b *testing.B, op func() error) { measure(b, op) }

// measure runs op b.Loop times and reports its p50 and p99 (µs).
func measure(b *testing.B, op func() error) {
	b.Helper()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))]) / float64(time.Microsecond)
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
