package tekmetric_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/plugins/tekmetric/tekmetric"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// allowed returns t's context carrying the loopback egress allowlist that
// the host sends in dev mode and tests: the fake listens on loopback,
// which the provider toolkit refuses otherwise.
func allowed(t *testing.T) context.Context {
	return sdk.WithEgressAllow(t.Context(), []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// newDriver is a driver whose back-off jitter is zero.
func newDriver() *tekmetric.Driver {
	return tekmetric.NewWith(tekmetric.Options{Jitter: func(time.Duration) time.Duration { return 0 }})
}

// served serves d through a real plugin connection (the sdk's checks on
// objects and verbs apply, as they do for the host).
func served(t *testing.T, d sdk.Driver) *sdk.Client {
	t.Helper()
	return drivertest.Serve(t, d)
}

// requests returns the requests the fake received for method and path.
func requests(srv *fake.Server, method, path string) []fake.Request {
	var out []fake.Request
	for _, r := range srv.Requests() {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
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

// noSecret fails when text holds one of conn's secret or app values.
func noSecret(t *testing.T, text string, conn sdk.Connection) {
	t.Helper()
	for _, m := range []map[string]string{conn.Secret, conn.App} {
		for k, v := range m {
			if len(v) >= 6 && strings.Contains(text, v) {
				t.Errorf("%s leaked into %q", k, text)
			}
		}
	}
}

// clock is a settable clock shared by a fake and a driver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

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
