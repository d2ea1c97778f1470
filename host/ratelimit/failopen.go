package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultLogEvery is the least time between two "Redis failed" log lines
// when FailOpenOptions.LogEvery is 0.
const DefaultLogEvery = 10 * time.Second

// FailuresMetric is the name of the counter of failed Redis calls.
const FailuresMetric = "crmhost_ratelimit_redis_failures_total"

// FailOpenOptions configures NewFailOpen.
type FailOpenOptions struct {
	// Registerer receives the FailuresMetric counter; nil registers it
	// nowhere. A counter already registered under that name is reused.
	Registerer prometheus.Registerer
	// Logger records Redis failures, at most one line per LogEvery
	// (with the number of failures since the last line); nil is silent.
	Logger hclog.Logger
	// LogEvery: 0 means DefaultLogEvery.
	LogEvery time.Duration
	// Now is the clock for LogEvery; nil means time.Now.
	Now func() time.Time
	// Replicas, when set, is asked for the live replica count at each
	// fallback decision (host/replicas counts them from heartbeats), in
	// place of NewFailOpen's fixed count. Values below 1 count as 1.
	Replicas func() int
}

// FailOpen is the limiter for hosts configured with Redis: limits are
// shared through Redis; when a Redis call errs or times out, the request is
// decided by the in-process limiter at the limit divided by the replica
// count (rounded up, at least 1; the live count of FailOpenOptions.Replicas
// when given), so the fleet as a whole stays close to
// the shared limit while Redis is down. Every call tries Redis first, so
// shared limiting resumes by itself once Redis answers again. Safe for
// concurrent use.
type FailOpen struct {
	primary  *Redis
	fallback *Local
	replicas int
	live     func() int
	failures prometheus.Counter
	log      hclog.Logger
	logEvery time.Duration
	now      func() time.Time

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

// NewFailOpen returns a limiter that uses primary and falls back to
// fallback at limit/replicas. Errors wrap ErrConfig: nil limiters,
// replicas < 1, a negative LogEvery, or a Registerer that refuses the
// counter for another reason than it being registered already.
func NewFailOpen(primary *Redis, fallback *Local, replicas int, opts FailOpenOptions) (*FailOpen, error) {
	switch {
	case primary == nil || fallback == nil:
		return nil, fmt.Errorf("%w: fail-open limiter needs both a Redis and a Local limiter", ErrConfig)
	case replicas < 1:
		return nil, fmt.Errorf("%w: replica count must be at least 1, got %d", ErrConfig, replicas)
	case opts.LogEvery < 0:
		return nil, fmt.Errorf("%w: negative log interval %s", ErrConfig, opts.LogEvery)
	}
	if opts.LogEvery == 0 {
		opts.LogEvery = DefaultLogEvery
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var failures prometheus.Counter = prometheus.NewCounter(prometheus.CounterOpts{
		Name: FailuresMetric,
		Help: "Rate-limit calls to Redis that failed or timed out and were decided by the in-process limiter instead.",
	})
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(failures); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("%w: registering %s: %w", ErrConfig, FailuresMetric, err)
			}
			existing, ok := are.ExistingCollector.(prometheus.Counter)
			if !ok {
				return nil, fmt.Errorf("%w: %s is registered with another type", ErrConfig, FailuresMetric)
			}
			failures = existing
		}
	}
	return &FailOpen{
		primary:  primary,
		fallback: fallback,
		replicas: replicas,
		live:     opts.Replicas,
		failures: failures,
		log:      opts.Logger,
		logEvery: opts.LogEvery,
		now:      opts.Now,
	}, nil
}

// Allow decides through Redis, or through the in-process limiter at
// l/replicas (Result.FailOpen set) when Redis fails. Errors wrap
// ErrInvalidLimit, or are the context's error when ctx itself ended;
// Redis failures are not errors.
func (f *FailOpen) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	return f.decide(ctx, key, l, (*Redis).Allow, (*Local).Allow)
}

// Peek reports what Allow would decide, consuming nothing. Errors as for
// Allow.
func (f *FailOpen) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	return f.decide(ctx, key, l, (*Redis).Peek, (*Local).Peek)
}

func (f *FailOpen) decide(ctx context.Context, key string, l Limit,
	primary func(*Redis, context.Context, string, Limit) (Result, error),
	fallback func(*Local, context.Context, string, Limit) (Result, error),
) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	res, err := primary(f.primary, ctx, key, l)
	if err == nil {
		return res, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return Result{}, ctxErr // the caller gave up; nothing to decide
	}
	f.failures.Inc()
	f.logFailure(err)
	res, err = fallback(f.fallback, ctx, key, f.scale(l))
	if err != nil {
		return Result{}, err
	}
	res.Limit, res.FailOpen = l.withDefaults(), true
	return res, nil
}

// scale divides l's rate and burst by the replica count, rounding up.
func (f *FailOpen) scale(l Limit) Limit {
	l = l.withDefaults()
	n := f.replicaCount()
	l.Rate = ceilDiv(l.Rate, n)
	l.Burst = ceilDiv(l.Burst, n)
	return l
}

// replicaCount is the live count when known, else the fixed one.
func (f *FailOpen) replicaCount() int {
	if f.live != nil {
		return max(1, f.live())
	}
	return f.replicas
}

func ceilDiv(a, b int) int { return max(1, (a+b-1)/b) }

func (f *FailOpen) logFailure(err error) {
	now := f.now()
	f.mu.Lock()
	if !f.lastLog.IsZero() && now.Sub(f.lastLog) < f.logEvery {
		f.suppressed++
		f.mu.Unlock()
		return
	}
	suppressed := f.suppressed
	f.lastLog, f.suppressed = now, 0
	f.mu.Unlock()
	f.log.Warn("redis rate limiter failed; limiting in-process at limit/replicas until it answers again",
		"error", err, "replicas", f.replicaCount(), "failures_not_logged", suppressed, "log_every", f.logEvery)
}

var (
	_ Limiter = (*FailOpen)(nil)
	_ Peeker  = (*FailOpen)(nil)
)
