package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"crmhost.dev/host/ratelimit"
)

// TestAllowAllMatchesAllow: AllowAll gives, for each limiter, the answers
// successive Allow calls give a twin limiter, stops at the first refusal,
// and spends nothing of the limits after a refused one; Redis's in one
// script call.
func TestAllowAllMatchesAllow(t *testing.T) {
	c := newClient(t, redisURL(t))
	redisPair := func() (ratelimit.MultiLimiter, ratelimit.Limiter) {
		return newRedisLimiter(t, c, ratelimit.RedisOptions{Prefix: testPrefix(t, c), Timeout: time.Second}),
			newRedisLimiter(t, c, ratelimit.RedisOptions{Prefix: testPrefix(t, c), Timeout: time.Second})
	}
	failOpenPair := func() (ratelimit.MultiLimiter, ratelimit.Limiter) {
		mk := func() *ratelimit.FailOpen {
			f, err := ratelimit.NewFailOpen(newRedisLimiter(t, c, ratelimit.RedisOptions{Prefix: testPrefix(t, c), Timeout: time.Second}),
				ratelimit.NewLocal(ratelimit.LocalOptions{}), 1, ratelimit.FailOpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		return mk(), mk()
	}
	localPair := func() (ratelimit.MultiLimiter, ratelimit.Limiter) {
		return ratelimit.NewLocal(ratelimit.LocalOptions{}), ratelimit.NewLocal(ratelimit.LocalOptions{})
	}
	durations := cmp.Comparer(func(a, b time.Duration) bool { // the two read the clock apart
		d := a - b
		return d < 500*time.Millisecond && d > -500*time.Millisecond
	})
	outer := ratelimit.Limit{Name: "outer", Rate: 4, Period: time.Minute}
	inner := ratelimit.Limit{Name: "inner", Rate: 2, Period: time.Hour, Burst: 2}
	for name, pair := range map[string]func() (ratelimit.MultiLimiter, ratelimit.Limiter){
		"local": localPair, "redis": redisPair, "failopen": failOpenPair,
	} {
		t.Run(name, func(t *testing.T) {
			multi, single := pair()
			ctx := context.Background()
			checks := []ratelimit.Check{{Key: "outer", Limit: outer}, {Key: "inner", Limit: inner}}
			// inner refuses from the third request on, outer from the fifth.
			for i := range 6 {
				var want []ratelimit.Result
				for _, ch := range checks {
					res, err := single.Allow(ctx, ch.Key, ch.Limit)
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, res)
					if !res.Allowed {
						break
					}
				}
				got, err := multi.AllowAll(ctx, checks)
				if err != nil {
					t.Fatalf("request %d: AllowAll: %v", i, err)
				}
				if d := cmp.Diff(want, got, durations); d != "" {
					t.Fatalf("request %d: successive Allow and AllowAll differ (-allow +allowall):\n%s", i, d)
				}
				wantLen := map[bool]int{true: 2, false: 1}[i < 4]
				if len(got) != wantLen {
					t.Fatalf("request %d: %d results, want %d", i, len(got), wantLen)
				}
			}
			// The fifth and sixth requests were refused by outer: inner's
			// quota was not spent by them (it refuses still, by its own
			// count only). A fresh key for inner passes.
			got, err := multi.AllowAll(ctx, []ratelimit.Check{{Key: "other", Limit: inner}})
			if err != nil || len(got) != 1 || !got[0].Allowed || got[0].Remaining != 1 {
				t.Fatalf("AllowAll on a fresh key = %+v, %v; want one result, allowed, 1 remaining", got, err)
			}
			if got, err := multi.AllowAll(ctx, nil); err != nil || len(got) != 0 {
				t.Fatalf("AllowAll of nothing = %+v, %v; want no results", got, err)
			}
			_, err = multi.AllowAll(ctx, []ratelimit.Check{{Key: "a", Limit: outer}, {Key: "b", Limit: ratelimit.Limit{Rate: -1, Period: time.Minute}}})
			if !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Fatalf("AllowAll with an invalid limit: %v, want ErrInvalidLimit", err)
			}
		})
	}
}

// TestAllowAllSpendsOnlyUpToTheRefusal: a request refused by its first
// limit spends nothing of the second, in Redis as in-process.
func TestAllowAllSpendsOnlyUpToTheRefusal(t *testing.T) {
	c := newClient(t, redisURL(t))
	r := newRedisLimiter(t, c, ratelimit.RedisOptions{Prefix: testPrefix(t, c), Timeout: time.Second})
	for name, lim := range map[string]ratelimit.MultiLimiter{"local": ratelimit.NewLocal(ratelimit.LocalOptions{}), "redis": r} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			first := ratelimit.Limit{Rate: 1, Period: time.Hour}
			second := ratelimit.Limit{Rate: 10, Period: time.Hour}
			checks := []ratelimit.Check{{Key: "first", Limit: first}, {Key: "second", Limit: second}}
			for i := range 4 {
				got, err := lim.AllowAll(ctx, checks)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 2, false: 1}[i == 0]; len(got) != want || got[len(got)-1].Allowed != (i == 0) {
					t.Fatalf("request %d = %+v; want %d results, the last allowed only on the first request", i, got, want)
				}
			}
			p := lim.(ratelimit.Peeker)
			res, err := p.Peek(ctx, "second", second)
			if err != nil || res.Remaining != 9 {
				t.Fatalf("second limit after one passing and three refused requests: %+v, %v; want 9 remaining", res, err)
			}
		})
	}
}

// TestAllowAllFailOpen: with Redis hung, AllowAll decides in-process
// within the timeout, every result marked FailOpen, and counts one
// failure a call.
func TestAllowAllFailOpen(t *testing.T) {
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
	checks := []ratelimit.Check{{Key: "a", Limit: ratelimit.Limit{Rate: 5, Period: time.Minute}}, {Key: "b", Limit: ratelimit.Limit{Rate: 2, Period: time.Minute}}}
	bound := ratelimit.DefaultRedisTimeout + time.Second // generous: a bound, not a benchmark
	for i, want := range []string{"[true true]", "[true true]", "[true false]"} {
		start := time.Now()
		res, err := f.AllowAll(context.Background(), checks)
		if elapsed := time.Since(start); elapsed > bound {
			t.Fatalf("request %d took %s with a hung Redis, want at most %s", i, elapsed, bound)
		}
		if err != nil {
			t.Fatal(err)
		}
		var allowed []bool
		for _, r := range res {
			if !r.FailOpen {
				t.Fatalf("request %d: %+v not marked FailOpen", i, r)
			}
			allowed = append(allowed, r.Allowed)
		}
		if got := fmt.Sprint(allowed); got != want {
			t.Fatalf("request %d: allowed %s, want %s", i, got, want)
		}
	}
	wantFailures(t, reg, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.AllowAll(ctx, checks); !errors.Is(err, context.Canceled) {
		t.Fatalf("AllowAll with a cancelled context: %v, want context.Canceled", err)
	}
}
