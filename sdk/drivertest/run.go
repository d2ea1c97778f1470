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

// Run checks d's contract against fresh fakes from opts.NewProvider, each
// check in its own subtest, through a real plugin connection.
func Run(t *testing.T, d sdk.Driver, opts Options) {
	t.Helper()
	if opts.NewProvider == nil || opts.NewFields == nil || opts.Object == "" ||
		opts.PhoneField == "" || opts.EmailField == "" || opts.UpdateField == "" {
		t.Fatal("drivertest: Options needs NewProvider, NewFields, Object, PhoneField, EmailField and UpdateField")
	}
	if opts.Records == 0 {
		opts.Records = 7
	}
	k := &kit{d: d, o: opts, c: Serve(t, d)}
	checks := []struct {
		name string
		fn   func(t *testing.T, p Provider)
	}{
		{"describe", k.describe},
		{"test_connection", k.testConnection},
		{"crud_round_trip", k.crud},
		{"not_found", k.notFound},
		{"auth_error", k.authError},
		{"rate_limited", k.rateLimited},
		{"unavailable", k.unavailable},
		{"idempotent_create", k.idempotentCreate},
		{"lookup_most_recent", k.mostRecent},
		{"list_recent", k.listRecent},
		{"delete", k.delete},
		{"cancellation", k.cancellation},
		{"invalid_input", k.invalid},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, opts.NewProvider(t)) })
	}
}

type kit struct {
	d sdk.Driver
	o Options
	c *sdk.Client
}

// loopback is the egress allowlist the kit sends with every call, as the
// host does in dev mode and tests: fake providers listen on loopback, which
// the provider toolkit (sdk/provider) refuses otherwise.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func ctx(t *testing.T) context.Context {
	base := sdk.WithEgressAllow(sdk.WithRequestID(context.Background(), "drivertest-"+t.Name()), loopback)
	c, cancel := context.WithTimeout(base, 30*time.Second)
	t.Cleanup(cancel)
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

// ok turns a (value, error) pair into a value, failing the test on error:
// ok(call(...))(t).
func ok[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func (k *kit) create(t *testing.T, conn sdk.Connection, fields map[string]any, key string) string {
	t.Helper()
	r := ok(k.c.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: fields, IdempotencyKey: key}))(t)
	if r.ExternalID == "" {
		t.Fatal("CreateRecord returned an empty external_id")
	}
	return r.ExternalID
}

func (k *kit) byID(t *testing.T, conn sdk.Connection, id string) *sdk.Record {
	t.Helper()
	r := ok(k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: id}))(t)
	return r.Customer
}

// national returns the phone written the way a person in its region would.
func national(t *testing.T, phone string) string {
	t.Helper()
	n, err := phonenumbers.Parse(phone, "US")
	if err != nil {
		t.Fatalf("NewFields gave an unparseable phone %q: %v", phone, err)
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
		return sdk.SamePhone(str(wrote), str(got), "US")
	case k.o.EmailField:
		return sdk.SameEmail(str(wrote), str(got))
	}
	return str(wrote) == str(got)
}

func (k *kit) checkFields(t *testing.T, rec *sdk.Record, want map[string]any) {
	t.Helper()
	for f, v := range want {
		if !k.sameValue(f, v, rec.Fields[f]) {
			t.Errorf("field %s = %v, want %v", f, rec.Fields[f], v)
		}
	}
}

func (k *kit) describe(t *testing.T, _ Provider) {
	desc := ok(k.c.Describe(ctx(t)))(t)
	if desc.Slug == "" || desc.DriverVersion == "" {
		t.Errorf("Describe: slug %q and driver_version %q must be set", desc.Slug, desc.DriverVersion)
	}
	found := false
	for _, v := range desc.ProtocolVersions {
		found = found || v == sdk.ProtocolVersion
	}
	if !found {
		t.Errorf("Describe: protocol_versions %v lacks %d", desc.ProtocolVersions, sdk.ProtocolVersion)
	}
	if want := sdk.CapabilitiesOf(k.d); desc.Capabilities != want {
		t.Errorf("Describe: capabilities %+v, want %+v (derived from the implemented interfaces)", desc.Capabilities, want)
	}
	if _, ok := desc.Object(k.o.Object); !ok {
		t.Errorf("Describe: object %q is not declared", k.o.Object)
	}
	switch desc.Auth.Kind {
	case sdk.AuthOAuth2Code, sdk.AuthClientCredentials, sdk.AuthForm:
	default:
		t.Errorf("Describe: auth kind %q is not one of oauth2_code, client_credentials, form", desc.Auth.Kind)
	}
}

func (k *kit) testConnection(t *testing.T, p Provider) {
	if r := ok(k.c.TestConnection(ctx(t), p.Connection()))(t); !r.OK {
		t.Errorf("TestConnection on valid credentials: ok=false, reason %q", r.Reason)
	}
	bad := p.BadConnection()
	r, err := k.c.TestConnection(ctx(t), bad)
	switch {
	case err != nil:
		wantCode(t, err, sdk.CodeAuth)
		noSecret(t, err.Error(), bad)
	case r.OK:
		t.Error("TestConnection on bad credentials: ok=true")
	case r.Reason == "":
		t.Error("TestConnection on bad credentials: ok=false without a reason")
	default:
		noSecret(t, r.Reason, bad)
	}
}

func noSecret(t *testing.T, text string, conn sdk.Connection) {
	t.Helper()
	for k, v := range conn.Secret {
		if len(v) >= 6 && strings.Contains(text, v) {
			t.Errorf("secret %q leaked into %q", k, text)
		}
	}
}

func (k *kit) crud(t *testing.T, p Provider) {
	conn := p.Connection()
	fields := k.o.NewFields(0)
	id := k.create(t, conn, fields, "")

	rec := k.byID(t, conn, id)
	if rec == nil {
		t.Fatalf("lookup by external_id %q found nothing", id)
	}
	if rec.ExternalID != id || rec.UpdatedAt.IsZero() {
		t.Errorf("lookup: external_id %q updated_at %v, want %q and a time", rec.ExternalID, rec.UpdatedAt, id)
	}
	k.checkFields(t, rec, fields)

	byPhone := ok(k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: national(t, str(fields[k.o.PhoneField]))}))(t)
	if byPhone.Customer == nil || byPhone.Customer.ExternalID != id || byPhone.MatchCount != 1 {
		t.Errorf("lookup by national-format phone: %+v, want %q with match_count 1", byPhone, id)
	}
	byEmail := ok(k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: strings.ToUpper(str(fields[k.o.EmailField]))}))(t)
	if byEmail.Customer == nil || byEmail.Customer.ExternalID != id || byEmail.MatchCount != 1 {
		t.Errorf("lookup by upper-case email: %+v, want %q with match_count 1", byEmail, id)
	}

	upd := ok(k.c.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: id,
		Fields: map[string]any{k.o.UpdateField: "changed by drivertest"}}))(t)
	if !upd.Updated {
		t.Error("UpdateRecord: updated=false")
	}
	after := k.byID(t, conn, id)
	if after == nil {
		t.Fatal("record vanished after update")
	}
	want := map[string]any{}
	for f, v := range fields {
		want[f] = v
	}
	want[k.o.UpdateField] = "changed by drivertest"
	k.checkFields(t, after, want)
	if after.UpdatedAt.Before(rec.UpdatedAt) {
		t.Errorf("updated_at went backwards: %v then %v", rec.UpdatedAt, after.UpdatedAt)
	}

	found := ok(k.c.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: k.o.Object, Query: str(fields[k.o.EmailField]), Limit: 10}))(t)
	if len(found) == 0 || found[0].ExternalID != id {
		t.Errorf("SearchRecords by email: %d matches, want %q first", len(found), id)
	}
}

func (k *kit) notFound(t *testing.T, p Provider) {
	conn := p.Connection()
	_, err := k.c.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: "987654321987", Fields: map[string]any{k.o.UpdateField: "x"}})
	wantCode(t, err, sdk.CodeNotFound)
	r, err := k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "987654321987"})
	if err != nil || r.Customer != nil || r.MatchCount != 0 {
		t.Errorf("lookup of a missing id = %+v, %v; want no customer, 0 matches, no error", r, err)
	}
	r, err = k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+1 202 555 0199"})
	if err != nil || r.Customer != nil || r.MatchCount != 0 {
		t.Errorf("lookup of an unknown phone = %+v, %v; want no customer, 0 matches, no error", r, err)
	}
}

func (k *kit) authError(t *testing.T, p Provider) {
	bad := p.BadConnection()
	_, err := k.c.LookupCustomer(ctx(t), bad, sdk.LookupQuery{Email: "nobody@example.com"})
	wantCode(t, err, sdk.CodeAuth)
	noSecret(t, err.Error(), bad)
	_, err = k.c.CreateRecord(ctx(t), bad, sdk.CreateInput{Object: k.o.Object, Fields: k.o.NewFields(1)})
	wantCode(t, err, sdk.CodeAuth)

	conn := p.Connection()
	p.Inject(Fault{Kind: Unauthorized})
	_, err = k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "nobody@example.com"})
	wantCode(t, err, sdk.CodeAuth)
}

func (k *kit) rateLimited(t *testing.T, p Provider) {
	p.Inject(Fault{Kind: RateLimit, RetryAfter: 7 * time.Second, Count: 3})
	_, err := k.c.LookupCustomer(ctx(t), p.Connection(), sdk.LookupQuery{Email: "nobody@example.com"})
	e := wantCode(t, err, sdk.CodeRateLimited)
	if e.RetryAfter <= 0 || e.RetryAfter > 7*time.Second {
		t.Errorf("RetryAfter = %v, want the provider's 7s (or less, never zero)", e.RetryAfter)
	}
}

func (k *kit) unavailable(t *testing.T, p Provider) {
	p.Inject(Fault{Kind: ServerError, Count: 10})
	_, err := k.c.LookupCustomer(ctx(t), p.Connection(), sdk.LookupQuery{Email: "nobody@example.com"})
	wantCode(t, err, sdk.CodeUnavailable)
}

func (k *kit) idempotentCreate(t *testing.T, p Provider) {
	conn := p.Connection()
	fields := k.o.NewFields(2)
	first := k.create(t, conn, fields, "drivertest-key-1")
	second := k.create(t, conn, fields, "drivertest-key-1")
	if first != second {
		t.Errorf("same idempotency key gave two records: %q and %q", first, second)
	}

	lost := k.o.NewFields(3)
	p.Inject(Fault{Kind: LoseResponse})
	if _, err := k.c.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: lost, IdempotencyKey: "drivertest-key-2"}); err == nil {
		t.Fatal("CreateRecord succeeded although its response was lost")
	}
	retried := k.create(t, conn, lost, "drivertest-key-2")
	r := ok(k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: str(lost[k.o.PhoneField])}))(t)
	if r.MatchCount != 1 || r.Customer == nil || r.Customer.ExternalID != retried {
		t.Errorf("after a lost response and a retry: %d records with that phone (want 1, %q)", r.MatchCount, retried)
	}
}

func (k *kit) mostRecent(t *testing.T, p Provider) {
	conn := p.Connection()
	a := k.o.NewFields(4)
	b := k.o.NewFields(5)
	b[k.o.PhoneField] = a[k.o.PhoneField]
	idA := k.create(t, conn, a, "")
	k.create(t, conn, b, "")
	time.Sleep(5 * time.Millisecond)
	ok(k.c.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: idA, Fields: map[string]any{k.o.UpdateField: "touched last"}}))(t)
	r := ok(k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: str(a[k.o.PhoneField])}))(t)
	if r.MatchCount != 2 || r.Customer == nil || r.Customer.ExternalID != idA {
		got := "nil"
		if r.Customer != nil {
			got = r.Customer.ExternalID
		}
		t.Errorf("two matches: got %s with match_count %d, want the most recently updated %s with 2", got, r.MatchCount, idA)
	}
}

func (k *kit) listRecent(t *testing.T, p Provider) {
	conn := p.Connection()
	var ids []string
	for i := 0; i < k.o.Records; i++ {
		ids = append(ids, k.create(t, conn, k.o.NewFields(10+i), ""))
		time.Sleep(2 * time.Millisecond)
	}
	all := ok(k.c.ListRecent(ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Limit: 1000}))(t).Records
	if got := recIDs(all); !equal(got, ids) {
		t.Fatalf("ListRecent since the beginning = %v, want %v (oldest first)", got, ids)
	}
	for i := 1; i < len(all); i++ {
		if all[i].UpdatedAt.Before(all[i-1].UpdatedAt) {
			t.Errorf("ListRecent not oldest first at %d", i)
		}
	}
	mid := len(all) / 2
	since := ok(k.c.ListRecent(ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Since: all[mid].UpdatedAt, Limit: 1000}))(t).Records
	if got := recIDs(since); !equal(got, ids[mid:]) {
		t.Errorf("ListRecent since record %d = %v, want %v", mid, got, ids[mid:])
	}
	limited := ok(k.c.ListRecent(ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Limit: 2}))(t).Records
	if got := recIDs(limited); !equal(got, ids[:2]) {
		t.Errorf("ListRecent limit 2 = %v, want %v", got, ids[:2])
	}
	future := ok(k.c.ListRecent(ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Since: time.Now().Add(time.Hour), Limit: 10}))(t).Records
	if len(future) != 0 {
		t.Errorf("ListRecent since an hour ahead = %d records, want 0", len(future))
	}
}

func recIDs(rs []sdk.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ExternalID)
	}
	return out
}

func equal(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func (k *kit) delete(t *testing.T, p Provider) {
	conn := p.Connection()
	caps := sdk.CapabilitiesOf(k.d)
	id := k.create(t, conn, k.o.NewFields(30), "")
	r, err := k.c.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: k.o.Object, ExternalID: id})
	if !caps.Delete {
		wantCode(t, err, sdk.CodeDeleteUnsupported)
	} else {
		if err != nil || !r.Deleted {
			t.Fatalf("DeleteRecord = %+v, %v; want deleted", r, err)
		}
		if rec := k.byID(t, conn, id); rec != nil {
			t.Errorf("record %q still found after delete", id)
		}
		_, err = k.c.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: k.o.Object, ExternalID: "987654321987"})
		wantCode(t, err, sdk.CodeNotFound)
	}

	id = k.create(t, conn, k.o.NewFields(31), "")
	r, err = k.c.EraseRecord(ctx(t), conn, sdk.RecordRef{Object: k.o.Object, ExternalID: id})
	if !caps.Erase {
		wantCode(t, err, sdk.CodeDeleteUnsupported)
		return
	}
	if err != nil || !r.Deleted || !r.HardDeleted {
		t.Fatalf("EraseRecord = %+v, %v; want deleted and hard_deleted", r, err)
	}
	if rec := k.byID(t, conn, id); rec != nil {
		t.Errorf("record %q still found after erase", id)
	}
}

func (k *kit) cancellation(t *testing.T, p Provider) {
	p.Inject(Fault{Kind: Latency, Latency: 5 * time.Second, Count: 5})
	c, cancel := context.WithTimeout(sdk.WithEgressAllow(context.Background(), loopback), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := k.c.LookupCustomer(c, p.Connection(), sdk.LookupQuery{Email: "slow@example.com"})
	if err == nil {
		t.Fatal("a call past its deadline succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("cancelled call took %v to return, want promptly", el)
	}
}

func (k *kit) invalid(t *testing.T, p Provider) {
	conn := p.Connection()
	badURL := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: "not a url"}, Secret: conn.Secret}
	cases := []struct {
		name  string
		field string
		call  func() error
	}{
		{"unknown object", "object", func() error {
			_, err := k.c.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "no_such_object", Fields: k.o.NewFields(40)})
			return err
		}},
		{"unparseable phone", "phone", func() error {
			_, err := k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "call me maybe"})
			return err
		}},
		{"no lookup key", "phone", func() error {
			_, err := k.c.LookupCustomer(ctx(t), conn, sdk.LookupQuery{})
			return err
		}},
		{"oversized value", "fields." + k.o.UpdateField, func() error {
			_, err := k.c.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: map[string]any{k.o.UpdateField: strings.Repeat("x", sdk.MaxFieldValueBytes+1)}})
			return err
		}},
		{"negative limit", "limit", func() error {
			_, err := k.c.ListRecent(ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Limit: -1})
			return err
		}},
		{"malformed base_url", "config.base_url", func() error {
			_, err := k.c.LookupCustomer(ctx(t), badURL, sdk.LookupQuery{Email: "a@example.com"})
			return err
		}},
		{"missing external_id", "external_id", func() error {
			_, err := k.c.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, Fields: map[string]any{k.o.UpdateField: "x"}})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := wantCode(t, c.call(), sdk.CodeInvalid)
			if e.Field != c.field {
				t.Errorf("invalid names field %q, want %q (%v)", e.Field, c.field, e)
			}
		})
	}
}
