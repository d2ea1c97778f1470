package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/storetest"
	"crmhost.dev/sdk"
)

// BenchmarkLookupTenants measures lookups through the host with many
// tenants: 10,000 (times CRMHOST_BENCH_SCALE; skipped without it), each
// connected through the broker to the HubSpot fake with a credential
// sealed under its own DEK. At 500 lookups a second (open loop, as
// BenchmarkLookupAt500rps) it alternates, every 250 ms, lookups of one
// tenant with lookups spread round robin over all of them, so each
// spread lookup finds the tenant's configuration and credential row out
// of the config cache (its TTL is 1 s; a tenant comes round every
// 20 s) while its DEK stays cached (the cache is sized to the tenants, as
// CRMHOST_DEK_CACHE_SIZE should be); it reports both paths' p50/p99 and their ratios
// (spread/one). A second, sequential pass of each path alone gives the
// caches' hit rates (config, credential row, DEK). Host memory: the
// process's RSS and Go heap before the tenants are connected and after
// every tenant was looked up, per 1,000 tenants (the process holds the
// fake and the clients too; they do not grow with tenants).
func BenchmarkLookupTenants(b *testing.B) {
	sc := storetest.ScaleFromEnv(b)
	n := sc.Tenants
	// The DEK cache holds every tenant's key, as CRMHOST_DEK_CACHE_SIZE
	// should be set for this many tenants (its default, 1024, would miss
	// on every spread lookup).
	h := newHarness(b, harnessOptions{lenient: true, dekCache: n + 16})
	ctx := context.Background()
	one := hostLookup(b, h) // seeds the contact, which every tenant sees (one fake account)
	rssBefore, heapBefore := memory()

	start := time.Now()
	tenants := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				t, err := h.store.CreateTenant(ctx, host.Tenant{Name: "Scale " + strconv.Itoa(i)})
				if err == nil {
					var tr sdk.TestResult
					_, tr, err = h.broker.Connect(ctx, broker.Actor{Type: host.ActorOperator, ID: "bench"}, t.ID,
						broker.ConnectInput{Provider: "hubspot", Credentials: h.credentials()})
					if err == nil && !tr.OK {
						err = fmt.Errorf("tenant %d: connection test failed", i)
					}
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				tenants[i] = t.ID
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("connect the tenants: %v", firstErr)
	}
	b.Logf("connected %d tenants in %s", n, time.Since(start).Round(time.Second))

	reqs := make([]request, n)
	body, _ := json.Marshal(map[string]string{"phone": benchPhone})
	for i, t := range tenants {
		reqs[i] = request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: h.agentToken(b, t, "conv-bench"), body: body}
	}
	var seq atomic.Int64
	spread := func(ctx context.Context) error {
		r, err := h.sendContext(ctx, reqs[int(seq.Add(1)-1)%n])
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("lookup through the host: %s", r)
		}
		return nil
	}
	d := 5 * time.Second
	if v := os.Getenv(pacedEnv); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatalf("%s: %v", pacedEnv, err)
		}
	}
	b.ResetTimer()
	paced([]lookupFunc{one, spread}, 500, d/5) // warm up
	lat, failed := paced([]lookupFunc{one, spread}, 500, d)
	b.StopTimer()
	if failed[0]+failed[1] > 0 {
		b.Errorf("%d one-tenant and %d spread lookups failed", failed[0], failed[1])
	}
	p := func(i int, q float64) float64 { return micros(percentile(lat[i], q)) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(p(0, 0.5), "one-p50-µs")
	b.ReportMetric(p(0, 0.99), "one-p99-µs")
	b.ReportMetric(p(1, 0.5), "spread-p50-µs")
	b.ReportMetric(p(1, 0.99), "spread-p99-µs")
	b.ReportMetric(p(1, 0.5)/p(0, 0.5), "p50-ratio")
	b.ReportMetric(p(1, 0.99)/p(0, 0.99), "p99-ratio")

	// Hit rates, each path alone for a second.
	for _, path := range []struct {
		name string
		f    lookupFunc
	}{{"one", one}, {"spread", spread}} {
		c0 := h.broker.CacheStats()
		hits, misses := h.keyring.CacheStats()
		k0, m0 := float64(hits), float64(misses)
		paced([]lookupFunc{path.f}, 500, time.Second)
		c1 := h.broker.CacheStats()
		hits, misses = h.keyring.CacheStats()
		rate := func(h1, h0, m1, m0 float64) float64 { return 100 * (h1 - h0) / max(1, (h1-h0)+(m1-m0)) }
		b.ReportMetric(rate(float64(c1.ConfigHits), float64(c0.ConfigHits), float64(c1.ConfigMisses), float64(c0.ConfigMisses)), path.name+"-config-hit-%")
		b.ReportMetric(rate(float64(c1.CredentialHits), float64(c0.CredentialHits), float64(c1.CredentialMisses), float64(c0.CredentialMisses)), path.name+"-cred-hit-%")
		b.ReportMetric(rate(float64(hits), k0, float64(misses), m0), path.name+"-dek-hit-%")
	}
	rssAfter, heapAfter := memory()
	per := float64(n) / 1000
	b.ReportMetric((rssAfter-rssBefore)/per, "rss-MB-per-1k-tenants")
	b.ReportMetric((heapAfter-heapBefore)/per, "heap-MB-per-1k-tenants")
}

// memory returns the process's resident set (VmRSS) and the Go heap in
// use after a collection, in MB.
func memory() (rss, heap float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = float64(ms.HeapInuse) / (1 << 20)
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, heap
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, heap
		}
	}
	return 0, heap
}
