package hubspot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

func TestLookupByPhone(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{Now: c.Now})
	conn := srv.Connection()
	d := hubspot.New()

	national := seed(t, srv, "contacts", map[string]string{"firstname": "Ada", "phone": "(415) 555-0123"})
	c.Advance(time.Minute)
	mobile := seed(t, srv, "contacts", map[string]string{"firstname": "Grace", "mobilephone": "415-555-0123"})
	c.Advance(time.Minute)
	seed(t, srv, "contacts", map[string]string{"firstname": "Other", "phone": "+1 415 555 0199"})
	seed(t, srv, "contacts", map[string]string{"firstname": "Prefix", "phone": "415-555-01234"})

	tests := []struct {
		name      string
		phone     string
		wantID    string
		wantCount int
	}{
		{name: "two spellings, newest wins", phone: "+14155550123", wantID: mobile, wantCount: 2},
		{name: "national input", phone: "(415) 555-0123", wantID: mobile, wantCount: 2},
		{name: "international format stored", phone: "+14155550199", wantCount: 1},
		{name: "no match", phone: "+14155550100", wantCount: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: tt.phone, Email: "ignored@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if got.MatchCount != tt.wantCount {
				t.Fatalf("MatchCount = %d, want %d", got.MatchCount, tt.wantCount)
			}
			if tt.wantCount == 0 {
				if got.Customer != nil {
					t.Fatalf("Customer = %+v, want nil", got.Customer)
				}
				return
			}
			if tt.wantID != "" && got.Customer.ExternalID != tt.wantID {
				t.Errorf("Customer = %s, want %s", got.Customer.ExternalID, tt.wantID)
			}
		})
	}

	// Updating the older match makes it the most recent one.
	c.Advance(time.Minute)
	if _, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "contacts", ExternalID: national, Fields: map[string]any{"company": "Engines"}}); err != nil {
		t.Fatal(err)
	}
	got, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Customer == nil || got.Customer.ExternalID != national || got.MatchCount != 2 {
		t.Fatalf("after update: %+v, want %s of 2", got, national)
	}
	if got.Customer.Fields["phone"] != "(415) 555-0123" || got.Customer.Fields["company"] != "Engines" {
		t.Errorf("fields = %v", got.Customer.Fields)
	}
	if got.Customer.UpdatedAt != c.Now() {
		t.Errorf("UpdatedAt = %v, want %v", got.Customer.UpdatedAt, c.Now())
	}
	if search := requests(srv, "POST", "/contacts/search"); len(search) == 0 || !strings.Contains(search[0].Body, `"operator":"IN"`) {
		t.Errorf("phone lookup did not search with IN filters: %v", search)
	}
}

func TestLookupByEmailAndID(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	conn.AccountID = "" // portal unknown: records link to the API
	d := hubspot.New()
	id := seed(t, srv, "contacts", map[string]string{"firstname": "Ada", "email": "ada@example.com"})

	tests := []struct {
		name   string
		q      sdk.LookupQuery
		wantID string
	}{
		{name: "email", q: sdk.LookupQuery{Email: "ada@example.com"}, wantID: id},
		{name: "email in upper case", q: sdk.LookupQuery{Email: " ADA@Example.COM "}, wantID: id},
		{name: "unknown email", q: sdk.LookupQuery{Email: "nobody@example.com"}},
		{name: "external id", q: sdk.LookupQuery{ExternalID: id}, wantID: id},
		{name: "unknown external id", q: sdk.LookupQuery{ExternalID: "999999"}},
		{name: "email wins over id", q: sdk.LookupQuery{Email: "ADA@EXAMPLE.COM", ExternalID: "999999"}, wantID: id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.LookupCustomer(allowed(t), conn, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantID == "" {
				if diff := cmp.Diff(sdk.LookupResult{}, got); diff != "" {
					t.Errorf("want no match (-want +got):\n%s", diff)
				}
				return
			}
			if got.Customer == nil || got.Customer.ExternalID != tt.wantID || got.MatchCount != 1 {
				t.Fatalf("got %+v, want %s", got, tt.wantID)
			}
			want := map[string]any{"email": "ada@example.com", "firstname": "Ada"}
			for k, v := range want {
				if got.Customer.Fields[k] != v {
					t.Errorf("field %s = %v, want %v", k, got.Customer.Fields[k], v)
				}
			}
			if got.Customer.Object != "contacts" || !strings.HasPrefix(got.Customer.RecordURL, srv.URL+"/crm/v3/objects/contacts/") {
				t.Errorf("record = %+v", got.Customer)
			}
		})
	}
	_, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{})
	wantCode(t, err, sdk.CodeInvalid, "phone")
}

func TestCreateIdempotentUpsert(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	d := hubspot.New()
	in := sdk.CreateInput{Object: "contacts", IdempotencyKey: "key-1",
		Fields: map[string]any{"firstname": "Ada", "email": "ada@example.com", "phone": "(415) 555-0100"}}

	first, err := d.CreateRecord(allowed(t), conn, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.CreateRecord(allowed(t), conn, in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second create differs (-first +second):\n%s", diff)
	}
	if n := len(srv.Records("contacts")); n != 1 {
		t.Fatalf("%d contacts stored, want 1", n)
	}
	obj, _ := record(t, srv, "contacts", first.ExternalID)
	if obj.Properties["phone"] != "+14155550100" || obj.Properties["crmhost_idempotency_key"] != "key-1" {
		t.Errorf("stored properties = %v, want phone in E.164 and the key", obj.Properties)
	}
	if n := len(requests(srv, "POST", "/contacts/batch/upsert")); n != 2 {
		t.Errorf("%d upserts, want 2", n)
	}

	// The first response is lost; the retry with the same key finds it.
	srv.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	lost := sdk.CreateInput{Object: "deals", IdempotencyKey: "key-2", Fields: map[string]any{"dealname": "Big", "amount": 1234.5}}
	_, err = d.CreateRecord(allowed(t), conn, lost)
	wantCode(t, err, sdk.CodeUnavailable, "")
	again, err := d.CreateRecord(allowed(t), conn, lost)
	if err != nil {
		t.Fatal(err)
	}
	deals := srv.Records("deals")
	if len(deals) != 1 || deals[0].ID != again.ExternalID || deals[0].Properties["amount"] != "1234.5" {
		t.Fatalf("deals = %+v, want one with id %s and amount 1234.5", deals, again.ExternalID)
	}
}

func TestCreateExistingContact(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	d := hubspot.New()

	t.Run("without key", func(t *testing.T) {
		id := seed(t, srv, "contacts", map[string]string{"email": "dup@example.com", "firstname": "Old", "lastname": "Kept"})
		got, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "contacts",
			Fields: map[string]any{"email": "dup@example.com", "firstname": "New"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.ExternalID != id {
			t.Fatalf("ExternalID = %s, want the existing %s", got.ExternalID, id)
		}
		obj, _ := record(t, srv, "contacts", id)
		if obj.Properties["firstname"] != "New" || obj.Properties["lastname"] != "Kept" {
			t.Errorf("properties = %v, want firstname patched and lastname kept", obj.Properties)
		}
		if n := len(requests(srv, "POST", "/crm/v3/objects/contacts")); n != 2 { // seed + create
			t.Errorf("%d plain creates, want 2", n)
		}
	})
	t.Run("with key", func(t *testing.T) {
		id := seed(t, srv, "contacts", map[string]string{"email": "dup2@example.com", "firstname": "Old"})
		in := sdk.CreateInput{Object: "contacts", IdempotencyKey: "key-3", Fields: map[string]any{"email": "dup2@example.com", "firstname": "New"}}
		for range 2 {
			got, err := d.CreateRecord(allowed(t), conn, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.ExternalID != id {
				t.Fatalf("ExternalID = %s, want the existing %s", got.ExternalID, id)
			}
		}
		obj, _ := record(t, srv, "contacts", id)
		if obj.Properties["crmhost_idempotency_key"] != "key-3" || obj.Properties["firstname"] != "New" {
			t.Errorf("properties = %v, want the key and firstname written", obj.Properties)
		}
	})
}

func TestCreateInvalidFields(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	d := hubspot.New()
	tests := []struct {
		name    string
		object  string
		fields  map[string]any
		field   string
		request bool // the error comes from HubSpot
	}{
		{name: "list", object: "contacts", fields: map[string]any{"firstname": "A", "tags": []any{"a"}}, field: "fields.tags"},
		{name: "object", object: "contacts", fields: map[string]any{"meta": map[string]any{"a": 1.0}}, field: "fields.meta"},
		{name: "bad phone", object: "contacts", fields: map[string]any{"phone": "call me maybe"}, field: "fields.phone"},
		{name: "short mobile", object: "contacts", fields: map[string]any{"mobilephone": "12"}, field: "fields.mobilephone"},
		{name: "unknown object", object: "companies", fields: map[string]any{"name": "x"}, field: "object"},
		{name: "unknown property", object: "contacts", fields: map[string]any{"favourite": "tea"}, field: "fields.favourite", request: true},
		{name: "bad number", object: "deals", fields: map[string]any{"dealname": "x", "amount": "lots"}, field: "fields.amount", request: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: tt.object, Fields: tt.fields})
			wantCode(t, err, sdk.CodeInvalid, tt.field)
			if sent := len(srv.Requests()) > before; sent != tt.request {
				t.Errorf("request sent = %v, want %v", sent, tt.request)
			}
		})
	}
	// Numbers and booleans are sent as strings.
	got, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "deals",
		Fields: map[string]any{"dealname": "Typed", "amount": 42.0, "dealstage": "closedwon"}})
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := record(t, srv, "deals", got.ExternalID)
	if obj.Properties["amount"] != "42" {
		t.Errorf("amount = %q, want \"42\"", obj.Properties["amount"])
	}
}

func TestUpdateRecordPartial(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	conn.AccountID = "1234567"
	d := hubspot.New()
	created, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "contacts",
		Fields: map[string]any{"firstname": "Ada", "lastname": "Lovelace", "company": "Analytical"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://app.hubspot.com/contacts/1234567/record/0-1/" + created.ExternalID; created.RecordURL != want {
		t.Errorf("RecordURL = %q, want %q", created.RecordURL, want)
	}
	got, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "contacts", ExternalID: created.ExternalID,
		Fields: map[string]any{"company": "Engines Ltd", "phone": "415 555 0111"}})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Updated || got.RecordURL != created.RecordURL {
		t.Errorf("UpdateRecord = %+v", got)
	}
	patches := requests(srv, "PATCH", "/contacts/"+created.ExternalID)
	if len(patches) != 1 {
		t.Fatalf("%d PATCH requests, want 1", len(patches))
	}
	var body map[string]map[string]string
	if err := json.Unmarshal([]byte(patches[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"company": "Engines Ltd", "phone": "+14155550111"}, body["properties"]); diff != "" {
		t.Errorf("PATCH properties (-want +got):\n%s", diff)
	}
	obj, _ := record(t, srv, "contacts", created.ExternalID)
	if obj.Properties["firstname"] != "Ada" || obj.Properties["lastname"] != "Lovelace" || obj.Properties["company"] != "Engines Ltd" {
		t.Errorf("properties = %v", obj.Properties)
	}

	_, err = d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "contacts", ExternalID: "999999", Fields: map[string]any{"company": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
}

func TestDeleteAndErase(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	d := hubspot.New()
	archived := seed(t, srv, "contacts", map[string]string{"email": "archive@example.com"})
	erased := seed(t, srv, "contacts", map[string]string{"email": "erase@example.com"})
	deal := seed(t, srv, "deals", map[string]string{"dealname": "D"})

	got, err := d.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: archived})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sdk.DeleteResult{Deleted: true, HardDeleted: false}, got); diff != "" {
		t.Errorf("DeleteRecord (-want +got):\n%s", diff)
	}
	if _, ok := record(t, srv, "contacts", archived); ok {
		t.Error("archived contact is still live")
	}
	_, err = d.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: archived})
	wantCode(t, err, sdk.CodeNotFound, "")

	got, err = d.EraseRecord(allowed(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: erased})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sdk.DeleteResult{Deleted: true, HardDeleted: true}, got); diff != "" {
		t.Errorf("EraseRecord (-want +got):\n%s", diff)
	}
	if res, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: erased}); err != nil || res.Customer != nil {
		t.Errorf("erased contact still found: %+v, %v", res, err)
	}
	_, err = d.EraseRecord(allowed(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: "999999"})
	wantCode(t, err, sdk.CodeNotFound, "")
	_, err = d.EraseRecord(allowed(t), conn, sdk.RecordRef{Object: "deals", ExternalID: deal})
	wantCode(t, err, sdk.CodeDeleteUnsupported, "")

	got, err = d.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "deals", ExternalID: deal})
	if err != nil || !got.Deleted || got.HardDeleted {
		t.Errorf("delete deal = %+v, %v", got, err)
	}
}
