package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/host/ratelimit"
	"crmhost.dev/sdk"
)

// decision is the part of a Throttle result a step checks.
type decision struct {
	Allowed    bool
	Policy     string
	Remaining  int
	RetryAfter time.Duration
}

func TestThrottleTwoDeclaredLimits(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name   string
		limits []sdk.RateLimit
		steps  []struct {
			advance time.Duration
			tenant  string
			want    decision
		}
	}{
		{
			name: "burst window refuses first; refusals spend no daily quota",
			limits: []sdk.RateLimit{
				{Name: "burst", Limit: 2, WindowMS: 1000},
				{Name: "daily", Limit: 5, WindowMS: day.Milliseconds()},
			},
			steps: []struct {
				advance time.Duration
				tenant  string
				want    decision
			}{
				{0, "t1", decision{true, "burst", 1, 0}},
				{0, "t1", decision{true, "burst", 0, 0}},
				{0, "t1", decision{false, "burst", 0, 500 * time.Millisecond}},
				{0, "t1", decision{false, "burst", 0, 500 * time.Millisecond}},
				{0, "t1", decision{false, "burst", 0, 500 * time.Millisecond}},
				{0, "t2", decision{true, "burst", 1, 0}},           // another tenant has its own budget
				{time.Second, "t1", decision{true, "burst", 1, 0}}, // daily: 2 left
				{0, "t1", decision{true, "burst", 0, 0}},           // daily: 1 left
				{time.Second, "t1", decision{true, "daily", 0, 0}},
				// The burst window has room but the daily quota is spent:
				// one unit per 4.8h, 2s of which have passed since the first.
				{0, "t1", decision{false, "daily", 0, day/5 - 2*time.Second}},
			},
		},
		{
			name: "both refuse: the longest retry-after wins",
			limits: []sdk.RateLimit{
				{Name: "burst", Limit: 3, WindowMS: 1000},
				{Name: "daily", Limit: 3, WindowMS: day.Milliseconds()},
			},
			steps: []struct {
				advance time.Duration
				tenant  string
				want    decision
			}{
				{0, "t1", decision{true, "daily", 2, 0}},
				{0, "t1", decision{true, "daily", 1, 0}},
				{0, "t1", decision{true, "daily", 0, 0}},
				{0, "t1", decision{false, "daily", 0, day / 3}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			th := ratelimit.NewThrottle(ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now}), ratelimit.ThrottleOptions{})
			for i, s := range tt.steps {
				c.Advance(s.advance)
				res, err := th.Allow(context.Background(), s.tenant, tt.limits)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				got := decision{res.Allowed, res.Policy, res.Remaining, res.RetryAfter}
				if diff := cmp.Diff(s.want, got); diff != "" {
					t.Fatalf("step %d mismatch (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestThrottleEdges(t *testing.T) {
	th := ratelimit.NewThrottle(ratelimit.NewLocal(ratelimit.LocalOptions{}), ratelimit.ThrottleOptions{})
	res, err := th.Allow(context.Background(), "t1", nil)
	if err != nil || !res.Allowed {
		t.Fatalf("no declared limits: %+v, %v; want allowed", res, err)
	}
	for _, bad := range []sdk.RateLimit{
		{Name: "zero", Limit: 0, WindowMS: 1000},
		{Name: "negative window", Limit: 10, WindowMS: -1},
		{Name: "sub-millisecond", Limit: 10, WindowMS: 0},
		{Name: "absurd", Limit: 1 << 40, WindowMS: 1000},
		{Name: "two days", Limit: 10, WindowMS: (48 * time.Hour).Milliseconds()},
	} {
		_, err := th.Allow(context.Background(), "t1", []sdk.RateLimit{{Name: "ok", Limit: 1, WindowMS: 1000}, bad})
		checkErr(t, err, bad.Name, ratelimit.ErrInvalidLimit)
	}
	l, err := ratelimit.LimitFromSDK(sdk.RateLimit{Limit: 100, WindowMS: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ratelimit.Limit{Name: "provider", Rate: 100, Period: 10 * time.Second, Burst: 100}, l); diff != "" {
		t.Errorf("LimitFromSDK mismatch (-want +got):\n%s", diff)
	}
}

// TestThrottleSharedThroughRedis: two replicas' throttles, each with its own
// Redis client, share the provider budget of a tenant.
func TestThrottleSharedThroughRedis(t *testing.T) {
	url := redisURL(t)
	c1, c2 := newClient(t, url), newClient(t, url)
	prefix := testPrefix(t, c1)
	opts := ratelimit.RedisOptions{Prefix: prefix, Timeout: time.Second}
	replicas := []*ratelimit.Throttle{
		ratelimit.NewThrottle(newRedisLimiter(t, c1, opts), ratelimit.ThrottleOptions{}),
		ratelimit.NewThrottle(newRedisLimiter(t, c2, opts), ratelimit.ThrottleOptions{}),
	}
	limits := []sdk.RateLimit{{Name: "burst", Limit: 4, WindowMS: 60_000}, {Name: "daily", Limit: 100, WindowMS: 86_400_000}}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(th *ratelimit.Throttle) {
			defer wg.Done()
			res, err := th.Allow(context.Background(), "tenant-1", limits)
			if err != nil {
				t.Error(err)
				return
			}
			if res.Allowed {
				allowed.Add(1)
			} else if res.Policy != "burst" || res.RetryAfter <= 0 || res.RetryAfter > 15*time.Second {
				t.Errorf("refusal = %+v, want the burst policy with 0 < RetryAfter <= 15s", res)
			}
		}(replicas[i%2])
	}
	wg.Wait()
	if got := allowed.Load(); got != 4 {
		t.Fatalf("admitted %d of 5 calls across two replicas, want 4", got)
	}
}
