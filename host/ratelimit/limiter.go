package ratelimit

import (
	"context"
	"time"
)

// Result is one limiter decision.
type Result struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Limit is the policy the decision was made under, Burst filled in.
	// Under fail-open it is still the configured (shared) policy, although
	// the decision used that policy divided by the replica count.
	Limit Limit
	// Remaining is how many more requests would pass right now.
	Remaining int
	// RetryAfter is how long until a refused request would pass; 0 when
	// Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to a full burst.
	ResetAfter time.Duration
	// Policy names the policy (Limit.Name, or DefaultPolicy).
	Policy string
	// FailOpen reports that Redis failed and the in-process limiter
	// decided instead.
	FailOpen bool
}

// Limiter decides whether one request under key may pass limit l.
// Implementations: *Local, *Redis, *FailOpen.
type Limiter interface {
	// Allow consumes one unit of l's quota for key when the request
	// passes. Errors wrap ErrInvalidLimit for a bad l, ErrUnavailable when
	// the backing store failed, or the context's error.
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

// Peeker is implemented by limiters that can answer whether a request
// would pass without consuming quota. Throttle uses it to check every
// limit before consuming any, so that a request refused by one limit does
// not spend another's quota.
type Peeker interface {
	// Peek reports what Allow would decide now, consuming nothing. Its
	// Remaining counts the quota available before the request. Errors as
	// for Allow.
	Peek(ctx context.Context, key string, l Limit) (Result, error)
}
