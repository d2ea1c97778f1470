package mindbody_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// loopback is the egress allowlist the host sends in dev mode and tests:
// the fake listens on loopback.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// clock is a settable clock shared by the driver and the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a fake Mindbody and the driver served through a real plugin
// connection, sharing one clock.
type env struct {
	t   *testing.T
	clk *clock
	srv *fake.Server
	cl  *sdk.Client
}

func setup(t *testing.T, o fake.Options) *env {
	t.Helper()
	clk := newClock()
	if o.Now == nil {
		o.Now = clk.Now
	}
	srv := fake.New(t, o)
	return &env{t: t, clk: clk, srv: srv, cl: drivertest.Serve(t, mindbody.NewWith(mindbody.Options{Now: clk.Now}))}
}

// ctx is a call context with the loopback allowlist and a deadline.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(sdk.WithEgressAllow(sdk.WithRequestID(context.Background(), "test-"+t.Name()), loopback), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// capture is ctx recording the credential update the driver sends.
func capture(t testing.TB) (context.Context, func() *sdk.CredentialUpdate) {
	return sdk.CaptureCredentialUpdate(ctx(t))
}

// ok fails the test on err.
func ok[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
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

// requests returns the requests the fake received for a path since
// index from.
func requests(srv *fake.Server, from int, path string) []fake.Request {
	var out []fake.Request
	for _, r := range srv.Requests()[from:] {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// noSecret fails the test if text holds a value of conn's secret or app
// credentials.
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

// create creates a client through the driver and returns its id.
func (e *env) create(conn sdk.Connection, fields map[string]any) string {
	e.t.Helper()
	r, err := e.cl.CreateRecord(ctx(e.t), conn, sdk.CreateInput{Object: "clients", Fields: fields})
	if err != nil {
		e.t.Fatalf("create %v: %v", fields, err)
	}
	return r.ExternalID
}
