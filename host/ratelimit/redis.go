package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisTimeout bounds each Redis call when RedisOptions.Timeout is 0:
// a slow or hung Redis costs a request at most this long.
const DefaultRedisTimeout = 5 * time.Millisecond

// DefaultRedisPrefix is prepended to every key when RedisOptions.Prefix is
// empty.
const DefaultRedisPrefix = "crmhost:"

// ErrConfig is wrapped by the errors of constructors given unusable
// options; like ErrInvalidLimit, it must refuse the host's start.
var ErrConfig = errors.New("ratelimit: invalid configuration")

// RedisOptions configures NewRedis.
type RedisOptions struct {
	// Prefix starts every key the limiter writes, so a Redis ACL such as
	// ~crmhost:* can confine the host to its keys (tests use a random one
	// so packages can share a Redis and reruns start clean). Empty means
	// DefaultRedisPrefix.
	Prefix string
	// Timeout bounds each call, connection set-up included. 0 means
	// DefaultRedisTimeout.
	Timeout time.Duration
}

// Redis is a GCRA limiter whose state lives in Redis (through
// github.com/go-redis/redis_rate), so every host replica sharing that
// Redis enforces one limit. Safe for concurrent use.
type Redis struct {
	client  *redis.Client
	rl      *redis_rate.Limiter
	prefix  string
	timeout time.Duration
}

// NewRedisClient returns a client for a redis:// or rediss:// URL set up
// the way Redis needs: context deadlines bound socket I/O, and neither
// commands nor dials are retried (a retry cannot fit in a few
// milliseconds; the caller falls back instead). Errors wrap ErrConfig.
func NewRedisClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("%w: redis url: %w", ErrConfig, err)
	}
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1   // no command retries
	opt.DialerRetries = 1 // no dial retries (their backoff is 100 ms)
	return redis.NewClient(opt), nil
}

// NewRedis returns a limiter backed by client. The client must have
// ContextTimeoutEnabled set (NewRedisClient does), or the per-call timeout
// could not bound socket reads. Errors wrap ErrConfig: a nil client, a
// client without ContextTimeoutEnabled, a negative timeout.
func NewRedis(client *redis.Client, opts RedisOptions) (*Redis, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil redis client", ErrConfig)
	}
	if !client.Options().ContextTimeoutEnabled {
		return nil, fmt.Errorf("%w: redis client must set ContextTimeoutEnabled so the rate limiter's timeout bounds each call", ErrConfig)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative redis timeout %s", ErrConfig, opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultRedisTimeout
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisPrefix
	}
	return &Redis{client: client, rl: redis_rate.NewLimiter(prefixed{client}), prefix: opts.Prefix, timeout: opts.Timeout}, nil
}

// rateKeyPrefix is what redis_rate puts before every key it is given.
const rateKeyPrefix = "rate:"

// prefixed is the client redis_rate runs its scripts through. redis_rate
// prepends a fixed "rate:" to each key, which would put the host's keys
// outside its own prefix (and outside an ACL pattern on it); prefixed
// takes that "rate:" off again, so a key is exactly the limiter's
// prefix and the caller's key.
type prefixed struct{ *redis.Client }

func (p prefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, rateKeyPrefix)
	}
	return out
}

func (p prefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.Client.Eval(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.Client.EvalSha(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.Client.EvalRO(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.Client.EvalShaRO(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return p.Client.Del(ctx, p.keys(keys)...)
}

// Allow consumes one unit of l for key in Redis when the request passes.
// Errors wrap ErrInvalidLimit, or ErrUnavailable together with the cause
// (and context.DeadlineExceeded when Redis did not answer within the
// timeout).
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	l = l.withDefaults()
	res, err := r.call(ctx, key, l, 1)
	if err != nil {
		return Result{}, err
	}
	out := Result{
		Allowed:    res.Allowed > 0,
		Limit:      l,
		Remaining:  res.Remaining,
		ResetAfter: max(res.ResetAfter, 0),
		Policy:     l.policy(),
	}
	if !out.Allowed {
		out.RetryAfter = max(res.RetryAfter, 0)
	}
	return out, nil
}

// Peek reports what Allow would decide, consuming nothing. Errors as for
// Allow.
func (r *Redis) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	l = l.withDefaults()
	// A cost-0 request leaves the TAT as it is; it passes iff one more
	// whole unit is available.
	res, err := r.call(ctx, key, l, 0)
	if err != nil {
		return Result{}, err
	}
	out := Result{
		Allowed:    res.Remaining >= 1,
		Limit:      l,
		ResetAfter: max(res.ResetAfter, 0),
		Policy:     l.policy(),
	}
	if out.Allowed {
		out.Remaining = res.Remaining
	} else {
		// ResetAfter = TAT - now, so one unit frees up at
		// TAT - now - (Burst-1)·interval.
		out.RetryAfter = max(out.ResetAfter-time.Duration(l.Burst-1)*l.interval(), time.Microsecond)
	}
	return out, nil
}

func (r *Redis) call(ctx context.Context, key string, l Limit, n int) (*redis_rate.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := r.rl.AllowN(ctx, r.prefix+key, redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: l.Period}, n)
	if err != nil {
		return nil, r.unavailable(ctx, err)
	}
	return res, nil
}

// unavailable wraps the error of a Redis call made under ctx in
// ErrUnavailable.
func (r *Redis) unavailable(ctx context.Context, err error) error {
	// The socket deadline and ctx's timer expire together; report a
	// timeout as context.DeadlineExceeded whichever noticed first.
	var ne net.Error
	switch ctxErr := ctx.Err(); {
	case ctxErr != nil && !errors.Is(err, ctxErr):
		err = fmt.Errorf("%w (%w)", err, ctxErr)
	case ctxErr == nil && errors.As(err, &ne) && ne.Timeout():
		err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

var (
	_ Limiter = (*Redis)(nil)
	_ Peeker  = (*Redis)(nil)
)
