package drivertest

import (
	"fmt"
	"strings"
	"testing"

	"crmhost.dev/sdk"
)

// updated is the value the kit writes to Options.UpdateField.
const updated = "changed by drivertest"

// crud: a record written reads back by id, by phone in national format and
// by upper-case email; a partial update keeps the other fields; search
// finds it by email.
func (k *kit) crud(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	o := k.object(t, conn)
	fields := k.o.NewFields(0)
	id := k.write(t, p, o, conn, fields, "")

	rec := k.byID(t, conn, id)
	if rec == nil {
		t.Fatalf("lookup by external_id %q found nothing", id)
	}
	if rec.ExternalID != id || rec.UpdatedAt.IsZero() || rec.Object != k.o.Object {
		t.Errorf("lookup: object %q external_id %q updated_at %v, want %q, %q and a time", rec.Object, rec.ExternalID, rec.UpdatedAt, k.o.Object, id)
	}
	if d := k.fieldDiff(rec, fields); d != "" {
		t.Errorf("read back after create: %s", d)
	}
	phone := k.national(t, str(fields[k.o.PhoneField]))
	if msg := k.eventually(func() string {
		r, err := k.lookup(t, conn, sdk.LookupQuery{Phone: phone})
		return found("lookup by national-format phone "+phone, r, err, id, 1)
	}); msg != "" {
		t.Error(msg)
	}
	email := strings.ToUpper(str(fields[k.o.EmailField]))
	if msg := k.eventually(func() string {
		r, err := k.lookup(t, conn, sdk.LookupQuery{Email: email})
		return found("lookup by upper-case email", r, err, id, 1)
	}); msg != "" {
		t.Error(msg)
	}

	if o.Supports(sdk.VerbUpdateRecord) {
		upd := must(k.c.UpdateRecord(k.ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: id,
			Fields: map[string]any{k.o.UpdateField: updated}}))(t)
		if !upd.Updated {
			t.Error("UpdateRecord: updated=false")
		}
		after := k.byID(t, conn, id)
		if after == nil {
			t.Fatal("record vanished after update")
		}
		want := clone(fields)
		want[k.o.UpdateField] = updated
		if d := k.fieldDiff(after, want); d != "" {
			t.Errorf("after a partial update: %s", d)
		}
		if after.UpdatedAt.Before(rec.UpdatedAt) {
			t.Errorf("updated_at went backwards: %v then %v", rec.UpdatedAt, after.UpdatedAt)
		}
	}

	if o.Supports(sdk.VerbSearchRecords) {
		q := str(fields[k.o.EmailField])
		if msg := k.eventually(func() string {
			rs, err := k.c.SearchRecords(k.ctx(t), conn, sdk.SearchQuery{Object: k.o.Object, Query: q, Limit: 10})
			switch {
			case err != nil:
				return fmt.Sprintf("SearchRecords by email: %v", err)
			case len(rs) == 0 || rs[0].ExternalID != id:
				return fmt.Sprintf("SearchRecords by email: %v, want %q first", recIDs(rs), id)
			}
			return ""
		}); msg != "" {
			t.Error(msg)
		}
	}
}

// notFound: updating a missing record is not_found; looking one up is no
// match, not an error.
func (k *kit) notFound(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	o := k.object(t, conn)
	if o.Supports(sdk.VerbUpdateRecord) {
		_, err := k.c.UpdateRecord(k.ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: missingID, Fields: map[string]any{k.o.UpdateField: "x"}})
		wantCode(t, err, sdk.CodeNotFound)
	}
	for name, q := range map[string]sdk.LookupQuery{
		"a missing id":     {ExternalID: missingID},
		"an unknown phone": {Phone: str(k.o.NewFields(unusedN)[k.o.PhoneField])},
		"an unknown email": {Email: str(k.o.NewFields(unusedN)[k.o.EmailField])},
	} {
		r, err := k.lookup(t, conn, q)
		if err != nil || r.Customer != nil || r.MatchCount != 0 {
			t.Errorf("lookup of %s = %+v, %v; want no customer, 0 matches, no error", name, r, err)
		}
	}
}

// missingID is an external id no fake holds; unusedN a NewFields number no
// check writes.
const (
	missingID = "987654321987"
	unusedN   = 99
)

// authError: bad credentials and a revoked token are auth_error, with no
// secret in the message.
func (k *kit) authError(t *testing.T, p Provider) {
	bad := k.conn(t, p.BadConnection())
	_, err := k.lookup(t, bad, sdk.LookupQuery{Email: "nobody@example.com"})
	wantCode(t, err, sdk.CodeAuth)
	noSecret(t, err.Error(), bad)
	conn := k.conn(t, p.Connection())
	if k.object(t, conn).Supports(sdk.VerbCreateRecord) {
		_, err = k.c.CreateRecord(k.ctx(t), bad, sdk.CreateInput{Object: k.o.Object, Fields: k.o.NewFields(1)})
		wantCode(t, err, sdk.CodeAuth)
		noSecret(t, err.Error(), bad)
	}
	p.Inject(Fault{Kind: Unauthorized})
	_, err = k.lookup(t, conn, sdk.LookupQuery{Email: "nobody@example.com"})
	wantCode(t, err, sdk.CodeAuth)
	noSecret(t, err.Error(), conn)
}

// idempotentCreate: the same key twice is one record, also when the first
// response was lost.
func (k *kit) idempotentCreate(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	if !k.object(t, conn).Supports(sdk.VerbCreateRecord) {
		_, err := k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: k.o.NewFields(2), IdempotencyKey: "drivertest-key-1"})
		wantCode(t, err, sdk.CodeUnsupported)
		return
	}
	fields := k.o.NewFields(2)
	first := k.createOK(t, conn, fields, "drivertest-key-1")
	second := k.createOK(t, conn, fields, "drivertest-key-1")
	if first != second {
		t.Errorf("a retried idempotency key created a second record: %q and %q", first, second)
	}

	lost := k.o.NewFields(3)
	p.Inject(Fault{Kind: LoseResponse})
	if _, err := k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: clone(lost), IdempotencyKey: "drivertest-key-2"}); err == nil {
		t.Fatal("CreateRecord succeeded although its response was lost")
	}
	retried := k.createOK(t, conn, lost, "drivertest-key-2")
	if msg := k.eventually(func() string {
		r, err := k.lookup(t, conn, sdk.LookupQuery{Phone: str(lost[k.o.PhoneField])})
		return found("after a lost response and a retry with the same idempotency key, lookup by phone", r, err, retried, 1)
	}); msg != "" {
		t.Error(msg)
	}
}

func (k *kit) createOK(t *testing.T, conn sdk.Connection, fields map[string]any, key string) string {
	t.Helper()
	r := must(k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: clone(fields), IdempotencyKey: key}))(t)
	if r.ExternalID == "" {
		t.Fatal("CreateRecord returned an empty external_id")
	}
	return r.ExternalID
}

// mostRecent: two customers with one phone answer the most recently
// updated, with the count.
func (k *kit) mostRecent(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	o := k.object(t, conn)
	a, b := k.o.NewFields(4), k.o.NewFields(5)
	b[k.o.PhoneField] = a[k.o.PhoneField]
	idA := k.write(t, p, o, conn, a, "")
	k.tick()
	newest := k.write(t, p, o, conn, b, "")
	if o.Supports(sdk.VerbUpdateRecord) {
		k.tick()
		must(k.c.UpdateRecord(k.ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: idA, Fields: map[string]any{k.o.UpdateField: "touched last"}}))(t)
		newest = idA
	}
	if msg := k.eventually(func() string {
		r, err := k.lookup(t, conn, sdk.LookupQuery{Phone: str(a[k.o.PhoneField])})
		return found("two customers sharing a phone: lookup (want the most recently updated)", r, err, newest, 2)
	}); msg != "" {
		t.Error(msg)
	}
}

// invalid: bad input is invalid naming its field, whether the sdk or the
// driver (a field the provider rejects) finds it.
func (k *kit) invalid(t *testing.T, p Provider) {
	conn := k.conn(t, p.Connection())
	o := k.object(t, conn)
	badURL := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: "not a url"}, Secret: conn.Secret, App: conn.App}
	cases := []invalidCase{
		{"unknown object", "object", func() error {
			_, err := k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: "drivertest_no_such_object", Fields: k.o.NewFields(40)})
			return err
		}},
		{"unparseable phone", "phone", func() error {
			_, err := k.lookup(t, conn, sdk.LookupQuery{Phone: "call me maybe"})
			return err
		}},
		{"no lookup key", "phone", func() error {
			_, err := k.lookup(t, conn, sdk.LookupQuery{})
			return err
		}},
		{"oversized value", "fields." + k.o.UpdateField, func() error {
			_, err := k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: map[string]any{k.o.UpdateField: strings.Repeat("x", sdk.MaxFieldValueBytes+1)}})
			return err
		}},
		{"negative limit", "limit", func() error {
			_, err := k.c.ListRecent(k.ctx(t), conn, sdk.ListQuery{Object: k.o.Object, Limit: -1})
			return err
		}},
		{"malformed base_url", "config.base_url", func() error {
			_, err := k.lookup(t, badURL, sdk.LookupQuery{Email: "a@example.com"})
			return err
		}},
		{"missing external_id", "external_id", func() error {
			_, err := k.c.UpdateRecord(k.ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, Fields: map[string]any{k.o.UpdateField: "x"}})
			return err
		}},
	}
	// Checks the driver itself must make: a field the provider does not
	// have, written through whichever write verb the object supports.
	fields := k.o.NewFields(41)
	fields[rejectedField] = "x"
	switch {
	case o.Supports(sdk.VerbCreateRecord):
		cases = append(cases, invalidCase{"field the provider rejects (create)", "fields." + rejectedField, func() error {
			_, err := k.c.CreateRecord(k.ctx(t), conn, sdk.CreateInput{Object: k.o.Object, Fields: fields})
			return err
		}})
	case o.Supports(sdk.VerbUpdateRecord):
		id := k.write(t, p, o, conn, k.o.NewFields(42), "")
		cases = append(cases, invalidCase{"field the provider rejects (update)", "fields." + rejectedField, func() error {
			_, err := k.c.UpdateRecord(k.ctx(t), conn, sdk.UpdateInput{Object: k.o.Object, ExternalID: id, Fields: map[string]any{rejectedField: "x"}})
			return err
		}})
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

type invalidCase struct {
	name  string
	field string // the Field the invalid error must name
	call  func() error
}

// rejectedField is a field no provider object has: writing it must be the
// driver's (or the provider's) invalid, naming it.
const rejectedField = "drivertest_no_such_field"
