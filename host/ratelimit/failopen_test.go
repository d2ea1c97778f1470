package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host/internal/redistest"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"crmhost.dev/host/ratelimit"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(substr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range strings.Split(s.b.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

const failLog = "redis rate limiter failed"

// wantFailures asserts the failure counter's value on reg.
func wantFailures(t *testing.T, reg *prometheus.Registry, n int) {
	t.Helper()
	want := fmt.Sprintf(`
# HELP %[1]s Rate-limit calls to Redis that failed or timed out and were decided by the in-process limiter instead.
# TYPE %[1]s counter
%[1]s %d
`, ratelimit.FailuresMetric, n)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), ratelimit.FailuresMetric); err != nil {
		t.Fatal(err)
	}
}

// TestFailOpenWhenRedisDies runs its own redis-server, kills it mid-test,
// and restarts it: shared limiting, then local limiting at limit/replicas
// with the counter and one log line, then shared limiting again.
func TestFailOpenWhenRedisDies(t *testing.T) {
	port := redistest.FreePort(t)
	srv := redistest.Start(t, port)
	reg := prometheus.NewRegistry()
	var logs syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn})
	c := newClock()
	const replicas = 3
	newReplica := func() *ratelimit.FailOpen {
		t.Helper()
		client := newClient(t, srv.URL())
		r := newRedisLimiter(t, client, ratelimit.RedisOptions{Prefix: "failopen-test:", Timeout: time.Second})
		f, err := ratelimit.NewFailOpen(r, ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now}), replicas,
			ratelimit.FailOpenOptions{Registerer: reg, Logger: logger, LogEvery: time.Minute, Now: c.Now})
		if err != nil {
			t.Fatalf("NewFailOpen: %v", err)
		}
		return f
	}
	a, b := newReplica(), newReplica() // b reuses a's registered counter
	ctx := context.Background()
	l := ratelimit.Limit{Name: "api_key", Rate: 10, Period: time.Hour}
	full := ratelimit.Limit{Name: "api_key", Rate: 10, Period: time.Hour, Burst: 10}
	failOpens := 0
	allow := func(f *ratelimit.FailOpen, key string, l ratelimit.Limit) ratelimit.Result {
		t.Helper()
		res, err := f.Allow(ctx, key, l)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		if res.FailOpen {
			failOpens++
		}
		return res
	}

	// Shared limiting through Redis.
	for i := 0; i < 3; i++ {
		if res := allow(a, "k1", l); !res.Allowed || res.FailOpen || res.Remaining != 9-i {
			t.Fatalf("request %d through Redis = %+v", i, res)
		}
	}
	wantFailures(t, reg, 0)

	// Redis dies: requests are decided locally at ceil(10/3) = 4 per hour.
	srv.Kill()
	interval := 15 * time.Minute
	for i, want := range []ratelimit.Result{
		{Allowed: true, Limit: full, Remaining: 3, ResetAfter: interval, Policy: "api_key", FailOpen: true},
		{Allowed: true, Limit: full, Remaining: 2, ResetAfter: 2 * interval, Policy: "api_key", FailOpen: true},
		{Allowed: true, Limit: full, Remaining: 1, ResetAfter: 3 * interval, Policy: "api_key", FailOpen: true},
		{Allowed: true, Limit: full, Remaining: 0, ResetAfter: 4 * interval, Policy: "api_key", FailOpen: true},
		{Allowed: false, Limit: full, RetryAfter: interval, ResetAfter: 4 * interval, Policy: "api_key", FailOpen: true},
	} {
		if diff := cmp.Diff(want, allow(a, "k1", l)); diff != "" {
			t.Fatalf("request %d with Redis down (-want +got):\n%s", i, diff)
		}
	}
	wantFailures(t, reg, 5)
	if got := logs.lines(failLog); len(got) != 1 {
		t.Fatalf("after 5 failures within LogEvery: %d log lines, want 1:\n%s", len(got), strings.Join(got, "\n"))
	}
	c.Advance(2 * time.Minute)
	allow(a, "k1", l)
	wantFailures(t, reg, 6)
	if got := logs.lines(failLog); len(got) != 2 || !strings.Contains(got[1], "failures_not_logged=4") {
		t.Fatalf("after LogEvery: log lines\n%s\nwant a second one with failures_not_logged=4", strings.Join(got, "\n"))
	}

	// Redis is back (empty: no persistence): shared limiting resumes by
	// itself once each replica's client reconnects.
	redistest.Start(t, port)
	probe := ratelimit.Limit{Rate: 1000, Period: time.Second}
	for _, f := range []*ratelimit.FailOpen{a, b} {
		deadline := time.Now().Add(20 * time.Second)
		for allow(f, "probe", probe).FailOpen {
			if time.Now().After(deadline) {
				t.Fatal("a replica still fails open 20s after Redis came back")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var allowed int
	for i := 0; i < 11; i++ {
		res := allow([]*ratelimit.FailOpen{a, b}[i%2], "k2", l)
		if res.FailOpen {
			t.Fatalf("request %d after Redis came back failed open", i)
		}
		if res.Allowed {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("after Redis came back: admitted %d of 11 across two replicas, want 10", allowed)
	}
	wantFailures(t, reg, failOpens)
}

// TestFailOpenHungRedis: a Redis that never answers costs each request
// about the timeout, and the request is decided locally.
func TestFailOpenHungRedis(t *testing.T) {
	client, err := ratelimit.NewRedisClient(hungServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	reg := prometheus.NewRegistry()
	f, err := ratelimit.NewFailOpen(newRedisLimiter(t, client, ratelimit.RedisOptions{}),
		ratelimit.NewLocal(ratelimit.LocalOptions{}), 1, ratelimit.FailOpenOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	l := ratelimit.Limit{Rate: 2, Period: time.Minute}
	bound := ratelimit.DefaultRedisTimeout + time.Second // generous: a bound, not a benchmark
	for i, wantAllowed := range []bool{true, true, false} {
		start := time.Now()
		res, err := f.Allow(context.Background(), "k", l)
		if elapsed := time.Since(start); elapsed > bound {
			t.Fatalf("request %d took %s with a hung Redis, want at most %s", i, elapsed, bound)
		}
		if err != nil || !res.FailOpen || res.Allowed != wantAllowed {
			t.Fatalf("request %d = %+v, %v; want FailOpen, Allowed %v", i, res, err, wantAllowed)
		}
	}
	wantFailures(t, reg, 3)

	// A caller that gave up gets its context's error, not a decision.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Allow(ctx, "k", l); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a cancelled context: %v, want context.Canceled", err)
	}
	wantFailures(t, reg, 3)
}

func TestNewFailOpenConfig(t *testing.T) {
	client, err := ratelimit.NewRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	r := newRedisLimiter(t, client, ratelimit.RedisOptions{})
	loc := ratelimit.NewLocal(ratelimit.LocalOptions{})
	clash := prometheus.NewRegistry()
	clash.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: ratelimit.FailuresMetric, Help: "not a counter"}))
	tests := []struct {
		name     string
		primary  *ratelimit.Redis
		fallback *ratelimit.Local
		replicas int
		opts     ratelimit.FailOpenOptions
		wantErr  string
	}{
		{"ok", r, loc, 2, ratelimit.FailOpenOptions{Registerer: prometheus.NewRegistry()}, ""},
		{"no redis", nil, loc, 1, ratelimit.FailOpenOptions{}, "needs both"},
		{"no local", r, nil, 1, ratelimit.FailOpenOptions{}, "needs both"},
		{"zero replicas", r, loc, 0, ratelimit.FailOpenOptions{}, "replica count must be at least 1, got 0"},
		{"negative log interval", r, loc, 1, ratelimit.FailOpenOptions{LogEvery: -time.Second}, "negative log interval"},
		{"metric name taken by another type", r, loc, 1, ratelimit.FailOpenOptions{Registerer: clash}, ratelimit.FailuresMetric},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ratelimit.NewFailOpen(tt.primary, tt.fallback, tt.replicas, tt.opts)
			checkErr(t, err, tt.wantErr, ratelimit.ErrConfig)
		})
	}
	// An invalid limit is a caller's error, not a Redis failure.
	f, err := ratelimit.NewFailOpen(r, loc, 1, ratelimit.FailOpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Allow(context.Background(), "k", ratelimit.Limit{Rate: 1})
	checkErr(t, err, "period must be positive", ratelimit.ErrInvalidLimit)
}

// TestFailOpenLiveReplicas: with a live replica count, each replica's
// share while Redis is down follows the count as replicas come and go.
func TestFailOpenLiveReplicas(t *testing.T) {
	client, err := ratelimit.NewRedisClient("redis://127.0.0.1:1/0") // nothing listens: every call fails
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var live atomic.Int64
	f, err := ratelimit.NewFailOpen(newRedisLimiter(t, client, ratelimit.RedisOptions{}), ratelimit.NewLocal(ratelimit.LocalOptions{}),
		1, ratelimit.FailOpenOptions{Replicas: func() int { return int(live.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	l := ratelimit.Limit{Rate: 12, Period: time.Hour}
	admitted := func(key string) int {
		t.Helper()
		n := 0
		for range 20 {
			res, err := f.Allow(context.Background(), key, l)
			if err != nil || !res.FailOpen {
				t.Fatalf("Allow = %+v, %v; want a fail-open decision", res, err)
			}
			if res.Allowed {
				n++
			}
		}
		return n
	}
	for _, c := range []struct{ live, want int }{{0, 12}, {1, 12}, {3, 4}, {4, 3}, {12, 1}, {50, 1}} {
		live.Store(int64(c.live))
		if got := admitted(fmt.Sprintf("k%d", c.live)); got != c.want {
			t.Errorf("%d live replicas: this one admitted %d of 20, want %d", c.live, got, c.want)
		}
	}
}
