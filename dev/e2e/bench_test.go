package e2e_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// The benchmarks compare crm_lookup_customer through the host (HTTP, JWT,
// store, decrypt, audit row, mapping, supervisor, gRPC) with the same
// lookup made by a bare sdk client straight to the same driver binary.
// Both hit a fake HubSpot holding one contact; the fake does not validate
// requests against the specs here, so its cost stays small and equal on
// both sides. They report latency percentiles and never assert on time.

const benchPhone = "+1 415 555 0123"

// lookupFunc is one lookup; it returns an error unless it was answered.
type lookupFunc func(ctx context.Context) error

// hostLookup returns a lookup through h's HTTP API, for a tenant connected
// to h's fake, which it seeds with the contact.
func hostLookup(b *testing.B, h *harness) lookupFunc {
	b.Helper()
	tenant := h.connectedTenant(b, "Bench")
	token := h.agentToken(b, tenant, "conv-bench")
	decode[createResult](b, h.tool(b, token, "crm_create_record", map[string]any{"object": "customer",
		"fields": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": benchPhone}}), http.StatusOK)
	body, err := json.Marshal(map[string]string{"phone": benchPhone})
	if err != nil {
		b.Fatal(err)
	}
	req := request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token, body: body}
	lookup := func(ctx context.Context) error {
		r, err := h.sendContext(ctx, req)
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("lookup through the host: %s", r)
		}
		return nil
	}
	// Check the answer once in full; the loop checks only the status.
	if res := decode[lookupResult](b, h.send(b, req), http.StatusOK); res.MatchCount != 1 {
		b.Fatalf("lookup through the host matched %d customers, want 1", res.MatchCount)
	}
	return lookup
}

// launchDriver launches the driver binary with a bare sdk client, as the
// host's supervisor does (checksum, AutoMTLS), but with nothing around it.
func launchDriver(b *testing.B) *sdk.Client {
	b.Helper()
	sum, err := sdk.FileSHA256(hubspotBinary)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := hex.DecodeString(sum)
	if err != nil {
		b.Fatal(err)
	}
	pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(hubspotBinary), sdk.ClientOptions{SHA256: raw, Logger: hclog.NewNullLogger()}))
	b.Cleanup(pc.Kill)
	cl, err := sdk.Dispense(pc)
	if err != nil {
		b.Fatalf("launch driver: %v", err)
	}
	return cl
}

// loopback is what the direct calls let the driver reach, as the host
// lets it (drivers.Options.EgressAllow): the fakes listen on loopback,
// which the driver's egress guard refuses otherwise.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// directLookup returns a lookup by cl against the fake f, which must hold
// the contact.
func directLookup(b *testing.B, cl *sdk.Client, f *fake.Server) lookupFunc {
	b.Helper()
	conn := f.Connection()
	lookup := func(ctx context.Context) error {
		r, err := cl.LookupCustomer(sdk.WithEgressAllow(ctx, loopback), conn, sdk.LookupQuery{Phone: benchPhone})
		if err != nil {
			return err
		}
		if r.MatchCount != 1 {
			return fmt.Errorf("direct lookup matched %d customers, want 1", r.MatchCount)
		}
		return nil
	}
	if err := lookup(context.Background()); err != nil {
		b.Fatal(err)
	}
	return lookup
}

// loop runs lookup b.Loop times and reports its latency percentiles.
func loop(b *testing.B, lookup lookupFunc) {
	ctx := context.Background()
	var lat []time.Duration
	cpu := cpuTime()
	for b.Loop() {
		start := time.Now()
		if err := lookup(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.ReportMetric(micros(cpuTime()-cpu)/float64(len(lat)), "cpu-µs/op")
	slices.Sort(lat)
	b.ReportMetric(micros(percentile(lat, 0.50)), "p50-µs")
	b.ReportMetric(micros(percentile(lat, 0.99)), "p99-µs")
}

// cpuTime is the CPU time (user and system) this process has used: the
// host, the fakes and the clients, not the driver processes. Per
// operation it moves much less with the machine's load than latency does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLookupThroughHost is crm_lookup_customer over HTTP through the
// host, one request at a time.
func BenchmarkLookupThroughHost(b *testing.B) {
	h := newHarness(b, harnessOptions{lenient: true})
	loop(b, hostLookup(b, h))
}

// BenchmarkLookupDriverDirect is the driver's own LookupCustomer over its
// gRPC plugin connection, one call at a time.
func BenchmarkLookupDriverDirect(b *testing.B) {
	f, err := fake.Start(fake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.Close)
	cl := launchDriver(b)
	_, err = cl.CreateRecord(sdk.WithEgressAllow(context.Background(), loopback), f.Connection(), sdk.CreateInput{Object: "contacts",
		Fields: map[string]any{"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "phone": benchPhone}})
	if err != nil {
		b.Fatalf("seed the contact: %v", err)
	}
	loop(b, directLookup(b, cl, f))
}

// pacedEnv overrides how long BenchmarkLookupAt500rps drives each path.
const pacedEnv = "CRMHOST_BENCH_PACED"

// BenchmarkLookupAt500rps offers 500 lookups a second (open loop: each
// starts on schedule whether or not earlier ones finished) for 2 × 5 s
// (CRMHOST_BENCH_PACED per path), alternating every 250 ms between the
// driver called directly and the host, against one fake, so both paths
// share whatever else the machine is doing. It reports both paths'
// p50/p99 and the host's overhead: the difference of the percentiles.
// One run whatever b.N is.
func BenchmarkLookupAt500rps(b *testing.B) {
	const rate = 500
	d := 5 * time.Second
	if v := os.Getenv(pacedEnv); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatalf("%s: %v", pacedEnv, err)
		}
	}
	h := newHarness(b, harnessOptions{lenient: true})
	viaHost := hostLookup(b, h)
	direct := directLookup(b, launchDriver(b), h.fake)
	paths := []lookupFunc{direct, viaHost}

	b.ResetTimer()
	paced(paths, rate, d/5) // warm up: connections, caches, goroutines
	lat, failed := paced(paths, rate, d)
	b.StopTimer()
	for i, name := range []string{"direct", "host"} {
		if failed[i] > 0 {
			b.Errorf("%s: %d of %d lookups failed", name, failed[i], len(lat[i]))
		}
	}

	dp50, dp99 := percentile(lat[0], 0.50), percentile(lat[0], 0.99)
	hp50, hp99 := percentile(lat[1], 0.50), percentile(lat[1], 0.99)
	b.ReportMetric(0, "ns/op") // one paced run: wall time per op means nothing
	b.ReportMetric(micros(hp50), "host-p50-µs")
	b.ReportMetric(micros(hp99), "host-p99-µs")
	b.ReportMetric(micros(dp50), "direct-p50-µs")
	b.ReportMetric(micros(dp99), "direct-p99-µs")
	b.ReportMetric(micros(hp50-dp50), "overhead-p50-µs")
	b.ReportMetric(micros(hp99-dp99), "overhead-p99-µs")
}

// pacedSlice is how long paced sends to one path before the next.
const pacedSlice = 250 * time.Millisecond

// paced starts lookups at rate per second, each in its own goroutine,
// for d per path, taking the paths in turn for pacedSlice each. It returns
// each path's latencies, sorted, measured from when each lookup was due
// (so a stall counts against every lookup it delays), and failures.
func paced(paths []lookupFunc, rate int, d time.Duration) ([][]time.Duration, []int64) {
	interval := time.Second / time.Duration(rate)
	perSlice := max(1, int(pacedSlice/interval))
	n := max(1, int(d/interval)) * len(paths)
	lat := make([][]time.Duration, len(paths))
	failed := make([]atomic.Int64, len(paths))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx := context.Background()
	start := time.Now()
	for i := range n {
		p := (i / perSlice) % len(paths)
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Go(func() {
			err := paths[p](ctx)
			took := time.Since(due)
			if err != nil {
				failed[p].Add(1)
			}
			mu.Lock()
			lat[p] = append(lat[p], took)
			mu.Unlock()
		})
	}
	wg.Wait()
	out := make([]int64, len(paths))
	for p := range paths {
		slices.Sort(lat[p])
		out[p] = failed[p].Load()
	}
	return lat, out
}

// percentile returns the p-th percentile (nearest rank) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
