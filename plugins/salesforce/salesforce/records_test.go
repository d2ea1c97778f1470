package salesforce_test

import (
	"strings"
	"testing"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func create(t *testing.T, d *salesforce.Driver, conn sdk.Connection, object string, fields map[string]any, key string) string {
	t.Helper()
	r := must[sdk.CreateResult](t)(d.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: object, Fields: fields, IdempotencyKey: key}))
	if r.ExternalID == "" || !strings.HasSuffix(r.RecordURL, "/"+r.ExternalID) {
		t.Fatalf("create answered %+v", r)
	}
	return r.ExternalID
}

func TestLookupContactThenLead(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	lead := create(t, d, conn, "Lead", map[string]any{"LastName": "Lee", "Company": "Acme", "MobilePhone": "415.555.0123", "Email": "lee@example.com"}, "")

	objects := []string{"Contact", "Lead"}
	r := must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+1 (415) 555-0123", Objects: objects}))
	if r.Customer == nil || r.Customer.ExternalID != lead || r.Customer.Object != "Lead" || r.MatchCount != 1 {
		t.Fatalf("lookup by phone found %+v, want the lead %s", r.Customer, lead)
	}
	if got := r.Customer.Fields["MobilePhone"]; got != "+14155550123" {
		t.Fatalf("the lead's phone was stored as %v, want E.164", got)
	}
	contact := create(t, d, conn, "Contact", map[string]any{"LastName": "Lee", "Phone": "(415) 555-0123", "Email": "LEE@example.com"}, "")
	for _, q := range []sdk.LookupQuery{
		{Phone: "4155550123", Objects: objects},
		{Email: "lee@EXAMPLE.com", Objects: objects},
		{ExternalID: contact, Objects: objects},
	} {
		r := must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, q))
		if r.Customer == nil || r.Customer.ExternalID != contact || r.Customer.Object != "Contact" {
			t.Fatalf("lookup %+v found %+v, want the contact %s (tried first)", q, r.Customer, contact)
		}
	}
	// A lead's id is no contact's: the lookup moves on to leads.
	r = must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: lead, Objects: objects}))
	if r.Customer == nil || r.Customer.ExternalID != lead {
		t.Fatalf("lookup by the lead's id found %+v", r.Customer)
	}
	// Another number with the same last digits is not the same number.
	r = must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+44 20 4155 0123", Objects: objects}))
	if r.Customer != nil {
		t.Fatalf("a UK number matched %+v", r.Customer)
	}
	// The SOSL search asks for every object at once.
	if got := len(requests(srv, "GET", "/search")); got != 3 {
		t.Fatalf("%d SOSL searches for 3 phone lookups", got)
	}
}

func TestLookupByExternalIDField(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	id := create(t, d, conn, "Contact", map[string]any{"LastName": "Keyed", "Department": "Ops"}, "caller-42")
	r := must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "caller-42", Objects: []string{"Contact"}, Fields: []string{"Department", "Crmhost_Key__c"}}))
	if r.Customer == nil || r.Customer.ExternalID != id {
		t.Fatalf("lookup by External ID field found %+v", r.Customer)
	}
	if diff := cmp.Diff(map[string]any{"Department": "Ops", "Crmhost_Key__c": "caller-42"},
		map[string]any{"Department": r.Customer.Fields["Department"], "Crmhost_Key__c": r.Customer.Fields["Crmhost_Key__c"]}); diff != "" {
		t.Fatalf("read fields (-want +got):\n%s", diff)
	}
	_, err := d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "x@example.com", Objects: []string{"Contact"}, Fields: []string{"Id FROM User WHERE Id != null"}})
	wantCode(t, err, sdk.CodeInvalid, "fields")
	_, err = d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "x@example.com", Objects: []string{"Contact"}, Fields: []string{"Shoe_Size__c"}})
	wantCode(t, err, sdk.CodeInvalid, "fields.Shoe_Size__c")
	// A quote in an email cannot break out of the SOQL literal.
	r = must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: `o'brien@example.com' OR Email != '`, Objects: []string{"Contact"}}))
	if r.Customer != nil {
		t.Fatalf("an injected email matched %+v", r.Customer)
	}
}

func TestCreateErrors(t *testing.T) {
	srv := fake.New(t, fake.Options{DuplicateRules: true})
	d := salesforce.New()
	conn := srv.Connection()
	create(t, d, conn, "Contact", map[string]any{"LastName": "Dup", "Email": "dup@example.com"}, "")
	tests := []struct {
		name   string
		conn   sdk.Connection
		in     sdk.CreateInput
		code   sdk.Code
		field  string
		before func()
	}{
		{name: "required field missing", in: sdk.CreateInput{Object: "Lead", Fields: map[string]any{"LastName": "NoCompany"}}, code: sdk.CodeInvalid, field: "fields.Company"},
		{name: "duplicate rule", in: sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": "Dup2", "Email": "DUP@example.com"}}, code: sdk.CodeConflict},
		{name: "bad email", in: sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": "E", "Email": "nope"}}, code: sdk.CodeInvalid, field: "fields.Email"},
		{name: "too long", in: sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": strings.Repeat("x", 81)}}, code: sdk.CodeInvalid, field: "fields.LastName"},
		{name: "list value", in: sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": []any{"a"}}}, code: sdk.CodeInvalid, field: "fields.LastName"},
		{name: "bad phone", in: sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": "P", "Phone": "call me"}}, code: sdk.CodeInvalid, field: "fields.Phone"},
		{name: "key field in the body", in: sdk.CreateInput{Object: "Contact", IdempotencyKey: "k", Fields: map[string]any{"LastName": "K", "Crmhost_Key__c": "k"}}, code: sdk.CodeInvalid, field: "fields.Crmhost_Key__c"},
		{name: "no such object", in: sdk.CreateInput{Object: "Spaceship__c", Fields: map[string]any{"Name": "x"}}, code: sdk.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.CreateRecord(ctx(t), conn, tc.in)
			wantCode(t, err, tc.code, tc.field)
		})
	}

	unprepared := fake.New(t, fake.Options{ExternalIDField: "-"})
	_, err := d.CreateRecord(ctx(t), unprepared.Connection(), sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": "K"}, IdempotencyKey: "k1"})
	e := wantCode(t, err, sdk.CodeInvalid, "idempotency_key")
	if !strings.Contains(e.Message, "External ID") || len(unprepared.Records(fake.OrgA, "Contact")) != 0 {
		t.Fatalf("an unprepared org: %v (and %d contacts stored)", e, len(unprepared.Records(fake.OrgA, "Contact")))
	}
}

func TestUpdateAndDelete(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	id := create(t, d, conn, "Opportunity", map[string]any{"Name": "Big", "StageName": "Prospecting", "CloseDate": "2026-06-30", "Amount": 1200}, "")
	upd := must[sdk.UpdateResult](t)(d.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "Opportunity", ExternalID: id, Fields: map[string]any{"StageName": "Closed Won"}}))
	if !upd.Updated {
		t.Fatal("update answered updated=false")
	}
	recs := srv.Records(fake.OrgA, "Opportunity")
	if len(recs) != 1 || recs[0]["StageName"] != "Closed Won" || recs[0]["Amount"] != 1200.0 || recs[0]["Name"] != "Big" {
		t.Fatalf("after a partial update: %v", recs)
	}
	if p := requests(srv, "PATCH", "/sobjects/Opportunity/"+id); len(p) != 1 || p[0].Body != `{"StageName":"Closed Won"}` {
		t.Fatalf("update sent %+v, want only the changed field", p)
	}
	r := must[sdk.DeleteResult](t)(d.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "Opportunity", ExternalID: id}))
	if !r.Deleted || r.HardDeleted {
		t.Fatalf("delete answered %+v, want deleted to the Recycle Bin (hard_deleted false)", r)
	}
	_, err := d.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "Opportunity", ExternalID: id})
	wantCode(t, err, sdk.CodeNotFound, "")
	_, err = d.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "Opportunity", ExternalID: id, Fields: map[string]any{"Name": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
}

func TestConversationTask(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	who := create(t, d, conn, "Contact", map[string]any{"LastName": "Caller"}, "")
	task := create(t, d, conn, "Task", map[string]any{"Subject": "Call with Caller", "Description": "Agent: hello\nCaller: hi",
		"TaskSubtype": "Call", "CallType": "Inbound", "Status": "Completed", "WhoId": who, "CallDurationInSeconds": 95}, "conversation-1")
	again := create(t, d, conn, "Task", map[string]any{"Subject": "Call with Caller", "Description": "Agent: hello\nCaller: hi"}, "conversation-1")
	if again != task {
		t.Fatalf("the same conversation key made two tasks: %s and %s", task, again)
	}
	desc := must[sdk.Description](t)(d.Describe(ctx(t)))
	o, ok := desc.Object("Task")
	if !ok || o.Canonical != sdk.ObjectConversation || o.DefaultFields["conversation.body"] != "Description" {
		t.Fatalf("Task is declared as %+v", o)
	}
}

func TestSearchRecords(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	id := create(t, d, conn, "Lead", map[string]any{"LastName": "O'Hara", "Company": "Tara (Holdings) & Co"}, "")
	create(t, d, conn, "Lead", map[string]any{"LastName": "Other", "Company": "Elsewhere"}, "")
	got := must[[]sdk.Record](t)(d.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "Lead", Query: "Tara (Holdings) & Co", Limit: 10}))
	if len(got) != 1 || got[0].ExternalID != id {
		t.Fatalf("search with reserved characters found %v", got)
	}
	all := must[[]sdk.Record](t)(d.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "Lead", Limit: 1}))
	if len(all) != 1 {
		t.Fatalf("an empty query lists the newest: %d records", len(all))
	}
	_, err := d.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "Lead", Query: "x", Limit: 5})
	wantCode(t, err, sdk.CodeInvalid, "query")
}

func TestSOQLQuoting(t *testing.T) {
	tests := map[string]string{
		"plain":            "'plain'",
		"o'brien":          `'o\'brien'`,
		`back\slash`:       `'back\\slash'`,
		"line\nbreak\t\"q": `'line\nbreak\t\"q'`,
	}
	for in, want := range tests {
		if got := salesforce.Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := salesforce.SOSLTerm(`a-b {c} "d" x*`); got != `a\-b \{c\} \"d\" x\*` {
		t.Errorf("SOSLTerm = %s", got)
	}
}

// TestLookupFieldsPerObject: the host sends one list of extra fields for
// every object a lookup tries (the read mappings of all of them); each
// object is asked only for those it has, learned once from its describe.
func TestLookupFieldsPerObject(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	lead := create(t, d, conn, "Lead", map[string]any{"LastName": "Only", "Company": "LeadCo", "Email": "only@example.com"}, "")
	q := sdk.LookupQuery{Email: "only@example.com", Objects: []string{"Contact", "Lead"}, Fields: []string{"Company", "Department", "Owner.Name", "IsConverted"}}
	for range 2 {
		r := must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, q))
		if r.Customer == nil || r.Customer.ExternalID != lead || r.Customer.Fields["Company"] != "LeadCo" {
			t.Fatalf("lookup with mixed fields: %+v", r.Customer)
		}
	}
	if n := len(requests(srv, "GET", "/describe")); n != 2 {
		t.Fatalf("%d describe calls for two lookups over two objects, want 2 (cached)", n)
	}
	q.Fields = append(q.Fields, "Nope__c")
	_, err := d.LookupCustomer(ctx(t), conn, q)
	wantCode(t, err, sdk.CodeInvalid, "fields.Nope__c")
}
