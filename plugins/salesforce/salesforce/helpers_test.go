package salesforce_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/sdk"
)

// ctx is a call context that lets the driver reach the fake on loopback,
// as the host's dev mode and tests do.
func ctx(t testing.TB) context.Context {
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

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// noSecret fails if text holds any secret of conn.
func noSecret(t *testing.T, text string, conn sdk.Connection) {
	t.Helper()
	for k, v := range conn.Secret {
		if len(v) >= 6 && strings.Contains(text, v) {
			t.Fatalf("secret %s leaked into %q", k, text)
		}
	}
	for k, v := range conn.App {
		if len(v) >= 6 && k == "client_secret" && strings.Contains(text, v) {
			t.Fatalf("app secret leaked into %q", text)
		}
	}
}

// requests returns the fake's requests whose path contains part.
func requests(s *fake.Server, method, part string) []fake.Request {
	var out []fake.Request
	for _, r := range s.Requests() {
		if r.Method == method && strings.Contains(r.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

// clock is a settable clock shared by the fake and the driver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 30, 15, 0, time.UTC)} }

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
