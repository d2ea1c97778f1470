package zoho_test

import (
	"slices"
	"strings"
	"testing"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestLookup(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	conn := s.Connection()
	// Stored by hand in a spelling the driver would not write.
	contact := s.Seed(fake.OrgA, "Contacts", map[string]any{"Last_Name": "Byron", "Phone": "(415) 555-0100", "Description": "poet"})
	lead := s.Seed(fake.OrgA, "Leads", map[string]any{"Last_Name": "Babbage", "Mobile": "+1 415-555-0199", "Email": "Charles@Example.com"})

	r, err := d.LookupCustomer(bg(t), conn, sdk.LookupQuery{Phone: "+14155550100", Objects: []string{"Contacts"}, Fields: []string{"Description"}})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != contact || r.MatchCount != 1 {
		t.Fatalf("phone lookup = %+v, %v; want contact %s", r, err, contact)
	}
	if r.Customer.Fields["Description"] != "poet" {
		t.Errorf("the read field Description was not read: %v", r.Customer.Fields)
	}
	search := requests(s, "GET", "/Contacts/search")
	crit := search[len(search)-1].Query.Get("criteria")
	if n := strings.Count(crit, ":equals:"); n == 0 || n > 10 {
		t.Errorf("criteria %q has %d conditions, want 1..10 (Zoho's limit)", crit, n)
	}
	if !slices.Contains(strings.Split(search[len(search)-1].Query.Get("fields"), ","), "Description") {
		t.Errorf("fields %q lacks Description", search[len(search)-1].Query.Get("fields"))
	}

	// Contacts first, then Leads: the lead answers, named by its module.
	r, err = d.LookupCustomer(bg(t), conn, sdk.LookupQuery{Phone: "(415) 555-0199", Objects: []string{"Contacts", "Leads"}})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != lead || r.Customer.Object != "Leads" {
		t.Fatalf("lookup over Contacts then Leads = %+v, %v; want lead %s", r, err, lead)
	}
	r, err = d.LookupCustomer(bg(t), conn, sdk.LookupQuery{Email: "charles@EXAMPLE.com", Objects: []string{"Leads"}})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != lead {
		t.Fatalf("email lookup = %+v, %v", r, err)
	}
	// Zoho's 204: no match, no error.
	r, err = d.LookupCustomer(bg(t), conn, sdk.LookupQuery{Email: "nobody@example.com"})
	if err != nil || r.Customer != nil || r.MatchCount != 0 {
		t.Fatalf("no match = %+v, %v", r, err)
	}
	// Another org sees none of org A's records.
	r, err = d.LookupCustomer(bg(t), s.OtherConnection(), sdk.LookupQuery{Phone: "+14155550100"})
	if err != nil || r.Customer != nil {
		t.Fatalf("org B found org A's contact: %+v, %v", r, err)
	}
}

func TestWrites(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	conn := s.Connection()
	tests := []struct {
		name   string
		conn   func(sdk.Connection) sdk.Connection
		in     sdk.CreateInput
		code   sdk.Code
		field  string
		module string
	}{
		{"mandatory field missing", nil, sdk.CreateInput{Object: "Leads", Fields: map[string]any{"First_Name": "Ada"}}, sdk.CodeInvalid, "fields.Last_Name", ""},
		{"unknown field", nil, sdk.CreateInput{Object: "Leads", Fields: map[string]any{"Last_Name": "L", "Shoe_Size": 9}}, sdk.CodeInvalid, "fields.Shoe_Size", ""},
		{"picklist value not an option", nil, sdk.CreateInput{Object: "Leads", Fields: map[string]any{"Last_Name": "L", "Lead_Status": "Hot"}}, sdk.CodeInvalid, "fields.Lead_Status", ""},
		{"phone that is not a phone", nil, sdk.CreateInput{Object: "Contacts", Fields: map[string]any{"Last_Name": "L", "Phone": "call me"}}, sdk.CodeInvalid, "fields.Phone", ""},
		{"idempotency field missing", func(c sdk.Connection) sdk.Connection {
			c.Config["idempotency_field"] = "No_Such_Field"
			return c
		}, sdk.CreateInput{Object: "Contacts", Fields: map[string]any{"Last_Name": "L"}, IdempotencyKey: "k1"}, sdk.CodeInvalid, "idempotency_key", ""},
		{"note on a contact", nil, sdk.CreateInput{Object: "Notes", Fields: map[string]any{"Note_Title": "Call", "Note_Content": "Transcript…",
			"Parent_Id": map[string]any{"id": "1", "module": map[string]any{"api_name": "Contacts"}}}, IdempotencyKey: "note-1"}, "", "", "Notes"},
		{"unique value taken", nil, sdk.CreateInput{Object: "Vehicles", Fields: map[string]any{"Name": "Car", "VIN": "VIN1"}}, "", "", "Vehicles"},
		{"unique value taken again", nil, sdk.CreateInput{Object: "Vehicles", Fields: map[string]any{"Name": "Car 2", "VIN": "VIN1"}}, sdk.CodeConflict, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Connection()
			if tc.conn != nil {
				c = tc.conn(c)
			}
			r, err := d.CreateRecord(bg(t), c, tc.in)
			if tc.code != "" {
				wantCode(t, err, tc.code, tc.field)
				return
			}
			if err != nil || r.ExternalID == "" {
				t.Fatalf("create = %+v, %v", r, err)
			}
			if len(s.Records(fake.OrgA, tc.module)) == 0 {
				t.Errorf("no %s stored", tc.module)
			}
		})
	}

	// Partial update: only the given field changes; null clears.
	id := s.Seed(fake.OrgA, "Leads", map[string]any{"Last_Name": "Hopper", "Company": "Navy", "Title": "RAdm"})
	if _, err := d.UpdateRecord(bg(t), conn, sdk.UpdateInput{Object: "Leads", ExternalID: id, Fields: map[string]any{"Company": "Yale", "Title": nil}}); err != nil {
		t.Fatal(err)
	}
	got := s.Records(fake.OrgA, "Leads")[0]
	if diff := cmp.Diff(map[string]any{"Last_Name": "Hopper", "Company": "Yale", "Title": nil},
		map[string]any{"Last_Name": got["Last_Name"], "Company": got["Company"], "Title": got["Title"]}); diff != "" {
		t.Errorf("after a partial update (-want +got):\n%s", diff)
	}
	put := requests(s, "PUT", "/Leads/"+id)
	if len(put) != 1 || strings.Contains(put[0].Body, "Hopper") {
		t.Errorf("the update sent more than the given fields: %v", put)
	}
	_, err := d.UpdateRecord(bg(t), conn, sdk.UpdateInput{Object: "Leads", ExternalID: "5725767000000999999", Fields: map[string]any{"Company": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
}

func TestDeleteAndErase(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	conn := s.Connection()
	a := s.Seed(fake.OrgA, "Deals", map[string]any{"Deal_Name": "A", "Stage": "Qualification"})
	b := s.Seed(fake.OrgA, "Deals", map[string]any{"Deal_Name": "B", "Stage": "Qualification"})

	r, err := d.DeleteRecord(bg(t), conn, sdk.RecordRef{Object: "Deals", ExternalID: a})
	if err != nil || !r.Deleted || r.HardDeleted {
		t.Fatalf("delete = %+v, %v; want deleted to the Recycle Bin", r, err)
	}
	// Erasing a record already in the Recycle Bin purges it.
	r, err = d.EraseRecord(bg(t), conn, sdk.RecordRef{Object: "Deals", ExternalID: a})
	if err != nil || !r.HardDeleted {
		t.Fatalf("erase of a recycled record = %+v, %v", r, err)
	}
	r, err = d.EraseRecord(bg(t), conn, sdk.RecordRef{Object: "Deals", ExternalID: b})
	if err != nil || !r.Deleted || !r.HardDeleted {
		t.Fatalf("erase = %+v, %v", r, err)
	}
	if n := len(requests(s, "DELETE", "/settings/recycle_bin/"+b)); n != 1 {
		t.Errorf("erase purged the Recycle Bin %d times, want 1", n)
	}
	_, err = d.EraseRecord(bg(t), conn, sdk.RecordRef{Object: "Deals", ExternalID: b})
	wantCode(t, err, sdk.CodeNotFound, "")
	_, err = d.DeleteRecord(bg(t), conn, sdk.RecordRef{Object: "Deals", ExternalID: b})
	wantCode(t, err, sdk.CodeNotFound, "")
}

func TestSearch(t *testing.T) {
	s := fake.New(t, fake.Options{PageSize: 2})
	d := zoho.New()
	conn := s.Connection()
	for _, n := range []string{"Smith", "Smythe", "Jones", "Smithers", "Smitty"} {
		s.Seed(fake.OrgA, "Leads", map[string]any{"Last_Name": n, "Email": strings.ToLower(n) + "@example.com"})
	}
	tests := []struct {
		query string
		limit int
		want  int
		param string
	}{
		{"((Last_Name:starts_with:Smi))", 10, 3, "criteria"},
		{"((Last_Name:starts_with:Sm)and(Email:equals:smythe@example.com))", 10, 1, "criteria"},
		{"smith", 10, 2, "word"},
		{"jones@example.com", 10, 1, "email"},
		{"Sm", 3, 3, "word"},
		{"nobody", 10, 0, "word"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rs, err := d.SearchRecords(bg(t), conn, sdk.SearchQuery{Object: "Leads", Query: tc.query, Limit: tc.limit})
			if err != nil || len(rs) != tc.want {
				t.Fatalf("search = %d records, %v; want %d", len(rs), err, tc.want)
			}
			last := requests(s, "GET", "/Leads/search")
			if q := last[len(last)-1].Query; q.Get(tc.param) == "" {
				t.Errorf("query sent as %v, want %s", q, tc.param)
			}
		})
	}
	_, err := d.SearchRecords(bg(t), conn, sdk.SearchQuery{Object: "Leads", Query: "((Last_Name:sounds_like:Smith))", Limit: 5})
	wantCode(t, err, sdk.CodeInvalid, "query")
}

func TestObjects(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	objs, err := d.ListObjects(bg(t), s.Connection())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]sdk.ObjectInfo{}
	for _, o := range objs {
		byName[o.Name] = o
	}
	if _, ok := byName["Home"]; ok {
		t.Error("ListObjects lists Home, which the API does not support")
	}
	v, ok := byName["Vehicles"]
	if !ok || !v.Custom || slices.Contains(v.Verbs, sdk.VerbLookupCustomer) || !slices.Contains(v.Verbs, sdk.VerbEraseRecord) {
		t.Errorf("custom module Vehicles = %+v", v)
	}
	if n := byName["Notes"]; n.Canonical != sdk.ObjectConversation || n.Unsupported[sdk.VerbSearchRecords] == "" {
		t.Errorf("Notes = %+v, want the conversation object without search, saying why", n)
	}
	if c := byName["Contacts"]; c.Canonical != sdk.ObjectCustomer || c.DefaultFields["customer.phone"] != "Phone" {
		t.Errorf("Contacts = %+v", c)
	}

	sch, err := d.DescribeObject(bg(t), s.Connection(), "Leads")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]sdk.Field{}
	for _, f := range sch.Fields {
		fields[f.Name] = f
	}
	if f := fields["Last_Name"]; !f.Required {
		t.Errorf("Last_Name = %+v, want required", f)
	}
	if f := fields["Lead_Status"]; !slices.Contains(f.Options, "Contacted") || f.Type != "picklist" {
		t.Errorf("Lead_Status = %+v", f)
	}
	if f := fields[fake.IdempotencyField]; !f.Unique {
		t.Errorf("%s = %+v, want unique", fake.IdempotencyField, f)
	}
	if f := fields["Modified_Time"]; !f.ReadOnly {
		t.Errorf("Modified_Time = %+v, want read-only", f)
	}
	_, err = d.DescribeObject(bg(t), s.Connection(), "Nope")
	wantCode(t, err, sdk.CodeInvalid, "object")

	// A custom module's records come with their Name and the fields the
	// read mapping asks for.
	s.Seed(fake.OrgA, "Vehicles", map[string]any{"Name": "Model T", "VIN": "15021"})
	r, err := d.ListRecent(bg(t), s.Connection(), sdk.ListQuery{Object: "Vehicles", Limit: 10, Fields: []string{"VIN"}})
	if err != nil || len(r.Records) != 1 || r.Records[0].Fields["Name"] != "Model T" || r.Records[0].Fields["VIN"] != "15021" {
		t.Fatalf("custom module list = %+v, %v", r, err)
	}
}
