package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk"
)

// allowed returns t's context carrying the loopback egress allowlist that
// the host sends in dev mode and tests: the fake HubSpot listens on
// loopback, which the provider toolkit refuses otherwise.
func allowed(t *testing.T) context.Context {
	return sdk.WithEgressAllow(t.Context(), []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// seed writes an object straight into the fake (bypassing the driver, which
// would normalise phone numbers) and returns its id.
func seed(t *testing.T, srv *fake.Server, objectType string, props map[string]string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"properties": props})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/crm/v3/objects/"+objectType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Connection().Secret["access_token"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("seed %s: %v", objectType, err)
	}
	defer resp.Body.Close()
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&obj); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("seed %s: status %d, %v", objectType, resp.StatusCode, err)
	}
	return obj.ID
}

// record returns the fake's stored object of a type by id.
func record(t *testing.T, srv *fake.Server, objectType, id string) (fake.Object, bool) {
	t.Helper()
	for _, o := range srv.Records(objectType) {
		if o.ID == id {
			return o, true
		}
	}
	return fake.Object{}, false
}

// requests returns the requests the fake received for method and a path
// suffix.
func requests(srv *fake.Server, method, pathSuffix string) []fake.Request {
	var out []fake.Request
	for _, r := range srv.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, pathSuffix) {
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

// clock is a settable clock for the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)} }

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
