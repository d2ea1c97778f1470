package athena_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/athena"
	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
)

// allowed returns t's context carrying the loopback egress allowlist that
// the host sends in dev mode and tests: the fake listens on loopback,
// which the provider toolkit refuses otherwise.
func allowed(t *testing.T) context.Context {
	return sdk.WithEgressAllow(t.Context(), []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// wantCode fails the test unless err is an *sdk.Error with code (and,
// when field is set, that field).
func wantCode(t *testing.T, err error, code sdk.Code, field string) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *sdk.Error with code %s", err, err, code)
	}
	if e.Code != code || (field != "" && e.Field != field) {
		t.Fatalf("error = %v (code %s, field %q), want code %s field %q", err, e.Code, e.Field, code, field)
	}
	return e
}

// clock is a settable clock shared by a fake and a driver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup starts a fake and a driver sharing clk (time.Now when nil).
func setup(t *testing.T, clk *clock, o fake.Options) (*fake.Server, *athena.Driver) {
	t.Helper()
	now := time.Now
	if clk != nil {
		now = clk.Now
	}
	o.Now = now
	return fake.New(t, o), athena.NewWith(athena.Options{Now: now})
}

// create creates a patient through the driver and returns its id.
func create(t *testing.T, d *athena.Driver, conn sdk.Connection, fields map[string]any) string {
	t.Helper()
	r, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "patients", Fields: fields})
	if err != nil {
		t.Fatalf("create %v: %v", fields, err)
	}
	return r.ExternalID
}
