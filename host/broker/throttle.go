package broker

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"time"

	"crmhost.dev/host/ratelimit"
	"crmhost.dev/sdk"
)

// declaredLimits is a driver's declared rate limits as vetted once: the
// Describe answer they came from, and the ones the host can honour.
type declaredLimits struct {
	declared []sdk.RateLimit
	valid    []sdk.RateLimit
}

// limitsCache vets each driver's declared limits once per Describe answer.
type limitsCache struct {
	mu     sync.Mutex
	bySlug map[string]declaredLimits
}

// limits returns the declared limits of desc that are valid. Invalid ones
// are logged (once per Describe answer) and ignored: a driver's mistake
// must not stop its tenants' calls, nor throttle them to nonsense.
func (b *Broker) limits(desc sdk.Description) []sdk.RateLimit {
	if len(desc.RateLimits) == 0 {
		return nil
	}
	c := &b.declared
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.bySlug[desc.Slug]; ok && reflect.DeepEqual(d.declared, desc.RateLimits) {
		return d.valid
	}
	d := declaredLimits{declared: slices.Clone(desc.RateLimits)}
	for _, rl := range desc.RateLimits {
		if _, err := ratelimit.LimitFromSDK(rl); err != nil {
			b.log.Warn("ignoring a rate limit the driver declares", "driver", desc.Slug,
				"driver_version", desc.DriverVersion, "limit", rl.Name, "error", err)
			continue
		}
		d.valid = append(d.valid, rl)
	}
	if c.bySlug == nil {
		c.bySlug = map[string]declaredLimits{}
	}
	c.bySlug[desc.Slug] = d
	return d.valid
}

// throttle holds a driver call to the provider limits its driver declares,
// per connection (tenant), before the call leaves the host. Errors: a
// *ThrottleError (sdk.CodeRateLimited, the wait in RetryAfter) when a
// limit is spent, or the context's error. A failing limiter lets the call through: the
// provider's own 429 still protects it.
func (b *Broker) throttle(ctx context.Context, s *session, verb string) error {
	if b.throttler == nil {
		return nil
	}
	var limits []sdk.RateLimit
	for _, l := range b.limits(s.desc) {
		if l.Covers(verb) {
			limits = append(limits, l)
		}
	}
	if len(limits) == 0 {
		return nil
	}
	res, err := b.throttler.Allow(ctx, s.conn.TenantID, limits)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		b.log.Warn("driver throttle failed; calling the driver unthrottled", "driver", s.desc.Slug,
			"tenant", s.conn.TenantID, "error", err)
		return nil
	}
	if res.Allowed {
		return nil
	}
	if b.onThrottled != nil {
		b.onThrottled(s.desc.Slug)
	}
	wait := max(res.RetryAfter, time.Millisecond)
	return &ThrottleError{Err: sdk.RateLimited(wait, "the host is holding calls to %s under the provider's %q limit (%s per connection); retry in %s",
		s.desc.Slug, res.Policy, res.Limit, wait.Round(time.Millisecond))}
}

// ThrottleError is the sdk.CodeRateLimited error of a driver call the host
// held back to keep a tenant under its provider's declared limit: the
// provider's quota is the reason, though the provider never saw the call.
type ThrottleError struct{ Err *sdk.Error }

func (e *ThrottleError) Error() string { return e.Err.Error() }
func (e *ThrottleError) Unwrap() error { return e.Err }
