package memdriver

import (
	"context"
	"time"

	"crmhost.dev/sdk"
)

// FaultKind is a way the in-memory provider can misbehave, for tests that
// drive the library in-process (the sdk conformance kit).
type FaultKind int

// Fault kinds.
const (
	// FaultRateLimit answers CodeRateLimited with Fault.RetryAfter.
	FaultRateLimit FaultKind = iota + 1
	// FaultServerError answers CodeUnavailable.
	FaultServerError
	// FaultLoseResponse applies a write but answers CodeUnavailable, as if
	// the response had been lost.
	FaultLoseResponse
	// FaultLatency delays the call by Fault.Latency (or until its context
	// ends).
	FaultLatency
	// FaultUnauthorized answers CodeAuth, as for a revoked key.
	FaultUnauthorized
)

// Fault is one injected misbehaviour for the next Count calls (default 1)
// on an account.
type Fault struct {
	Kind       FaultKind
	Count      int
	RetryAfter time.Duration
	Latency    time.Duration
}

// Inject makes the provider misbehave for account's next f.Count calls.
func (d *Driver) Inject(account string, f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults[account] = append(d.faults[account], f)
}

// fault consumes the account's next injected fault and applies it. It
// reports lose when the caller must apply its write and then answer
// errLost.
func (d *Driver) fault(ctx context.Context, account string) (lose bool, err error) {
	d.mu.Lock()
	var f Fault
	if q := d.faults[account]; len(q) > 0 {
		f = q[0]
		if q[0].Count--; q[0].Count <= 0 {
			d.faults[account] = q[1:]
		}
	}
	d.mu.Unlock()
	switch f.Kind {
	case FaultRateLimit:
		return false, sdk.RateLimited(f.RetryAfter, "too many requests")
	case FaultServerError:
		return false, sdk.Errorf(sdk.CodeUnavailable, "the provider answered 503")
	case FaultUnauthorized:
		return false, sdk.Errorf(sdk.CodeAuth, "api key revoked")
	case FaultLoseResponse:
		return true, nil
	case FaultLatency:
		select {
		case <-time.After(f.Latency):
		case <-ctx.Done():
			d.mu.Lock()
			d.abandoned[account]++
			d.mu.Unlock()
			return false, ctx.Err()
		}
	}
	return false, nil
}

// Abandoned counts the calls on account that the provider was holding (an
// injected FaultLatency) when their context ended: the provider saw its
// client go away, as an HTTP provider sees a closed connection.
func (d *Driver) Abandoned(account string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.abandoned[account]
}

// errLost is the answer to a write whose response was "lost".
func errLost() error {
	return sdk.Errorf(sdk.CodeUnavailable, "the connection dropped before the provider answered")
}
