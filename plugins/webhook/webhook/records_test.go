package webhook_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

// TestLookupAcrossObjects: one request names every object in order, with
// the fields the read mapping needs; the answer is the first object's
// most recent match, with that object's count.
func TestLookupAcrossObjects(t *testing.T) {
	f := fake.New(t, fake.Options{})
	conn, d := f.Connection(), quick()
	fields := customer(3)
	create(t, d, conn, "customers", fields)
	lead1 := create(t, d, conn, "leads", fields)
	time.Sleep(2 * time.Millisecond)
	lead2 := create(t, d, conn, "leads", fields)
	_ = lead1

	q := sdk.LookupQuery{Phone: "+14155550103", Objects: []string{"leads", "customers"}, Fields: []string{"status"}}
	r, err := d.LookupCustomer(allowed(t), conn, q)
	if err != nil || r.Customer == nil || r.Customer.Object != "leads" || r.Customer.ExternalID != lead2 || r.MatchCount != 2 {
		t.Fatalf("lookup leads then customers = %+v, %v; want lead %s of 2", r, err, lead2)
	}
	reqs := lastOf(f, "crm.lookup_customer")
	var env struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(reqs[len(reqs)-1].Payload), &env); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"objects": []any{"leads", "customers"}, "phone": "+14155550103", "fields": []any{"status"}}
	if diff := cmp.Diff(want, env.Data); diff != "" {
		t.Errorf("lookup data (-want +got):\n%s", diff)
	}
	if len(reqs) != 1 {
		t.Errorf("%d lookup requests, want 1 for both objects", len(reqs))
	}
	r, err = d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Email: "GRACED@Example.com", Objects: []string{"customers", "leads"}})
	if err != nil || r.Customer == nil || r.Customer.Object != "customers" || r.MatchCount != 1 {
		t.Errorf("lookup customers then leads by upper-case email = %+v, %v", r, err)
	}
}

// TestGETReads: with read_method GET, reads travel as GET with the signed
// envelope in the query (the fake verifies and validates them); writes
// stay POST.
func TestGETReads(t *testing.T) {
	f := fake.New(t, fake.Options{})
	conn, d := f.Connection(), quick()
	conn.Config["read_method"] = "GET"
	id := create(t, d, conn, "customers", customer(4))
	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: id, Objects: []string{"customers"}})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != id {
		t.Fatalf("GET lookup = %+v, %v", r, err)
	}
	if _, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "customers", Limit: 10}); err != nil {
		t.Fatal(err)
	}
	methods := map[string]string{}
	for _, r := range f.Requests() {
		methods[r.Type] = r.Method
	}
	want := map[string]string{"crm.create_record": "POST", "crm.describe": "GET", "crm.lookup_customer": "GET", "crm.list_recent": "GET"}
	for typ, m := range methods {
		if want[typ] != "" && want[typ] != m {
			t.Errorf("%s sent as %s, want %s", typ, m, want[typ])
		}
	}
	if methods["crm.lookup_customer"] == "" {
		t.Error("no lookup reached the fake")
	}
}

// TestTombstonesAndSchema: deletions come back as tombstones; the live
// fields are the endpoint's declared ones; objects carry the endpoint's
// verbs and reasons, and default mappings with canonical keys.
func TestTombstonesAndSchema(t *testing.T) {
	f := fake.New(t, fake.Options{})
	conn, d := f.Connection(), quick()
	since := time.Now().Add(-time.Second)
	id := create(t, d, conn, "customers", customer(5))
	if _, err := d.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "customers", ExternalID: id}); err != nil {
		t.Fatal(err)
	}
	res, err := d.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "customers", Since: since, Limit: 10})
	if err != nil || len(res.Records) != 0 || len(res.Tombstones) != 1 || res.Tombstones[0].ExternalID != id || res.Tombstones[0].Object != "customers" {
		t.Errorf("ListRecent after a delete = %+v, %v; want one tombstone for %s", res, err, id)
	}

	sch, err := d.DescribeObject(allowed(t), conn, "leads")
	if err != nil || !slices.ContainsFunc(sch.Fields, func(f sdk.Field) bool { return f.Name == "status" && len(f.Options) == 4 }) {
		t.Errorf("DescribeObject(leads) = %+v, %v", sch, err)
	}
	objs, err := d.ListObjects(allowed(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]sdk.ObjectInfo{}
	for _, o := range objs {
		byName[o.Name] = o
	}
	notes := byName["notes"]
	if notes.Canonical != sdk.ObjectConversation || !slices.Equal(notes.Verbs, []string{sdk.VerbCreateRecord, sdk.VerbListRecent}) ||
		notes.Unsupported[sdk.VerbUpdateRecord] != "notes cannot be changed once written" {
		t.Errorf("notes = %+v", notes)
	}
	if got := byName["leads"].DefaultFields["lead.status"]; got != "status" {
		t.Errorf("leads' default mapping of lead.status = %q, want status", got)
	}
	if got := byName["customers"].DefaultFields["customer.phone"]; got != "phone" {
		t.Errorf("customers' default mapping of customer.phone = %q, want phone (declared field)", got)
	}
	if msg := byName["leads"].Unsupported[sdk.VerbEraseRecord]; msg == "" {
		t.Error("leads lack erase without a reason")
	}
}
