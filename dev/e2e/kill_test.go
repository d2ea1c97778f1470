package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// killsEnv overrides how many times the kill test and benchmark kill the
// driver (100).
const killsEnv = "CRMHOST_BENCH_KILLS"

// call is one lookup of the steady load, as its caller saw it.
type call struct {
	start, end time.Time
	status     int
	code       string
	err        error
}

// outage is one kill: from the SIGKILL to the first lookup answered by
// the restarted driver.
type outage struct{ kill, ready time.Time }

// killRun is the outcome of killUnderLoad.
type killRun struct {
	calls    []call
	outages  []outage
	restarts []time.Duration // kill to first success, sorted
}

// killUnderLoad keeps a steady load of lookups from tenants tenants (one
// caller each, each pacing itself every interval) on a host with the real
// HubSpot driver, and SIGKILLs the driver kills times: each time it waits
// until a probe lookup succeeds again (the restart), then lets the load
// run on the healthy driver for a while before the next kill.
func killUnderLoad(tb testing.TB, tenants, kills int, interval time.Duration) killRun {
	tb.Helper()
	h := newHarness(tb, harnessOptions{lenient: true})
	body := func(i int) []byte {
		b, _ := json.Marshal(map[string]string{"phone": fmt.Sprintf("+1 415 555 %04d", i)})
		return b
	}
	var loads []request
	for i := range tenants + 1 { // the last tenant is the probe's
		tenant := h.connectedTenant(tb, fmt.Sprintf("Kill %d", i))
		token := h.agentToken(tb, tenant, "conv-kill")
		decode[createResult](tb, h.tool(tb, token, "crm_create_record", map[string]any{"object": "customer",
			"fields": map[string]any{"first_name": "Caller", "last_name": strconv.Itoa(i), "email": fmt.Sprintf("caller%d@example.com", i),
				"phone": fmt.Sprintf("+1 415 555 %04d", i)}}), http.StatusOK)
		loads = append(loads, request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token, body: body(i)})
	}
	probe := loads[tenants]
	loads = loads[:tenants]

	ctx, stop := context.WithCancel(context.Background())
	perCaller := make([][]call, tenants)
	var wg sync.WaitGroup
	for i, req := range loads {
		wg.Go(func() {
			for ctx.Err() == nil {
				c := call{start: time.Now()}
				r, err := h.sendContext(context.Background(), req)
				c.end, c.err = time.Now(), err
				if err == nil {
					c.status = r.Status
					var p problem
					if r.Status != http.StatusOK && json.Unmarshal(r.Body, &p) == nil {
						c.code = p.Code
					}
				}
				perCaller[i] = append(perCaller[i], c)
				time.Sleep(interval)
			}
		})
	}

	var run killRun
	up := func() bool {
		r, err := h.sendContext(context.Background(), probe)
		return err == nil && r.Status == http.StatusOK
	}
	deadline := time.Now().Add(30 * time.Second)
	for !up() {
		if time.Now().After(deadline) {
			tb.Fatal("the driver never came up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range kills {
		time.Sleep(30 * time.Millisecond) // the load runs on a healthy driver
		pid := h.pid()
		if pid == 0 {
			tb.Fatal("no driver process to kill")
		}
		o := outage{kill: time.Now()}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			tb.Fatalf("kill driver %d: %v", pid, err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !up() {
			if time.Now().After(deadline) {
				tb.Fatalf("the driver did not come back within 30s of kill %d", len(run.outages)+1)
			}
			time.Sleep(time.Millisecond)
		}
		o.ready = time.Now()
		run.outages = append(run.outages, o)
		run.restarts = append(run.restarts, o.ready.Sub(o.kill))
	}
	stop()
	wg.Wait()
	for _, cs := range perCaller {
		run.calls = append(run.calls, cs...)
	}
	slices.Sort(run.restarts)
	return run
}

// check fails unless every failed call is a clean 503 driver_unavailable
// that overlapped an outage: a call that started after the driver was
// back and ended before the next kill must have succeeded.
func (run killRun) check(tb testing.TB) (failed int) {
	tb.Helper()
	for _, c := range run.calls {
		if c.err == nil && c.status == http.StatusOK {
			continue
		}
		failed++
		if c.err != nil || c.status != http.StatusServiceUnavailable || c.code != "driver_unavailable" {
			tb.Errorf("a call during the kills failed uncleanly: status %d code %q err %v", c.status, c.code, c.err)
			continue
		}
		overlaps := slices.ContainsFunc(run.outages, func(o outage) bool { return c.start.Before(o.ready) && c.end.After(o.kill) })
		if !overlaps {
			tb.Errorf("a call made while the driver was up failed: %s to %s", c.start.Format(time.RFC3339Nano), c.end.Format(time.RFC3339Nano))
		}
	}
	return failed
}

// kills is how many times to kill the driver: 100, or CRMHOST_BENCH_KILLS.
func kills(tb testing.TB) int {
	if v := os.Getenv(killsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			tb.Fatalf("%s=%q: want a positive count", killsEnv, v)
		}
		return n
	}
	return 100
}

// TestDriverKilledUnderLoad kills the driver 100 times with SIGKILL while
// four tenants look customers up without pause: the host never falls
// over, every failed lookup is a clean 503 driver_unavailable, and every
// lookup made after a restart succeeds. The restart times are logged;
// BenchmarkDriverRestart reports them.
func TestDriverKilledUnderLoad(t *testing.T) {
	run := killUnderLoad(t, 4, kills(t), 2*time.Millisecond)
	failed := run.check(t)
	if len(run.calls) < 10*len(run.outages) {
		t.Errorf("only %d lookups ran across %d kills: not a steady load", len(run.calls), len(run.outages))
	}
	r := run.restarts
	t.Logf("%d kills, %d lookups, %d failed (all driver_unavailable during an outage); restart p50 %s p90 %s p99 %s max %s",
		len(run.outages), len(run.calls), failed, percentile(r, 0.5), percentile(r, 0.9), percentile(r, 0.99), r[len(r)-1])
}

// BenchmarkDriverRestart is the kill test as a measurement: 100 SIGKILLs
// (CRMHOST_BENCH_KILLS) of the HubSpot driver under lookups from four
// tenants, reporting the time from each kill to the first lookup the
// restarted driver answers (p50, p90, p99, max) and the share of lookups
// that failed. One run whatever b.N is.
func BenchmarkDriverRestart(b *testing.B) {
	b.ResetTimer()
	run := killUnderLoad(b, 4, kills(b), 2*time.Millisecond)
	b.StopTimer()
	failed := run.check(b)
	r := run.restarts
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(percentile(r, 0.5)), "restart-p50-ms")
	b.ReportMetric(ms(percentile(r, 0.9)), "restart-p90-ms")
	b.ReportMetric(ms(percentile(r, 0.99)), "restart-p99-ms")
	b.ReportMetric(ms(r[len(r)-1]), "restart-max-ms")
	b.ReportMetric(float64(len(run.calls)), "lookups")
	b.ReportMetric(100*float64(failed)/float64(max(1, len(run.calls))), "failed-%")
}
