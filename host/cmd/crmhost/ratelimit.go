package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/ratelimit"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Rate-limit configuration defaults and bounds.
const (
	defaultAPIKeyLimit      = "200/min"
	defaultToolLimit        = "50/min"
	defaultAuthFailureLimit = "20/min"
	maxRedisTimeout         = time.Second
	maxRedisPrefix          = 128
)

// rateLimitConfig is the rate-limiting part of config.
type rateLimitConfig struct {
	// RedisURL shares limits between replicas; empty limits in-process.
	RedisURL     string
	RedisPrefix  string
	RedisTimeout time.Duration
	APIKey       ratelimit.Limit
	Tool         ratelimit.Limit
	// AuthFailures bounds the 401s each client address may earn.
	AuthFailures ratelimit.Limit
}

// loadRateLimitConfig reads the rate-limit variables. Negative, zero,
// absurd or unreadable values are errors naming the variable: the host
// must not start on them.
func loadRateLimitConfig() (rateLimitConfig, error) {
	c := rateLimitConfig{
		RedisURL:     strings.TrimSpace(os.Getenv("REDIS_URL")),
		RedisPrefix:  env("CRMHOST_REDIS_PREFIX", ratelimit.DefaultRedisPrefix),
		RedisTimeout: ratelimit.DefaultRedisTimeout,
	}
	var err error
	if c.APIKey, err = parseLimitEnv("CRMHOST_RATE_LIMIT_API_KEY", defaultAPIKeyLimit); err != nil {
		return c, err
	}
	if c.Tool, err = parseLimitEnv("CRMHOST_RATE_LIMIT_TOOL", defaultToolLimit); err != nil {
		return c, err
	}
	if c.AuthFailures, err = parseLimitEnv("CRMHOST_RATE_LIMIT_AUTH_FAILURES", defaultAuthFailureLimit); err != nil {
		return c, err
	}
	if v := os.Getenv("CRMHOST_REDIS_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 || d > maxRedisTimeout {
			return c, fmt.Errorf("CRMHOST_REDIS_TIMEOUT must be a duration above 0 and at most %s, such as 5ms, got %q", maxRedisTimeout, v)
		}
		c.RedisTimeout = d
	}
	if len(c.RedisPrefix) > maxRedisPrefix || strings.IndexFunc(c.RedisPrefix, func(r rune) bool {
		return r > unicode.MaxASCII || !unicode.IsPrint(r) || unicode.IsSpace(r)
	}) >= 0 {
		return c, fmt.Errorf("CRMHOST_REDIS_PREFIX must be at most %d printable ASCII characters without spaces, got %q", maxRedisPrefix, c.RedisPrefix)
	}
	if c.RedisURL != "" {
		// Parse now so a typo refuses the start; the client is built later.
		client, err := ratelimit.NewRedisClient(c.RedisURL)
		if err != nil {
			return c, fmt.Errorf("REDIS_URL: %w", redactURLError(err, c.RedisURL))
		}
		_ = client.Close()
	}
	return c, nil
}

func parseLimitEnv(name, def string) (ratelimit.Limit, error) {
	v := env(name, def)
	l, err := ratelimit.ParseLimit(v)
	if err != nil {
		return ratelimit.Limit{}, fmt.Errorf("%s=%q: %w (write N/s, N/min or N/h with 1 <= N <= %d, e.g. %s)", name, v, err, ratelimit.MaxRate, def)
	}
	return l, nil
}

// redactURLError keeps a Redis URL's password out of an error message.
func redactURLError(err error, url string) error {
	msg := err.Error()
	if i := strings.Index(url, "://"); i >= 0 {
		if at := strings.LastIndex(url, "@"); at > i {
			if userinfo := url[i+3 : at]; strings.Contains(userinfo, ":") {
				msg = strings.ReplaceAll(msg, userinfo, "REDACTED")
			}
		}
	}
	return fmt.Errorf("%s", msg)
}

// limiters are the host's rate limiters: one Limiter shared by the HTTP
// request limits and the driver throttle, and what to close at shutdown.
type limiters struct {
	limiter  ratelimit.Limiter
	throttle *ratelimit.Throttle
	close    func()
}

// newLimiters builds the limiter: in-process without REDIS_URL; with it,
// Redis failing open to in-process limiting at limit/replicas, replicas
// being the live count (host/replicas). A Redis that is down at start is
// logged, not fatal: limiting fails open until it answers.
func newLimiters(ctx context.Context, c rateLimitConfig, replicas func() int, log hclog.Logger, reg prometheus.Registerer) (*limiters, error) {
	local := ratelimit.NewLocal(ratelimit.LocalOptions{})
	if c.RedisURL == "" {
		log.Info("rate limits in-process (set REDIS_URL to share them between replicas)",
			"api_key", c.APIKey.String(), "tool", c.Tool.String())
		return &limiters{limiter: local, throttle: ratelimit.NewThrottle(local, ratelimit.ThrottleOptions{}), close: func() {}}, nil
	}
	redisLog := log.Named("redis")
	redis.SetLogger(redisLogger{redisLog})
	client, err := ratelimit.NewRedisClient(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", redactURLError(err, c.RedisURL))
	}
	r, err := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: c.RedisPrefix, Timeout: c.RedisTimeout})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	f, err := ratelimit.NewFailOpen(r, local, 1, ratelimit.FailOpenOptions{Registerer: reg, Logger: redisLog, Replicas: replicas})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		log.Warn("redis does not answer; rate limits fail open to in-process limiting at limit/replicas until it does",
			"addr", client.Options().Addr, "error", err, "replicas", replicas())
	}
	log.Info("rate limits shared through redis", "addr", client.Options().Addr, "prefix", c.RedisPrefix,
		"timeout", c.RedisTimeout.String(), "replicas", replicas(), "api_key", c.APIKey.String(), "tool", c.Tool.String(),
		"auth_failures", c.AuthFailures.String())
	return &limiters{limiter: f, throttle: ratelimit.NewThrottle(f, ratelimit.ThrottleOptions{}),
		close: func() { _ = client.Close() }}, nil
}

// httpLimits is the HTTP server's share of the limiters.
func (l *limiters) httpLimits(c rateLimitConfig) hosthttp.RateLimits {
	return hosthttp.RateLimits{Limiter: l.limiter, APIKey: c.APIKey, Tool: c.Tool, AuthFailures: c.AuthFailures}
}

// redisLogger sends go-redis's own log lines (one per failed dial, among
// others) to hclog at debug level: Redis failures are already counted and
// logged, rate-limited, by the fail-open limiter.
type redisLogger struct{ log hclog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// throttledCounter counts the driver calls the driver-side throttle held
// back, by driver.
func throttledCounter(reg prometheus.Registerer) func(driver string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhost_driver_throttled_total",
		Help: "Driver calls the host refused before the provider saw them, to stay under the provider's declared rate limits."},
		[]string{"driver"})
	reg.MustRegister(c)
	return func(driver string) { c.WithLabelValues(driver).Inc() }
}
