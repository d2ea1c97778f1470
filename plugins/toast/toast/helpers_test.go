package toast_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// allowed returns t's context carrying the loopback egress allowlist that
// the host sends in dev mode and tests: the fake Toast listens on
// loopback, which the provider toolkit refuses otherwise.
func allowed(t *testing.T) context.Context {
	return sdk.WithEgressAllow(t.Context(), []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// clock is a settable clock shared by the driver and the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

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

// setup starts a fake Toast and a driver on one clock.
func setup(t *testing.T, o fake.Options) (*fake.Server, *toast.Driver, *clock) {
	t.Helper()
	c := newClock()
	o.Now = c.Now
	return fake.New(t, o), toast.NewWithOptions(toast.Options{Now: c.Now}), c
}

// guest puts a customer on a new order of restaurant and returns its GUID.
func guest(s *fake.Server, restaurant string, cu fake.Customer) string {
	o := s.AddOrder(restaurant, fake.Check{Customer: &cu, TotalAmount: 12.5})
	return o.Checks[0].Customer.GUID
}

// count returns the requests the fake received on a path.
func count(s *fake.Server, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, path) {
			n++
		}
	}
	return n
}

// logins counts the fake's login requests.
func logins(s *fake.Server) int { return count(s, "/authentication/login") }

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

// with returns conn with config key set to v ("" removes it).
func with(conn sdk.Connection, key, v string) sdk.Connection {
	cfg := map[string]string{}
	for k, x := range conn.Config {
		cfg[k] = x
	}
	if v == "" {
		delete(cfg, key)
	} else {
		cfg[key] = v
	}
	conn.Config = cfg
	return conn
}

// toastNew is a driver on the real clock.
func toastNew() *toast.Driver { return toast.New() }

// rateLimit is Toast's 429 with a retry-after.
func rateLimit(d time.Duration) drivertest.Fault {
	return drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: d}
}
