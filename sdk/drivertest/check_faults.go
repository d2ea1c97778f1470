package drivertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// rateLimited: the provider's 429 is rate_limited carrying the provider's
// own retry-after (within a second of rounding), for two different values
// so a fixed answer cannot pass.
func (k *kit) rateLimited(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	for _, want := range []time.Duration{3 * time.Second, 11 * time.Second} {
		p.Inject(Fault{Kind: RateLimit, RetryAfter: want})
		_, err := k.lookup(t, conn, sdk.LookupQuery{Email: "nobody@example.com"})
		e := wantCode(t, err, sdk.CodeRateLimited)
		if d := e.RetryAfter - want; d <= -time.Second || d >= time.Second {
			t.Errorf("rate_limited RetryAfter = %v, want the provider's retry-after %v (within a second of rounding)", e.RetryAfter, want)
		}
	}
}

// unavailable: the provider's 5xx (repeated, so a driver's own retries
// run out) is unavailable.
func (k *kit) unavailable(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	p.Inject(Fault{Kind: ServerError, Count: 10})
	_, err := k.lookup(t, conn, sdk.LookupQuery{Email: "nobody@example.com"})
	wantCode(t, err, sdk.CodeUnavailable)
}

// cancellationWait is how long the kit waits for the fake to see an
// abandoned request once the caller's deadline has passed.
const cancellationWait = 2 * time.Second

// cancellation: a call past its deadline returns promptly with the
// deadline error, and the provider sees its request abandoned (so a driver
// that calls the provider with another context fails, although the
// client's own deadline returns in time).
func (k *kit) cancellation(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	before := p.Abandoned()
	p.Inject(Fault{Kind: Latency, Latency: 5 * time.Second, Count: 5})
	c, cancel := context.WithTimeout(k.base(t), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := k.c.LookupCustomer(c, conn, sdk.LookupQuery{Email: "slow@example.com", Objects: []string{k.o.Object}})
	if err == nil {
		t.Fatal("a call past its deadline succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > cancellationWait {
		t.Errorf("cancelled call took %v to return, want promptly", el)
	}
	deadline := time.Now().Add(cancellationWait)
	for p.Abandoned() <= before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := p.Abandoned() - before; n <= 0 {
		t.Errorf("the provider never saw its request abandoned (%s after the deadline): the driver kept calling it after the call's context ended; pass the call's context to every provider request", cancellationWait)
	}
}
