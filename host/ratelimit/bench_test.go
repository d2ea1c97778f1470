package ratelimit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/host/ratelimit"
)

// keys spreads benchmark requests over many API keys, as a busy host does.
var keys = func() []string {
	k := make([]string, 1024)
	for i := range k {
		k[i] = "apikey:" + strconv.Itoa(i)
	}
	return k
}()

// benchLimit never refuses, so every request does the full work.
var benchLimit = ratelimit.Limit{Name: "api_key", Rate: 1_000_000, Period: time.Second}

func benchAllow(b *testing.B, lim ratelimit.Limiter, parallel bool) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	if !parallel {
		for i := 0; b.Loop(); i++ {
			if _, err := lim.Allow(ctx, keys[i%len(keys)], benchLimit); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := lim.Allow(ctx, keys[i%len(keys)], benchLimit); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkLocalAllow(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchAllow(b, ratelimit.NewLocal(ratelimit.LocalOptions{}), false) })
	b.Run("parallel", func(b *testing.B) { benchAllow(b, ratelimit.NewLocal(ratelimit.LocalOptions{}), true) })
}

func BenchmarkRedisAllow(b *testing.B) {
	c := newClient(b, redisURL(b))
	// A generous timeout: this measures Redis round trips, and on a busy
	// machine a rare scheduling stall exceeds the production 5ms (in
	// production that request would be decided by the local fallback).
	r := newRedisLimiter(b, c, ratelimit.RedisOptions{Prefix: testPrefix(b, c), Timeout: time.Second})
	b.Run("serial", func(b *testing.B) { benchAllow(b, r, false) })
	b.Run("parallel", func(b *testing.B) { benchAllow(b, r, true) })
}

// BenchmarkRedisTwoLimits decides a request's two limits (API key, tool)
// as two Allow calls and as one AllowAll, with 16 callers, as the
// request limiter does: one Redis round trip against two.
func BenchmarkRedisTwoLimits(b *testing.B) {
	c := newClient(b, redisURL(b))
	r := newRedisLimiter(b, c, ratelimit.RedisOptions{Prefix: testPrefix(b, c), Timeout: time.Second})
	ctx := context.Background()
	tool := ratelimit.Limit{Name: "tool", Rate: 1_000_000, Period: time.Second}
	for _, mode := range []string{"Allow×2", "AllowAll"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					k := keys[i%len(keys)]
					var err error
					if mode == "AllowAll" {
						_, err = r.AllowAll(ctx, []ratelimit.Check{{Key: k, Limit: benchLimit}, {Key: "tool:" + k, Limit: tool}})
					} else if _, err = r.Allow(ctx, k, benchLimit); err == nil {
						_, err = r.Allow(ctx, "tool:"+k, tool)
					}
					if err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
