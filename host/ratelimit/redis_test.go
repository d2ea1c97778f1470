package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"crmhost.dev/host/ratelimit"
	"crmhost.dev/sdk"
)

// TestRedisSharedLimit: two limiters with their own clients (two host
// replicas) share one limit: exactly N of N+1 concurrent requests pass.
func TestRedisSharedLimit(t *testing.T) {
	url := redisURL(t)
	c1, c2 := newClient(t, url), newClient(t, url)
	prefix := testPrefix(t, c1)
	// A generous timeout: this test is about sharing, not latency.
	opts := ratelimit.RedisOptions{Prefix: prefix, Timeout: time.Second}
	replicas := []*ratelimit.Redis{newRedisLimiter(t, c1, opts), newRedisLimiter(t, c2, opts)}

	for _, n := range []int{1, 10, 50} {
		l := ratelimit.Limit{Name: "api_key", Rate: n, Period: time.Minute}
		key := "apikey:" + time.Now().Format(time.RFC3339Nano)
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < n+1; i++ {
			wg.Add(1)
			go func(r *ratelimit.Redis) {
				defer wg.Done()
				res, err := r.Allow(context.Background(), key, l)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					allowed.Add(1)
					return
				}
				interval := time.Minute / time.Duration(n)
				if res.RetryAfter <= 0 || res.RetryAfter > interval || res.Remaining != 0 || res.Policy != "api_key" {
					t.Errorf("refusal %+v: want RetryAfter in (0, %s], Remaining 0, Policy api_key", res, interval)
				}
			}(replicas[i%2])
		}
		wg.Wait()
		if got := allowed.Load(); got != int64(n) {
			t.Errorf("limit %d/min: admitted %d of %d requests across two replicas, want %d", n, got, n+1, n)
		}
	}
}

// TestRedisMatchesLocal: the Redis and in-process limiters give the same
// answers to the same sequence (within clock noise).
func TestRedisMatchesLocal(t *testing.T) {
	c := newClient(t, redisURL(t))
	r := newRedisLimiter(t, c, ratelimit.RedisOptions{Prefix: testPrefix(t, c), Timeout: time.Second})
	loc := ratelimit.NewLocal(ratelimit.LocalOptions{})
	// Redis reads its own clock between calls; allow for that drift.
	durations := cmp.Comparer(func(a, b time.Duration) bool {
		d := a - b
		return d < 500*time.Millisecond && d > -500*time.Millisecond
	})
	for _, l := range []ratelimit.Limit{
		{Name: "p", Rate: 5, Period: time.Minute},
		{Name: "p", Rate: 6, Period: time.Hour, Burst: 2},
		{Name: "p", Rate: 1, Period: 24 * time.Hour, Burst: 3},
	} {
		key := "match:" + l.String()
		for i := 0; i < l.Burst+l.Rate/2+2; i++ {
			want, err := loc.Allow(context.Background(), key, l)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Allow(context.Background(), key, l)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, durations); diff != "" {
				t.Fatalf("%s request %d: Local and Redis differ (-local +redis):\n%s", l, i, diff)
			}
		}
	}
}

func TestRedisPeekConsumesNothing(t *testing.T) {
	c := newClient(t, redisURL(t))
	r := newRedisLimiter(t, c, ratelimit.RedisOptions{Prefix: testPrefix(t, c), Timeout: time.Second})
	ctx := context.Background()
	l := ratelimit.Limit{Rate: 2, Period: time.Minute}
	for i := 0; i < 5; i++ {
		res, err := r.Peek(ctx, "k", l)
		if err != nil || !res.Allowed || res.Remaining != 2 {
			t.Fatalf("Peek on a fresh key = %+v, %v; want allowed with 2 remaining", res, err)
		}
	}
	for i := 0; i < 2; i++ {
		if res, err := r.Allow(ctx, "k", l); err != nil || !res.Allowed {
			t.Fatalf("Allow %d after peeks = %+v, %v", i, res, err)
		}
	}
	res, err := r.Peek(ctx, "k", l)
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed || res.RetryAfter <= 29*time.Second || res.RetryAfter > 30*time.Second {
		t.Fatalf("Peek on an exhausted key = %+v, want refused with RetryAfter just under 30s", res)
	}
	if res, _ := r.Allow(ctx, "k", l); res.Allowed {
		t.Fatal("Allow passed on an exhausted key")
	}
}

func TestRedisInvalidLimitNeverReachesRedis(t *testing.T) {
	// The client points nowhere; an invalid limit is refused before any I/O.
	c, err := ratelimit.NewRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := newRedisLimiter(t, c, ratelimit.RedisOptions{})
	_, err = r.Allow(context.Background(), "k", ratelimit.Limit{Rate: 0, Period: time.Second})
	checkErr(t, err, "rate must be positive", ratelimit.ErrInvalidLimit)
}

func TestNewRedisConfig(t *testing.T) {
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer plain.Close()
	good, err := ratelimit.NewRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	tests := []struct {
		name    string
		client  *redis.Client
		opts    ratelimit.RedisOptions
		wantErr string
	}{
		{"ok", good, ratelimit.RedisOptions{}, ""},
		{"nil client", nil, ratelimit.RedisOptions{}, "nil redis client"},
		{"context timeouts disabled", plain, ratelimit.RedisOptions{}, "ContextTimeoutEnabled"},
		{"negative timeout", good, ratelimit.RedisOptions{Timeout: -time.Second}, "negative redis timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ratelimit.NewRedis(tt.client, tt.opts)
			checkErr(t, err, tt.wantErr, ratelimit.ErrConfig)
		})
	}
	_, err = ratelimit.NewRedisClient("postgres://nope")
	checkErr(t, err, "redis url", ratelimit.ErrConfig)
}

// TestRedisTimeoutBound: a Redis that accepts connections and never
// answers costs each request about the timeout, not the client's 5s
// socket timeouts. Asserted generously: this is a bound, not a benchmark.
func TestRedisTimeoutBound(t *testing.T) {
	url := hungServer(t)
	for _, timeout := range []time.Duration{0 /* default 5ms */, 50 * time.Millisecond} {
		t.Run(time.Duration(max(timeout, ratelimit.DefaultRedisTimeout)).String(), func(t *testing.T) {
			c, err := ratelimit.NewRedisClient(url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := newRedisLimiter(t, c, ratelimit.RedisOptions{Timeout: timeout})
			bound := max(timeout, ratelimit.DefaultRedisTimeout) + time.Second
			for i := 0; i < 3; i++ {
				start := time.Now()
				_, err := r.Allow(context.Background(), "k", ratelimit.Limit{Rate: 1, Period: time.Second})
				elapsed := time.Since(start)
				if !errors.Is(err, ratelimit.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Allow against a hung Redis: err = %v, want ErrUnavailable and DeadlineExceeded", err)
				}
				if elapsed > bound {
					t.Fatalf("Allow against a hung Redis took %s, want at most %s", elapsed, bound)
				}
			}
		})
	}
}

// TestRedisKeysStartWithPrefix: every key the host writes starts with the
// configured prefix, so a Redis user confined by the ACL pattern
// ~<prefix>* can run the host's limits (and the driver throttle), and
// nothing lands outside it.
func TestRedisKeysStartWithPrefix(t *testing.T) {
	url := redisURL(t)
	admin := newClient(t, url)
	prefix := testPrefix(t, admin)
	ctx := context.Background()

	user := "crmhost-acl-" + strings.TrimSuffix(strings.TrimPrefix(prefix, "crmhost-test:"), ":")
	const password = "acl-test-password-0123456789"
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "reset", "on", ">"+password, "~"+prefix+"*", "+@all").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
	opt := admin.Options()
	confined, err := ratelimit.NewRedisClient(fmt.Sprintf("redis://%s:%s@%s/%d", user, password, opt.Addr, opt.DB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { confined.Close() })

	r := newRedisLimiter(t, confined, ratelimit.RedisOptions{Prefix: prefix, Timeout: time.Second})
	l := ratelimit.Limit{Name: "tool", Rate: 5, Period: time.Minute}
	for _, key := range []string{"tool:6:tenant:crm_lookup_customer", "api_key:key_1"} {
		if res, err := r.Allow(ctx, key, l); err != nil || !res.Allowed {
			t.Fatalf("Allow(%s) as a user confined to %s*: %+v, %v", key, prefix, res, err)
		}
		if _, err := r.Peek(ctx, key, l); err != nil {
			t.Fatalf("Peek(%s): %v", key, err)
		}
	}
	th := ratelimit.NewThrottle(r, ratelimit.ThrottleOptions{})
	if res, err := th.Allow(ctx, "ten_1", []sdk.RateLimit{{Name: "burst", Limit: 10, WindowMS: 1000}}); err != nil || !res.Allowed {
		t.Fatalf("throttle as the confined user: %+v, %v", res, err)
	}

	var keys []string
	iter := admin.Scan(ctx, 0, "*"+strings.TrimSuffix(prefix, ":")+"*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) != 3 {
		t.Errorf("keys %q, want the 3 the calls wrote", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %q does not start with the prefix %q", k, prefix)
		}
	}

	// The confined user really is confined: a key outside the prefix is
	// refused, so the checks above prove the keys are inside it.
	outside := newRedisLimiter(t, confined, ratelimit.RedisOptions{Prefix: "elsewhere:", Timeout: time.Second})
	if _, err := outside.Allow(ctx, "k", l); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("a key outside the ACL pattern: %v, want NOPERM", err)
	}
}
