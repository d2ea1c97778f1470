package drivertest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/nyaruka/phonenumbers"
)

// Checks lists the names of Run's checks, in the order they run: each is a
// subtest of Run's test (TestConformance/cancellation).
var Checks = []string{
	"describe", "list_objects", "describe_object", "test_connection", "crud_round_trip", "not_found",
	"auth_error", "rate_limited", "unavailable", "idempotent_create", "lookup_most_recent", "list_recent",
	"object_verbs", "delete", "cancellation", "invalid_input", "authorize", "refresh", "credential_update",
	"webhooks", "tenants",
}

// Run checks d's contract against fresh fakes from opts.NewProvider, each
// check in its own subtest (named as in Checks), through a real plugin
// connection. Every call carries a request id and an egress allowlist for
// loopback (sdk.WithEgressAllow), as the host sends in dev mode and tests.
func Run(t *testing.T, d sdk.Driver, opts Options) {
	t.Helper()
	if opts.NewProvider == nil || opts.NewFields == nil || opts.Object == "" ||
		opts.PhoneField == "" || opts.EmailField == "" || opts.UpdateField == "" {
		t.Fatal("drivertest: Options needs NewProvider, NewFields, Object, PhoneField, EmailField and UpdateField")
	}
	if opts.Records <= 0 {
		opts.Records = 7
	}
	if opts.PhoneRegion == "" {
		opts.PhoneRegion = "US"
	}
	opts.PhoneRegion = strings.ToUpper(opts.PhoneRegion)
	if phonenumbers.GetCountryCodeForRegion(opts.PhoneRegion) == 0 {
		t.Fatalf("drivertest: Options.PhoneRegion %q is not an ISO 3166 region", opts.PhoneRegion)
	}
	if opts.TimestampGranularity <= 0 {
		opts.TimestampGranularity = time.Millisecond
	}
	k := &kit{d: d, o: opts, caps: sdk.CapabilitiesOf(d), c: Serve(t, d)}
	checks := map[string]func(t *testing.T, p Provider){
		"describe": k.describe, "list_objects": k.listObjects, "describe_object": k.describeObject,
		"test_connection": k.testConnection, "crud_round_trip": k.crud, "not_found": k.notFound,
		"auth_error": k.authError, "rate_limited": k.rateLimited, "unavailable": k.unavailable,
		"idempotent_create": k.idempotentCreate, "lookup_most_recent": k.mostRecent, "list_recent": k.listRecent,
		"object_verbs": k.objectVerbs, "delete": k.delete, "cancellation": k.cancellation, "invalid_input": k.invalid,
		"authorize": k.authorize, "refresh": k.refresh, "credential_update": k.credentialUpdate,
		"webhooks": k.webhooks, "tenants": k.tenants,
	}
	for _, name := range Checks {
		fn := checks[name]
		t.Run(name, func(t *testing.T) { fn(t, opts.NewProvider(t)) })
	}
}

// kit is one Run: the driver, its options and the host-side client.
type kit struct {
	d    sdk.Driver
	o    Options
	caps sdk.Capabilities
	c    *sdk.Client
}

// loopback is the egress allowlist the kit sends: the fakes listen on
// 127.0.0.1 (or ::1).
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ctx is a call's context: a request id, the loopback allowlist and a
// deadline far beyond any check's needs.
func (k *kit) ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(k.base(t), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// base is ctx without a deadline.
func (k *kit) base(t *testing.T) context.Context {
	return sdk.WithEgressAllow(sdk.WithRequestID(context.Background(), "drivertest-"+t.Name()), loopback)
}

// conn completes a connection from the fake the way a host would: the
// connection's default region is Options.PhoneRegion.
func (k *kit) conn(t *testing.T, c sdk.Connection) sdk.Connection {
	t.Helper()
	if r := c.Config[sdk.ConfigDefaultRegion]; r != "" {
		if !strings.EqualFold(r, k.o.PhoneRegion) {
			t.Fatalf("the fake's connection has default_region %q but Options.PhoneRegion is %q", r, k.o.PhoneRegion)
		}
		return c
	}
	cfg := make(map[string]string, len(c.Config)+1)
	for key, v := range c.Config {
		cfg[key] = v
	}
	cfg[sdk.ConfigDefaultRegion] = k.o.PhoneRegion
	c.Config = cfg
	return c
}

// wantCode fails unless err is an *sdk.Error with code want.
func wantCode(t *testing.T, err error, want sdk.Code) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *sdk.Error with code %s", err, err, want)
	}
	if e.Code != want {
		t.Fatalf("error code = %s (%v), want %s", e.Code, e, want)
	}
	return e
}

// must turns a (value, error) pair into a value, failing the test on
// error: must(call(...))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// eventually calls f until it reports no complaint or the provider's
// search lag (Options.SearchLag) has passed since the first try, and
// returns the last complaint. With no lag f runs once; the last try
// always starts after the lag, so a write made before the first try must
// be visible to it.
func (k *kit) eventually(f func() string) string {
	deadline := time.Now().Add(k.o.SearchLag)
	wait := 20 * time.Millisecond
	for {
		start := time.Now()
		msg := f()
		if msg == "" || !start.Before(deadline) {
			return msg
		}
		time.Sleep(min(wait, max(time.Until(deadline), time.Millisecond)))
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// settle waits out the provider's search lag, before asserting that
// something is not visible.
func (k *kit) settle() { time.Sleep(k.o.SearchLag) }

// tick waits out one timestamp granularity, so the next write is stamped
// later than the previous one.
func (k *kit) tick() { time.Sleep(k.o.TimestampGranularity + time.Millisecond) }

// alignToTick waits until just after a granularity boundary when the
// granularity is coarse, so a burst of writes shares one timestamp.
func (k *kit) alignToTick() {
	g := k.o.TimestampGranularity
	if g < 50*time.Millisecond {
		return
	}
	now := time.Now()
	time.Sleep(now.Truncate(g).Add(g + 5*time.Millisecond).Sub(now))
}

// noSecret fails when text holds a secret or app credential of conn.
func noSecret(t *testing.T, text string, conn sdk.Connection) {
	t.Helper()
	for kind, m := range map[string]map[string]string{"secret": conn.Secret, "app credential": conn.App} {
		for key, v := range m {
			if len(v) >= 6 && strings.Contains(text, v) {
				t.Errorf("%s %q leaked into %q", kind, key, text)
			}
		}
	}
}

// national returns the phone written the way a person in its region would.
func (k *kit) national(t *testing.T, phone string) string {
	t.Helper()
	n, err := phonenumbers.Parse(phone, k.o.PhoneRegion)
	if err != nil {
		t.Fatalf("NewFields gave a phone %q that does not parse in %s: %v", phone, k.o.PhoneRegion, err)
	}
	return phonenumbers.Format(n, phonenumbers.NATIONAL)
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// sameValue compares a written field with what the provider gave back,
// allowing the normalisations the contract permits.
func (k *kit) sameValue(field string, wrote, got any) bool {
	switch field {
	case k.o.PhoneField:
		return sdk.SamePhone(str(wrote), str(got), k.o.PhoneRegion)
	case k.o.EmailField:
		return sdk.SameEmail(str(wrote), str(got))
	}
	return str(wrote) == str(got)
}

// fieldDiff names the first field of want that rec does not hold, or "".
func (k *kit) fieldDiff(rec *sdk.Record, want map[string]any) string {
	for f, v := range want {
		if !k.sameValue(f, v, rec.Fields[f]) {
			return fmt.Sprintf("field %s = %v, want %v", f, rec.Fields[f], v)
		}
	}
	return ""
}

// describeErr is err's code and message, for complaints.
func describeErr(err error) string {
	if err == nil {
		return "no error"
	}
	return fmt.Sprintf("%s (%v)", sdk.CodeOf(err), err)
}

func recIDs(rs []sdk.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ExternalID)
	}
	return out
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
