package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"crmhost.dev/sdk"
)

// DefaultThrottlePrefix namespaces Throttle's keys when ThrottleOptions.Prefix
// is empty, apart from the host's own API limits in the same Limiter.
const DefaultThrottlePrefix = "driver:"

// ThrottleOptions configures NewThrottle.
type ThrottleOptions struct {
	// Prefix namespaces the keys; empty means DefaultThrottlePrefix.
	Prefix string
}

// Throttle keeps the host under a provider's own rate limits, as the
// driver declares them in Describe, before a call reaches the provider.
// Limits are per connection (tenant). Backed by any Limiter, so with Redis
// the replicas share one budget per tenant. Safe for concurrent use.
type Throttle struct {
	limiter Limiter
	prefix  string
}

// NewThrottle returns a Throttle over limiter.
func NewThrottle(limiter Limiter, opts ThrottleOptions) *Throttle {
	if opts.Prefix == "" {
		opts.Prefix = DefaultThrottlePrefix
	}
	return &Throttle{limiter: limiter, prefix: opts.Prefix}
}

// LimitFromSDK converts a driver-declared limit: Limit per WindowMS, a
// burst of Limit, named after the declaration (or "provider"). GCRA
// admits Limit back to back and then Limit per window on average. Errors
// wrap ErrInvalidLimit; the host can use it to vet a Describe answer.
func LimitFromSDK(rl sdk.RateLimit) (Limit, error) {
	name := rl.Name
	if name == "" {
		name = "provider"
	}
	if rl.Limit <= 0 || rl.Limit > MaxRate || rl.WindowMS <= 0 || rl.WindowMS > int64(MaxPeriod/time.Millisecond) {
		return Limit{}, fmt.Errorf("%w: driver limit %q: %d per %d ms is out of range", ErrInvalidLimit, name, rl.Limit, rl.WindowMS)
	}
	l := Limit{Name: name, Rate: int(rl.Limit), Period: time.Duration(rl.WindowMS) * time.Millisecond}
	if err := l.Validate(); err != nil {
		return Limit{}, fmt.Errorf("driver limit %q: %w", name, err)
	}
	return l.withDefaults(), nil
}

// Allow checks every declared limit for tenantID before one driver call.
// When the Limiter is a Peeker, all limits are checked first and quota is
// spent only if all pass, so a refusal by one limit (say, a burst window)
// does not eat into another (say, a daily quota). The result is the most
// restrictive: among refusals the longest RetryAfter, otherwise the fewest
// Remaining. No declared limits: allowed, with a zero Result otherwise.
// Errors wrap ErrInvalidLimit for a bad declaration, or come from the
// Limiter (ErrUnavailable for a bare *Redis; a *FailOpen does not fail on
// Redis errors).
func (t *Throttle) Allow(ctx context.Context, tenantID string, limits []sdk.RateLimit) (Result, error) {
	if len(limits) == 0 {
		return Result{Allowed: true}, nil
	}
	ls := make([]Limit, len(limits))
	keys := make([]string, len(limits))
	for i, rl := range limits {
		l, err := LimitFromSDK(rl)
		if err != nil {
			return Result{}, err
		}
		ls[i], keys[i] = l, t.key(tenantID, l)
	}
	if p, ok := t.limiter.(Peeker); ok {
		res, err := t.each(ctx, keys, ls, p.Peek)
		if err != nil || !res.Allowed {
			return res, err
		}
	}
	return t.each(ctx, keys, ls, t.limiter.Allow)
}

func (t *Throttle) each(ctx context.Context, keys []string, ls []Limit,
	decide func(context.Context, string, Limit) (Result, error),
) (Result, error) {
	var out Result
	for i := range ls {
		r, err := decide(ctx, keys[i], ls[i])
		if err != nil {
			return Result{}, err
		}
		failOpen := out.FailOpen || r.FailOpen
		if i == 0 || restrictive(r, out) {
			out = r
		}
		out.FailOpen = failOpen
	}
	return out, nil
}

// restrictive reports whether a binds tighter than b.
func restrictive(a, b Result) bool {
	switch {
	case a.Allowed != b.Allowed:
		return !a.Allowed
	case !a.Allowed:
		return a.RetryAfter > b.RetryAfter
	case a.Remaining != b.Remaining:
		return a.Remaining < b.Remaining
	default:
		return a.ResetAfter > b.ResetAfter
	}
}

// key is unambiguous (the tenant id is length-prefixed) and includes the
// limit's numbers, so a driver that changes a declaration starts afresh
// instead of reading state kept under other parameters.
func (t *Throttle) key(tenantID string, l Limit) string {
	return t.prefix + strconv.Itoa(len(tenantID)) + ":" + tenantID + ":" + l.Name + ":" +
		strconv.Itoa(l.Rate) + "/" + strconv.FormatInt(l.Period.Milliseconds(), 10)
}
