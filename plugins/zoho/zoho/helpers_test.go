package zoho_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/sdk"
)

// loopback is what the host's dev mode and tests let drivers reach.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ctx is a test context with a deadline and a credential-update sink;
// updates returns what the driver sent back.
func ctx(t *testing.T) (context.Context, func() *sdk.CredentialUpdate) {
	t.Helper()
	c, cancel := context.WithTimeout(sdk.WithEgressAllow(context.Background(), loopback), 10*time.Second)
	t.Cleanup(cancel)
	return sdk.CaptureCredentialUpdate(c)
}

func bg(t *testing.T) context.Context {
	c, _ := ctx(t)
	return c
}

// wantCode fails unless err is an *sdk.Error with code (and field, when
// set).
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

// requests returns the fake's requests with method and a path suffix.
func requests(s *fake.Server, method, suffix string) []fake.Request {
	var out []fake.Request
	for _, r := range s.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// clock is a settable clock.
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
