package tekmetric_test

import (
	"strconv"
	"strings"
	"testing"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/sdk"
)

// TestLookupPhone: a customer is found by any spelling of a number stored
// in any spelling, and the phone field reads as the primary number.
func TestLookupPhone(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	id := srv.Seed(t, conn, "customers", map[string]any{"firstName": "Ada", "lastName": "Lovelace",
		"phones": []any{"(415) 555-0123", "212-555-0199"}})
	d := newDriver()
	for _, phone := range []string{"+14155550123", "(415) 555-0123", "415.555.0123", "+1 212 555 0199"} {
		r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: phone})
		if err != nil {
			t.Fatalf("%s: %v", phone, err)
		}
		if r.Customer == nil || r.Customer.ExternalID != id || r.MatchCount != 1 {
			t.Fatalf("%s: %+v, want customer %s", phone, r, id)
		}
		if got := r.Customer.Fields["phone"]; got != "(415) 555-0123" {
			t.Errorf("%s: phone field = %v, want the primary number as stored", phone, got)
		}
	}
	// Only the national digits are searched (one request), as the fake
	// matches phones by digits.
	before := len(requests(srv, "GET", "/api/v1/customers"))
	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "+1 415 555 0123"})
	if err != nil || r.Customer == nil {
		t.Fatalf("%+v, %v", r, err)
	}
	got := requests(srv, "GET", "/api/v1/customers")[before:]
	if len(got) != 1 || got[0].Query.Get("search") != "4155550123" || got[0].Query.Get("shop") != "101" {
		t.Errorf("lookup searched %v, want one search for 4155550123 in shop 101", searches(got))
	}
}

func searches(rs []fake.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Query.Get("search"))
	}
	return out
}

// TestLookupPhoneRawSearch: against a search that matches numbers as
// stored, character for character, the driver's second term (Tekmetric's
// display form, 415-555-0123) still finds the customer; a number stored in
// yet another spelling cannot be found (a documented limitation).
func TestLookupPhoneRawSearch(t *testing.T) {
	srv := fake.New(t, fake.Options{RawPhoneSearch: true})
	conn := srv.Connection()
	dashed := srv.Seed(t, conn, "customers", map[string]any{"firstName": "Ada", "phone": "415-555-0123"})
	srv.Seed(t, conn, "customers", map[string]any{"firstName": "Grace", "phone": "(212) 555-0199"})
	d := newDriver()
	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "4155550123"})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != dashed {
		t.Errorf("dashed number: %+v, %v; want customer %s", r, err, dashed)
	}
	if got := searches(requests(srv, "GET", "/api/v1/customers")); strings.Join(got, " ") != "4155550123 415-555-0123" {
		t.Errorf("searched %v, want the digits then the dashed form", got)
	}
	r, err = d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Phone: "2125550199"})
	if err != nil || r.Customer != nil {
		t.Errorf("parenthesised number with a raw search: %+v, %v; want no match", r, err)
	}
}

// TestLookupEmail: case-insensitive; deleted customers never match.
func TestLookupEmail(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	id := srv.Seed(t, conn, "customers", map[string]any{"firstName": "Ada", "email": "Ada@Example.com"})
	d := newDriver()
	r, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Email: "ADA@example.COM"})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != id {
		t.Fatalf("%+v, %v; want customer %s", r, err, id)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	srv.DeleteCustomer(n)
	for _, q := range []sdk.LookupQuery{{Email: "ada@example.com"}, {ExternalID: id}} {
		r, err = d.LookupCustomer(allowed(t), conn, q)
		if err != nil || r.Customer != nil || r.MatchCount != 0 {
			t.Errorf("deleted customer, %+v: %+v, %v; want no match", q, r, err)
		}
	}
}

// TestLookupOtherShop: the partner token reaches both shops, and Tekmetric
// answers shop B's customer by id to shop A's token; the driver answers
// no match.
func TestLookupOtherShop(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	other := srv.Seed(t, srv.OtherConnection(), "customers", map[string]any{"firstName": "Bea", "email": "bea@example.com", "phone": "415-555-0100"})
	d := newDriver()
	for _, q := range []sdk.LookupQuery{{ExternalID: other}, {Email: "bea@example.com"}, {Phone: "4155550100"}} {
		r, err := d.LookupCustomer(allowed(t), srv.Connection(), q)
		if err != nil || r.Customer != nil {
			t.Errorf("%+v through shop A: %+v, %v; want no match", q, r, err)
		}
	}
	if len(requests(srv, "GET", "/api/v1/customers/"+other)) != 1 {
		t.Error("the driver did not read the customer by id (the test proves nothing)")
	}
	_, err := d.UpdateRecord(allowed(t), srv.Connection(), sdk.UpdateInput{Object: "customers", ExternalID: other, Fields: map[string]any{"notes": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
	if n := len(requests(srv, "PATCH", "/api/v1/customers/"+other)); n != 0 {
		t.Errorf("%d PATCHes reached shop B's customer", n)
	}
}

// TestLookupBadInput: ids are numbers; objects other than customers cannot
// be looked up (the sdk answers with Tekmetric's limitation).
func TestLookupBadInput(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	_, err := newDriver().LookupCustomer(allowed(t), srv.Connection(), sdk.LookupQuery{ExternalID: "cust-12"})
	wantCode(t, err, sdk.CodeInvalid, "external_id")
	_, err = served(t, newDriver()).LookupCustomer(allowed(t), srv.Connection(), sdk.LookupQuery{Phone: "4155550100", Objects: []string{"repair_orders"}})
	e := wantCode(t, err, sdk.CodeUnsupported, "")
	if !strings.Contains(e.Message, "not customers") {
		t.Errorf("message %q does not name the limitation", e.Message)
	}
}
