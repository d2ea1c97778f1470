package odoo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/sdk"
)

// loopback is the egress allowlist the host sends in dev mode and tests:
// the fakes listen on loopback, which the provider toolkit refuses
// otherwise.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ctxFor is a call context with the loopback allowlist and a deadline.
func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(sdk.WithEgressAllow(context.Background(), loopback), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// capture is ctxFor that also captures the credential update the calls
// made with it send.
func capture(t *testing.T) (context.Context, func() *sdk.CredentialUpdate) {
	t.Helper()
	return sdk.CaptureCredentialUpdate(ctxFor(t))
}

// learned returns conn with the facts a first call learns applied, as the
// host stores them.
func learned(t *testing.T, call func(ctx context.Context) error, conn sdk.Connection) sdk.Connection {
	t.Helper()
	ctx, got := capture(t)
	if err := call(ctx); err != nil {
		t.Fatalf("first call: %v", err)
	}
	u := got()
	if u == nil {
		t.Fatal("the first call sent no credential update")
	}
	return u.Apply(conn)
}

// seed creates a record straight in the fake over JSON-RPC (bypassing
// the driver, which normalises values) and returns its id.
func seed(t *testing.T, srv *fake.Server, model string, vals map[string]any) int {
	t.Helper()
	var id float64
	execKw(t, srv, model, "create", []any{vals}, nil, &id)
	return int(id)
}

// execKw runs a model method on account A of the fake and decodes the
// result into out.
func execKw(t *testing.T, srv *fake.Server, model, method string, args []any, kwargs map[string]any, out any) {
	t.Helper()
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": map[string]any{
		"service": "object", "method": "execute_kw",
		"args": []any{fake.DefaultDatabase, 2, fake.DefaultAPIKey, model, method, args, kwargs}}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/jsonrpc", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  any             `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil || env.Error != nil {
		t.Fatalf("%s.%s: %v %v", model, method, err, env.Error)
	}
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			t.Fatal(err)
		}
	}
}

// read returns the fake's record of model id with fields.
func read(t *testing.T, srv *fake.Server, model string, id int, fields ...string) map[string]any {
	t.Helper()
	var rows []map[string]any
	execKw(t, srv, model, "read", []any{[]any{id}}, map[string]any{"fields": fields}, &rows)
	return rows[0]
}

// count counts model's records matching domain, archived ones included.
func count(t *testing.T, srv *fake.Server, model string, domain []any) int {
	t.Helper()
	var n int
	execKw(t, srv, model, "search_count", []any{domain}, map[string]any{"context": map[string]any{"active_test": false}}, &n)
	return n
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

// versions are the Odoo versions the driver's tests run against: JSON-RPC
// with and without mobile, and JSON-2.
var versions = []string{"16.0", "17.0", "saas~18.2", "19.0"}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}
