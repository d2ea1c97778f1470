package ratelimit_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/host/ratelimit"
)

// step is one request in a scripted sequence: advance the clock, then Allow.
type step struct {
	advance time.Duration
	want    ratelimit.Result
}

func runSteps(t *testing.T, c *clock, lim ratelimit.Limiter, key string, l ratelimit.Limit, steps []step) {
	t.Helper()
	for i, s := range steps {
		c.Advance(s.advance)
		got, err := lim.Allow(context.Background(), key, l)
		if err != nil {
			t.Fatalf("step %d: Allow: %v", i, err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("step %d (after +%s) mismatch (-want +got):\n%s", i, s.advance, diff)
		}
	}
}

func TestLocalGCRA(t *testing.T) {
	// 5/s: one unit every 200ms, a burst of 5.
	five := ratelimit.Limit{Name: "api_key", Rate: 5, Period: time.Second, Burst: 5}
	ok := func(remaining int, reset time.Duration) ratelimit.Result {
		return ratelimit.Result{Allowed: true, Limit: five, Remaining: remaining, ResetAfter: reset, Policy: "api_key"}
	}
	no := func(retry, reset time.Duration) ratelimit.Result {
		return ratelimit.Result{Limit: five, RetryAfter: retry, ResetAfter: reset, Policy: "api_key"}
	}
	ms := time.Millisecond
	tests := []struct {
		name  string
		limit ratelimit.Limit
		steps []step
	}{
		{
			name:  "burst then refusal with retry-after",
			limit: five,
			steps: []step{
				{0, ok(4, 200*ms)}, {0, ok(3, 400*ms)}, {0, ok(2, 600*ms)}, {0, ok(1, 800*ms)}, {0, ok(0, time.Second)},
				{0, no(200*ms, time.Second)},
				{50 * ms, no(150*ms, 950*ms)},
			},
		},
		{
			name:  "refill over time",
			limit: five,
			steps: []step{
				{0, ok(4, 200*ms)}, {0, ok(3, 400*ms)}, {0, ok(2, 600*ms)}, {0, ok(1, 800*ms)}, {0, ok(0, time.Second)},
				{200 * ms, ok(0, time.Second)},    // one unit back after one interval
				{0, no(200*ms, time.Second)},      // and spent again
				{500 * ms, ok(1, 700*ms)},         // 2.5 intervals: two units back
				{10 * time.Second, ok(4, 200*ms)}, // idle: full burst again
			},
		},
		{
			name:  "burst defaults to rate, name to default",
			limit: ratelimit.Limit{Rate: 2, Period: time.Minute},
			steps: []step{
				{0, ratelimit.Result{Allowed: true, Limit: ratelimit.Limit{Rate: 2, Period: time.Minute, Burst: 2}, Remaining: 1, ResetAfter: 30 * time.Second, Policy: "default"}},
				{0, ratelimit.Result{Allowed: true, Limit: ratelimit.Limit{Rate: 2, Period: time.Minute, Burst: 2}, Remaining: 0, ResetAfter: time.Minute, Policy: "default"}},
				{0, ratelimit.Result{Limit: ratelimit.Limit{Rate: 2, Period: time.Minute, Burst: 2}, RetryAfter: 30 * time.Second, ResetAfter: time.Minute, Policy: "default"}},
			},
		},
		{
			name:  "burst smaller than rate",
			limit: ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 1},
			steps: []step{
				{0, ratelimit.Result{Allowed: true, Limit: ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 1}, ResetAfter: 100 * ms, Policy: "default"}},
				{0, ratelimit.Result{Limit: ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 1}, RetryAfter: 100 * ms, ResetAfter: 100 * ms, Policy: "default"}},
				{100 * ms, ratelimit.Result{Allowed: true, Limit: ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 1}, ResetAfter: 100 * ms, Policy: "default"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			lim := ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now})
			runSteps(t, c, lim, "k", tt.limit, tt.steps)
		})
	}
}

func TestLocalKeysAreIndependent(t *testing.T) {
	lim := ratelimit.NewLocal(ratelimit.LocalOptions{Now: newClock().Now})
	l := ratelimit.Limit{Rate: 1, Period: time.Minute}
	for i, s := range []struct {
		key  string
		want bool
	}{{"a", true}, {"b", true}, {"a", false}, {"b", false}, {"c", true}} {
		res, err := lim.Allow(context.Background(), s.key, l)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed != s.want {
			t.Errorf("request %d for key %q: Allowed = %v, want %v", i, s.key, res.Allowed, s.want)
		}
	}
}

func TestLocalPeekConsumesNothing(t *testing.T) {
	c := newClock()
	lim := ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now})
	l := ratelimit.Limit{Rate: 2, Period: time.Second}
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		res, err := lim.Peek(ctx, "k", l)
		if err != nil || !res.Allowed || res.Remaining != 2 {
			t.Fatalf("Peek on a fresh key = %+v, %v; want allowed with 2 remaining", res, err)
		}
	}
	for i := 0; i < 2; i++ {
		if res, _ := lim.Allow(ctx, "k", l); !res.Allowed {
			t.Fatalf("Allow %d refused after peeks", i)
		}
	}
	res, err := lim.Peek(ctx, "k", l)
	want := ratelimit.Result{Limit: ratelimit.Limit{Rate: 2, Period: time.Second, Burst: 2}, RetryAfter: 500 * time.Millisecond, ResetAfter: time.Second, Policy: "default"}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("Peek on an exhausted key mismatch (-want +got):\n%s", diff)
	}
	c.Advance(500 * time.Millisecond)
	if res, _ := lim.Allow(ctx, "k", l); !res.Allowed {
		t.Fatal("Allow refused after the peeked retry-after")
	}
}

func TestLocalInvalidLimit(t *testing.T) {
	lim := ratelimit.NewLocal(ratelimit.LocalOptions{})
	for _, l := range []ratelimit.Limit{{}, {Rate: 1}, {Rate: -1, Period: time.Second}} {
		_, err := lim.Allow(context.Background(), "k", l)
		checkErr(t, err, "ratelimit: invalid limit", ratelimit.ErrInvalidLimit)
	}
}

func TestLocalConcurrentAdmitsExactlyBurst(t *testing.T) {
	lim := ratelimit.NewLocal(ratelimit.LocalOptions{})
	l := ratelimit.Limit{Rate: 50, Period: time.Hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if res, err := lim.Allow(context.Background(), "shared", l); err == nil && res.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Fatalf("admitted %d of 200 concurrent requests, want exactly 50", got)
	}
}

func TestLocalEvictionBoundsMemory(t *testing.T) {
	c := newClock()
	const maxKeys = 256
	lim := ratelimit.NewLocal(ratelimit.LocalOptions{MaxKeys: maxKeys, Now: c.Now})
	l := ratelimit.Limit{Rate: 1, Period: time.Second}
	ctx := context.Background()
	// A flood of distinct busy keys never grows the map past the bound.
	for i := 0; i < 20*maxKeys; i++ {
		if _, err := lim.Allow(ctx, "flood-"+strconv.Itoa(i), l); err != nil {
			t.Fatal(err)
		}
		if n := lim.Len(); n > maxKeys+32 { // per-shard rounding
			t.Fatalf("after %d keys Len() = %d, want at most about %d", i+1, n, maxKeys)
		}
	}
	// Idle keys are forgotten first and forgetting them changes nothing:
	// a key whose state expired answers exactly like a new one.
	c.Advance(time.Hour)
	res, err := lim.Allow(ctx, "flood-1", l)
	if err != nil || !res.Allowed || res.Remaining != 0 {
		t.Fatalf("idle key after eviction: %+v, %v", res, err)
	}
	if res, _ := lim.Allow(ctx, "flood-1", l); res.Allowed {
		t.Fatal("a busy key was not limited")
	}
}
