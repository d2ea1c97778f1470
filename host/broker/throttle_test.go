package broker_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/host/ratelimit"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

// clock is a manual clock: the throttle's window does not move unless
// the test moves it, so "within the window" holds however slow the run.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

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

// throttled is a fixture whose broker throttles driver calls to the mem
// driver's declared limit on a manual clock.
func throttled(t *testing.T) (*fixture, *clock, *[]string) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var mu sync.Mutex
	var held []string
	f := newFixture(t, broker.Options{
		Throttle: ratelimit.NewThrottle(ratelimit.NewLocal(ratelimit.LocalOptions{Now: clk.Now}), ratelimit.ThrottleOptions{}),
		OnThrottled: func(driver string) {
			mu.Lock()
			defer mu.Unlock()
			held = append(held, driver)
		},
	})
	return f, clk, &held
}

// TestThrottleHoldsDriverCalls: once a connection has spent the driver's
// declared limit, the next call is refused by the host with the wait,
// without decrypting the secret or reaching the driver; other tenants
// keep their own budget, and the call passes once the window moves.
func TestThrottleHoldsDriverCalls(t *testing.T) {
	t.Parallel()
	f, clk, held := throttled(t)
	limit := int(memdriver.DeclaredLimit.Limit)
	ten := f.connected("acme") // test_connection spends one unit
	q := broker.LookupInput{Email: "nobody@example.com"}
	for i := 0; i < limit-1; i++ {
		if _, err := f.b.LookupCustomer(ctx(t), agent, ten, q); err != nil {
			t.Fatalf("lookup %d of %d within the declared limit: %v", i+1, limit-1, err)
		}
	}
	decrypts := len(f.audit(ten, "credential.decrypt"))
	calls := f.driverCalls("lookup_customer")

	_, err := f.b.LookupCustomer(ctx(t), agent, ten, q)
	wantCode(t, err, host.ErrorCode(sdk.CodeRateLimited), "")
	e := sdk.AsError(err)
	interval := time.Duration(memdriver.DeclaredLimit.WindowMS) * time.Millisecond / time.Duration(limit)
	if e.RetryAfter != interval {
		t.Errorf("RetryAfter %s, want %s (one unit of %d per %d ms)", e.RetryAfter, interval, limit, memdriver.DeclaredLimit.WindowMS)
	}
	if !strings.Contains(e.Message, memdriver.DeclaredLimit.Name) {
		t.Errorf("message %q does not name the declared limit %q", e.Message, memdriver.DeclaredLimit.Name)
	}
	if got := f.driverCalls("lookup_customer"); got != calls {
		t.Errorf("the refused call reached the driver: %v lookup calls, want %v", got, calls)
	}
	if got := len(f.audit(ten, "credential.decrypt")); got != decrypts {
		t.Errorf("the refused call decrypted the secret: %d decrypt rows, want %d", got, decrypts)
	}
	if diff := cmp.Diff([]string{"mem"}, *held); diff != "" {
		t.Errorf("OnThrottled calls (-want +got):\n%s", diff)
	}

	// The connection test is a driver call too: refused, and a refusal
	// says nothing about the credentials, so the status stays active.
	conn, _, err := f.b.Test(ctx(t), operator, ten)
	wantCode(t, err, host.ErrorCode(sdk.CodeRateLimited), "")
	if conn.Status != host.ConnectionActive {
		t.Errorf("connection status after a throttled test = %q, want active", conn.Status)
	}

	// Another connection has its own budget.
	other := f.connected("globex")
	if _, err := f.b.LookupCustomer(ctx(t), agent, other, q); err != nil {
		t.Fatalf("another tenant's lookup: %v", err)
	}

	clk.Advance(interval)
	if _, err := f.b.LookupCustomer(ctx(t), agent, ten, q); err != nil {
		t.Fatalf("lookup once the window moved on: %v", err)
	}
}

// TestProviderRateLimitPassesThrough: the provider's own 429 reaches the
// caller as rate_limited with the provider's retry-after.
func TestProviderRateLimitPassesThrough(t *testing.T) {
	t.Parallel()
	f, _, held := throttled(t)
	ten := f.connected("acme")
	_, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: memdriver.RateLimitEmail})
	wantCode(t, err, host.ErrorCode(sdk.CodeRateLimited), "")
	if got := sdk.AsError(err).RetryAfter; got != memdriver.RateLimitRetryAfter {
		t.Errorf("RetryAfter %s, want the provider's %s", got, memdriver.RateLimitRetryAfter)
	}
	if len(*held) != 0 {
		t.Errorf("the host throttled %v; the refusal was the provider's", *held)
	}
}

// TestDeclaredLimitsVetted: limits a driver declares out of range are
// logged once and ignored; the valid ones are kept; a new declaration is
// vetted again.
func TestDeclaredLimitsVetted(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Output: &lockedWriter{mu: &mu, w: &logs}, Level: hclog.Warn})
	b := broker.New(broker.Options{Logger: logger})
	good := sdk.RateLimit{Name: "burst", Limit: 10, WindowMS: 1000}
	desc := sdk.Description{Slug: "x", DriverVersion: "1.0.0", RateLimits: []sdk.RateLimit{
		good,
		{Name: "zero", Limit: 0, WindowMS: 1000},
		{Name: "negative_window", Limit: 5, WindowMS: -1},
		{Name: "absurd", Limit: 1 << 40, WindowMS: 1000},
		{Name: "week", Limit: 5, WindowMS: (7 * 24 * time.Hour).Milliseconds()},
	}}
	for i := 0; i < 3; i++ {
		if diff := cmp.Diff([]sdk.RateLimit{good}, b.DeclaredLimits(desc)); diff != "" {
			t.Fatalf("call %d: kept limits (-want +got):\n%s", i, diff)
		}
	}
	mu.Lock()
	n := strings.Count(logs.String(), "ignoring a rate limit the driver declares")
	mu.Unlock()
	if n != 4 {
		t.Errorf("%d warnings, want 4 (one per bad limit, once):\n%s", n, logs.String())
	}
	desc.RateLimits = desc.RateLimits[:1]
	if diff := cmp.Diff([]sdk.RateLimit{good}, b.DeclaredLimits(desc)); diff != "" {
		t.Errorf("after a new declaration (-want +got):\n%s", diff)
	}
	if got := b.DeclaredLimits(sdk.Description{Slug: "y"}); got != nil {
		t.Errorf("no declared limits: %v, want none", got)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
