package drivertest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"crmhost.dev/sdk"
)

// tenant is one of the two accounts the tenants check interleaves.
type tenant struct {
	name   string
	conn   sdk.Connection
	obj    sdk.ObjectInfo
	fields []map[string]any
	ids    []string
}

// tenantRecords is how many records each tenant writes.
const tenantRecords = 3

// tenants: two tenants' connections (Connection and OtherConnection) used
// concurrently, with the same phone numbers on both sides: nothing written
// through one is visible through the other, by lookup (phone, email, id),
// ListRecent or search.
func (k *kit) tenants(t *testing.T, p Provider) {
	a := &tenant{name: "A", conn: k.conn(t, p.Connection())}
	b := &tenant{name: "B", conn: k.conn(t, p.OtherConnection())}
	if reflect.DeepEqual(a.conn, b.conn) {
		t.Fatal("OtherConnection returns the same connection as Connection: it must reach a second, separate account")
	}
	a.obj, b.obj = k.object(t, a.conn), k.object(t, b.conn)
	for i := range tenantRecords {
		fa, fb := k.o.NewFields(50+i), k.o.NewFields(50+tenantRecords+i)
		fb[k.o.PhoneField] = fa[k.o.PhoneField] // the same person's phone at both tenants
		a.fields, b.fields = append(a.fields, fa), append(b.fields, fb)
	}
	ra := must(k.c.TestConnection(k.ctx(t), a.conn))(t)
	rb := must(k.c.TestConnection(k.ctx(t), b.conn))(t)
	if ra.AccountID != "" && ra.AccountID == rb.AccountID {
		t.Errorf("TestConnection answers the same account %q for both tenants", ra.AccountID)
	}

	// Writes, interleaved. Seeding goes through the test's goroutine.
	if a.obj.Supports(sdk.VerbCreateRecord) && b.obj.Supports(sdk.VerbCreateRecord) {
		both(a, b, func(me, _ *tenant) {
			for _, f := range me.fields {
				r, err := k.c.CreateRecord(k.ctx(t), me.conn, sdk.CreateInput{Object: k.o.Object, Fields: clone(f)})
				if err != nil {
					t.Errorf("tenant %s: create: %v", me.name, err)
					return
				}
				me.ids = append(me.ids, r.ExternalID)
			}
		})
	} else {
		for i := range tenantRecords {
			for _, me := range []*tenant{a, b} {
				me.ids = append(me.ids, k.write(t, p, me.obj, me.conn, me.fields[i], ""))
			}
		}
	}
	if t.Failed() {
		return
	}

	// Each tenant sees its own records (once the provider's search has).
	both(a, b, func(me, _ *tenant) {
		for i, f := range me.fields {
			if msg := k.eventually(func() string {
				r, err := k.lookup(t, me.conn, sdk.LookupQuery{Phone: str(f[k.o.PhoneField])})
				return found("lookup by a phone both tenants hold", r, err, me.ids[i], 1)
			}); msg != "" {
				t.Errorf("tenant %s: %s", me.name, msg)
			}
		}
		if msg := k.eventually(func() string { return k.listsOnly(t, me) }); msg != "" {
			t.Errorf("tenant %s: %s", me.name, msg)
		}
	})
	// And nothing of the other's, now that both are visible.
	both(a, b, func(me, other *tenant) {
		for i, f := range other.fields {
			r, err := k.lookup(t, me.conn, sdk.LookupQuery{Email: str(f[k.o.EmailField])})
			if err != nil || r.Customer != nil {
				t.Errorf("tenant %s: lookup of tenant %s's email = %+v, %v; want nothing", me.name, other.name, r.Customer, err)
			}
			// Ids may be per account: the same id can name a record of
			// me's own, but never the other's.
			r, err = k.lookup(t, me.conn, sdk.LookupQuery{ExternalID: other.ids[i]})
			if err != nil || (r.Customer != nil && sdk.SameEmail(str(r.Customer.Fields[k.o.EmailField]), str(f[k.o.EmailField]))) {
				t.Errorf("tenant %s: lookup of tenant %s's record id %s = %+v, %v; want nothing of %s's", me.name, other.name, other.ids[i], r.Customer, err, other.name)
			}
			r, err = k.lookup(t, me.conn, sdk.LookupQuery{Phone: str(f[k.o.PhoneField])})
			if msg := found("lookup by a phone both tenants hold", r, err, me.ids[i], 1); msg != "" {
				t.Errorf("tenant %s: %s", me.name, msg)
			}
			if me.obj.Supports(sdk.VerbSearchRecords) {
				rs, err := k.c.SearchRecords(k.ctx(t), me.conn, sdk.SearchQuery{Object: k.o.Object, Query: str(f[k.o.EmailField]), Limit: 10})
				if err != nil || len(rs) != 0 {
					t.Errorf("tenant %s: search for tenant %s's email = %v, %v; want nothing", me.name, other.name, recIDs(rs), err)
				}
			}
		}
		if msg := k.listsOnly(t, me); msg != "" {
			t.Errorf("tenant %s: %s", me.name, msg)
		}
	})
}

// listsOnly complains unless ListRecent through me's connection lists
// exactly me's records.
func (k *kit) listsOnly(t *testing.T, me *tenant) string {
	if !me.obj.Supports(sdk.VerbListRecent) {
		return ""
	}
	r, err := k.c.ListRecent(k.ctx(t), me.conn, sdk.ListQuery{Object: k.o.Object, Limit: 1000})
	if err != nil {
		return fmt.Sprintf("ListRecent: %v", err)
	}
	return sameSet("ListRecent", recIDs(r.Records), me.ids)
}

// both runs f for each tenant (with the other) concurrently.
func both(a, b *tenant, f func(me, other *tenant)) {
	var wg sync.WaitGroup
	wg.Go(func() { f(a, b) })
	wg.Go(func() { f(b, a) })
	wg.Wait()
}
