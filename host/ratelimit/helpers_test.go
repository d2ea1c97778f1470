package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmhost.dev/host/ratelimit"
)

// clock is an injectable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// requireOrSkip skips when a dependency of a real-service test is missing,
// except in CI (env CI set), where it must fail.
func requireOrSkip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set: "+format, args...)
	}
	t.Skipf(format, args...)
}

// redisURL is CRMHOST_TEST_REDIS_URL: skip without it, fail in CI.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CRMHOST_TEST_REDIS_URL")
	if u == "" {
		requireOrSkip(t, "CRMHOST_TEST_REDIS_URL is not set")
	}
	return u
}

// newClient connects to url and fails the test when Redis does not answer.
func newClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	c, err := ratelimit.NewRedisClient(url)
	if err != nil {
		t.Fatalf("NewRedisClient: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at %s is unreachable: %v", c.Options().Addr, err)
	}
	return c
}

// testPrefix is a fresh key prefix, so tests and reruns never share state.
// Its keys are deleted when the test ends.
func testPrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	p := "crmhost-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, p+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return p
}

func newRedisLimiter(t testing.TB, c *redis.Client, opts ratelimit.RedisOptions) *ratelimit.Redis {
	t.Helper()
	r, err := ratelimit.NewRedis(c, opts)
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	return r
}

// hungServer accepts TCP connections and never answers: a Redis that
// hangs.
func hungServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "redis://" + ln.Addr().String() + "/0"
}
