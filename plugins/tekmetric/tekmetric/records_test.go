package tekmetric_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/plugins/tekmetric/tekmetric"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// customerOf reads a customer back through the driver.
func customerOf(t *testing.T, srv *fake.Server, id string) map[string]any {
	t.Helper()
	r, err := newDriver().LookupCustomer(allowed(t), srv.Connection(), sdk.LookupQuery{ExternalID: id})
	if err != nil || r.Customer == nil {
		t.Fatalf("read customer %s: %+v, %v", id, r, err)
	}
	return r.Customer.Fields
}

// TestCreateIdempotentAfterLostResponse: the create is applied but its
// answer lost; the retry with the same key finds the customer instead of
// creating a second one.
func TestCreateIdempotentAfterLostResponse(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := newDriver()
	in := sdk.CreateInput{Object: "customers", IdempotencyKey: "call-42",
		Fields: map[string]any{"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "phone": "(415) 555-0123"}}
	srv.InjectOn("POST", "/api/v1/customers", drivertest.Fault{Kind: drivertest.LoseResponse})
	if _, err := d.CreateRecord(allowed(t), srv.Connection(), in); sdk.CodeOf(err) != sdk.CodeUnavailable {
		t.Fatalf("lost create: %v, want unavailable", err)
	}
	r, err := d.CreateRecord(allowed(t), srv.Connection(), in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(requests(srv, "POST", "/api/v1/customers")); n != 1 {
		t.Errorf("POSTs = %d, want 1 (the retry must find the customer)", n)
	}
	f := customerOf(t, srv, r.ExternalID)
	if f["phone"] != "415-555-0123" || f["email"] != "ada@example.com" || f["shopId"] != float64(101) {
		t.Errorf("created customer: phone %v, email %v, shop %v", f["phone"], f["email"], f["shopId"])
	}
	// The same person under another key is the same customer too; a
	// different one is created.
	in.IdempotencyKey = "call-43"
	again, err := d.CreateRecord(allowed(t), srv.Connection(), in)
	if err != nil || again.ExternalID != r.ExternalID {
		t.Errorf("same person, other key: %+v, %v; want %s", again, err, r.ExternalID)
	}
	in.Fields["firstName"] = "Augusta"
	other, err := d.CreateRecord(allowed(t), srv.Connection(), in)
	if err != nil || other.ExternalID == r.ExternalID {
		t.Errorf("another person: %+v, %v; want a new customer", other, err)
	}
	// Without a key there is no search: a plain create.
	in.IdempotencyKey = ""
	before := len(requests(srv, "GET", "/api/v1/customers"))
	if _, err := d.CreateRecord(allowed(t), srv.Connection(), in); err != nil {
		t.Fatal(err)
	}
	if n := len(requests(srv, "GET", "/api/v1/customers")) - before; n != 0 {
		t.Errorf("a create without a key searched %d times", n)
	}
}

// TestWriteRefusesUnknownFields: Tekmetric ignores fields it does not know,
// so the driver refuses them before any request.
func TestWriteRefusesUnknownFields(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := newDriver()
	cases := []struct {
		name   string
		object string
		fields map[string]any
		field  string
	}{
		{"unknown customer field", "customers", map[string]any{"firstName": "Ada", "nickname": "A"}, "fields.nickname"},
		{"no first name", "customers", map[string]any{"lastName": "Lovelace"}, "fields.firstName"},
		{"blank first name", "customers", map[string]any{"firstName": "  "}, "fields.firstName"},
		{"bad phone", "customers", map[string]any{"firstName": "Ada", "phone": "call me"}, "fields.phone"},
		{"bad customer type", "customers", map[string]any{"firstName": "Ada", "customerTypeId": 3.0}, "fields.customerTypeId"},
		{"address field Tekmetric lacks", "customers", map[string]any{"firstName": "Ada", "address": map[string]any{"country": "US"}}, "fields.address.country"},
		{"appointment without end", "appointments", map[string]any{"title": "Oil", "startTime": "2026-05-20T16:00:00Z"}, "fields.endTime"},
		{"appointment color", "appointments", map[string]any{"title": "Oil", "startTime": "2026-05-20T16:00:00Z",
			"endTime": "2026-05-20T17:00:00Z", "color": "teal"}, "fields.color"},
		{"appointment ends first", "appointments", map[string]any{"title": "Oil", "startTime": "2026-05-20T16:00:00Z",
			"endTime": "2026-05-20T15:00:00Z"}, "fields.endTime"},
		{"appointment shop", "appointments", map[string]any{"shopId": 202.0}, "fields.shopId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.CreateRecord(allowed(t), srv.Connection(), sdk.CreateInput{Object: tc.object, Fields: tc.fields})
			wantCode(t, err, sdk.CodeInvalid, tc.field)
		})
	}
	for _, r := range srv.Requests() {
		if r.Method != "GET" {
			t.Errorf("a refused write still sent %s %s", r.Method, r.Path)
		}
	}
}

// TestUpdateCustomer: a phone change replaces the primary number and keeps
// its id and the other phones; an address change keeps the address
// fields it does not name; nothing else is sent.
func TestUpdateCustomer(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	id := srv.Seed(t, conn, "customers", map[string]any{"firstName": "Ada", "lastName": "Lovelace",
		"phones": []any{"415-555-0123", "212-555-0199"}})
	d := newDriver()
	if _, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "customers", ExternalID: id,
		Fields: map[string]any{"address": map[string]any{"address1": "12 St James's Square", "city": "London", "zip": "SW1Y 4JH"}}}); err != nil {
		t.Fatal(err)
	}
	before := customerOf(t, srv, id)
	phones := before["phones"].([]any)
	_, err := d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "customers", ExternalID: id,
		Fields: map[string]any{"phone": "+1 (650) 555-0142", "address": map[string]any{"city": "Marylebone"}}})
	if err != nil {
		t.Fatal(err)
	}
	patches := requests(srv, "PATCH", "/api/v1/customers/"+id)
	var body map[string]any
	if err := json.Unmarshal([]byte(patches[len(patches)-1].Body), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"phones": []any{
			map[string]any{"id": phones[0].(map[string]any)["id"], "number": "650-555-0142", "type": "Mobile", "primary": true},
			map[string]any{"id": phones[1].(map[string]any)["id"], "number": "212-555-0199", "type": "Mobile", "primary": false},
		},
		"address": map[string]any{"address1": "12 St James's Square", "address2": nil, "city": "Marylebone", "state": nil, "zip": "SW1Y 4JH"},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("PATCH body (-want +got):\n%s", diff)
	}
	after := customerOf(t, srv, id)
	if after["phone"] != "650-555-0142" || after["firstName"] != "Ada" {
		t.Errorf("after update: phone %v, first name %v", after["phone"], after["firstName"])
	}
	_, err = d.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "customers", ExternalID: "999999", Fields: map[string]any{"notes": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
}

// TestRepairOrders: search by RO number or customer name, the few fields
// Tekmetric lets a partner change, and the verbs it lacks answered with
// its limitation.
func TestRepairOrders(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	cust := srv.Seed(t, conn, "customers", map[string]any{"firstName": "Ada", "lastName": "Lovelace"})
	custID, _ := strconv.ParseFloat(cust, 64)
	ro := srv.Seed(t, conn, "repair_orders", map[string]any{"repairOrderNumber": 4711, "customerId": custID,
		"vehicle": "2006 Ford Escape", "laborSales": 13000, "partsSales": 25997})
	srv.Seed(t, srv.OtherConnection(), "repair_orders", map[string]any{"repairOrderNumber": 4711, "vehicle": "2010 Honda Fit"})
	cl := served(t, newDriver())
	for _, q := range []string{"4711", "lovelace", "escape"} {
		rs, err := cl.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "repair_orders", Query: q, Limit: 10})
		if err != nil || len(rs) != 1 || rs[0].ExternalID != ro {
			t.Fatalf("search %q: %d records, %v; want repair order %s of shop A only", q, len(rs), err, ro)
		}
		if rs[0].Fields["totalSales"] != float64(38997) {
			t.Errorf("totalSales = %v, want 38997 (cents)", rs[0].Fields["totalSales"])
		}
	}
	_, err := cl.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "repair_orders", ExternalID: ro,
		Fields: map[string]any{"keyTag": "K-12", "milesIn": 81234.0, "customerTimeOut": "2026-03-02T17:00:00-05:00"}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := cl.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "repair_orders", Query: "4711", Limit: 1})
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	f := rs[0].Fields
	if f["keyTag"] != "K-12" || f["keytag"] != "K-12" || f["milesIn"] != float64(81234) || f["customerTimeOut"] != "2026-03-02T22:00:00Z" {
		t.Errorf("after update: keyTag %v (keytag %v), milesIn %v, customerTimeOut %v", f["keyTag"], f["keytag"], f["milesIn"], f["customerTimeOut"])
	}
	_, err = cl.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "repair_orders", ExternalID: ro, Fields: map[string]any{"repairOrderStatus": 5.0}})
	wantCode(t, err, sdk.CodeInvalid, "fields.repairOrderStatus")

	for verb, call := range map[string]func() error{
		"create": func() error {
			_, err := cl.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "repair_orders", Fields: map[string]any{"keyTag": "x"}})
			return err
		},
		"delete": func() error {
			_, err := cl.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "repair_orders", ExternalID: ro})
			return err
		},
	} {
		err := call()
		if c := sdk.CodeOf(err); c != sdk.CodeUnsupported && c != sdk.CodeDeleteUnsupported || !strings.Contains(err.Error(), "Tekmetric's API cannot") {
			t.Errorf("%s: %v; want unsupported naming Tekmetric's limitation", verb, err)
		}
	}
}

// TestAppointments: create (idempotent with a key), partial update, soft
// delete, and the tombstone ListRecent reports for it.
func TestAppointments(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	cust := srv.Seed(t, conn, "customers", map[string]any{"firstName": "Ada"})
	custID, _ := strconv.ParseFloat(cust, 64)
	cl := served(t, newDriver())
	start := time.Now().UTC().Truncate(time.Second)
	in := sdk.CreateInput{Object: "appointments", IdempotencyKey: "book-1", Fields: map[string]any{
		"title": "Brake inspection", "customerId": custID, "color": "Light Green",
		"startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).In(time.FixedZone("CST", -6*3600)).Format(time.RFC3339)}}
	first, err := cl.CreateRecord(allowed(t), conn, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := cl.CreateRecord(allowed(t), conn, in)
	if err != nil || second.ExternalID != first.ExternalID {
		t.Fatalf("same key twice: %q then %+v, %v", first.ExternalID, second, err)
	}
	if _, err := cl.UpdateRecord(allowed(t), conn, sdk.UpdateInput{Object: "appointments", ExternalID: first.ExternalID,
		Fields: map[string]any{"description": "squeaks when braking"}}); err != nil {
		t.Fatal(err)
	}
	lr, err := cl.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "appointments", Limit: 10})
	if err != nil || len(lr.Records) != 1 {
		t.Fatalf("list: %+v, %v", lr, err)
	}
	f := lr.Records[0].Fields
	if f["title"] != "Brake inspection" || f["description"] != "squeaks when braking" || f["startTime"] != start.Format(time.RFC3339) || f["endTime"] != start.Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("appointment fields: %v", f)
	}
	// The deletion must fall in a later millisecond (the fake's, and
	// Tekmetric's, timestamp resolution) than the update the cursor points
	// at: a change within the cursor's own tick and id is not "after" it.
	time.Sleep(2 * time.Millisecond)
	d, err := cl.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "appointments", ExternalID: first.ExternalID})
	if err != nil || !d.Deleted || d.HardDeleted {
		t.Fatalf("delete: %+v, %v; want deleted, not hard deleted", d, err)
	}
	_, err = cl.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "appointments", ExternalID: first.ExternalID})
	wantCode(t, err, sdk.CodeNotFound, "")
	next, err := cl.ListRecent(allowed(t), conn, sdk.ListQuery{Object: "appointments", Cursor: lr.NextCursor, Limit: 10})
	if err != nil || len(next.Records) != 0 || len(next.Tombstones) != 1 || next.Tombstones[0].ExternalID != first.ExternalID {
		t.Fatalf("after delete: %+v, %v; want one tombstone", next, err)
	}
	_, err = cl.EraseRecord(allowed(t), conn, sdk.RecordRef{Object: "appointments", ExternalID: first.ExternalID})
	if sdk.CodeOf(err) != sdk.CodeDeleteUnsupported || !strings.Contains(err.Error(), "soft-deletes") {
		t.Errorf("erase: %v; want delete_unsupported naming the soft delete", err)
	}
	_, err = cl.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "appointments", Query: "brake"})
	if sdk.CodeOf(err) != sdk.CodeUnsupported {
		t.Errorf("search appointments: %v; want unsupported", err)
	}
}

// TestDirectCallsRefuseUnsupportedVerbs: called directly (without the
// sdk's checks), the driver refuses what Tekmetric cannot do, with the same
// words, and sends nothing.
func TestDirectCallsRefuseUnsupportedVerbs(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := newDriver()
	conn := srv.Connection()
	calls := map[string]func() error{
		"search appointments": func() error {
			_, err := d.SearchRecords(allowed(t), conn, sdk.SearchQuery{Object: "appointments", Query: "x"})
			return err
		},
		"create a repair order": func() error {
			_, err := d.CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "repair_orders", Fields: map[string]any{"keyTag": "x"}})
			return err
		},
		"delete a customer": func() error {
			_, err := d.DeleteRecord(allowed(t), conn, sdk.RecordRef{Object: "customers", ExternalID: "1"})
			return err
		},
		"look up a repair order": func() error {
			_, err := d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: "1", Objects: []string{"repair_orders"}})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if c := sdk.CodeOf(err); (c != sdk.CodeUnsupported && c != sdk.CodeDeleteUnsupported) || !strings.Contains(err.Error(), "Tekmetric") {
			t.Errorf("%s: %v; want unsupported naming Tekmetric's limitation", name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("refused calls sent %d requests", n)
	}
}

// TestCreateByNameOnly: a keyed create that names no email or phone takes
// a same-named customer for a retry only when it was created in the last
// 24 hours; an older namesake is another person.
func TestCreateByNameOnly(t *testing.T) {
	clk := newClock()
	srv := fake.New(t, fake.Options{Now: clk.Now})
	conn := srv.Connection()
	old := srv.Seed(t, conn, "customers", map[string]any{"firstName": "John", "lastName": "Smith"})
	clk.Advance(48 * time.Hour)
	d := tekmetric.NewWith(tekmetric.Options{Now: clk.Now})
	in := sdk.CreateInput{Object: "customers", IdempotencyKey: "k-1", Fields: map[string]any{"firstName": "John", "lastName": "Smith"}}
	first, err := d.CreateRecord(allowed(t), conn, in)
	if err != nil || first.ExternalID == old {
		t.Fatalf("create: %+v, %v; want a new customer, not the namesake of two days ago", first, err)
	}
	clk.Advance(time.Hour)
	again, err := d.CreateRecord(allowed(t), conn, in)
	if err != nil || again.ExternalID != first.ExternalID {
		t.Errorf("retry an hour later: %+v, %v; want %s", again, err, first.ExternalID)
	}
}
