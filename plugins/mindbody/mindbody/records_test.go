package mindbody_test

import (
	"strings"
	"testing"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// TestCreateAdoptsDuplicate: Mindbody refuses a second client with the
// same first name, last name and email; a create answers the existing
// client, with the fields that differ written onto it.
func TestCreateAdoptsDuplicate(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	old := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "City": "London"})
	id := e.create(conn, map[string]any{"FirstName": "ADA", "LastName": "Lovelace", "Email": "Ada@Example.com", "MobilePhone": "(415) 555-0100", "City": "London"})
	if id != old {
		t.Fatalf("create answered %s, want the existing %s", id, old)
	}
	cs := e.srv.Clients(fake.SiteA)
	if len(cs) != 1 || cs[0].Props["MobilePhone"] != "+14155550100" || cs[0].Props["FirstName"] != "ADA" {
		t.Errorf("clients after adoption: %+v", cs)
	}
	// Nothing differs now: no update is sent.
	from := len(e.srv.Requests())
	e.create(conn, map[string]any{"FirstName": "ADA", "LastName": "Lovelace", "Email": "ada@example.com", "MobilePhone": "+1 415 555 0100"})
	if n := len(requests(e.srv, from, "/client/updateclient")); n != 0 {
		t.Errorf("%d updates for an identical create", n)
	}
	// A deactivated duplicate is reactivated.
	e.srv.UpdateClient(fake.SiteA, old, map[string]any{"Active": false})
	if id := e.create(conn, map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}); id != old {
		t.Errorf("create over an inactive duplicate answered %s", id)
	}
	if cs := e.srv.Clients(fake.SiteA); cs[0].Props["Active"] != true {
		t.Errorf("the duplicate was not reactivated: %v", cs[0].Props["Active"])
	}
}

// TestCreateWithoutEmail: without an email, a client with the same name
// and phone is the same client; another name is another client.
func TestCreateWithoutEmail(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	first := e.create(conn, map[string]any{"FirstName": "Grace", "LastName": "Hopper", "MobilePhone": "415 555 0101"})
	if again := e.create(conn, map[string]any{"FirstName": "grace", "LastName": "HOPPER", "MobilePhone": "(415) 555-0101"}); again != first {
		t.Errorf("same name and phone: %s then %s", first, again)
	}
	if other := e.create(conn, map[string]any{"FirstName": "Grace", "LastName": "Kelly", "MobilePhone": "(415) 555-0101"}); other == first {
		t.Error("another name with the same phone answered the first client")
	}
	if n := len(e.srv.Clients(fake.SiteA)); n != 2 {
		t.Errorf("%d clients, want 2", n)
	}
}

// TestCreateLostResponse: addclient is applied but its answer lost; the
// retry finds the client through clientduplicates.
func TestCreateLostResponse(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	fields := map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}
	e.srv.InjectOn("/client/addclient", drivertest.Fault{Kind: drivertest.LoseResponse})
	_, err := e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "clients", Fields: fields, IdempotencyKey: "k1"})
	wantCode(t, err, sdk.CodeUnavailable, "")
	id := ok[sdk.CreateResult](t)(e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "clients", Fields: fields, IdempotencyKey: "k1"})).ExternalID
	if cs := e.srv.Clients(fake.SiteA); len(cs) != 1 || cs[0].ID != id {
		t.Errorf("clients after a lost response and a retry: %+v (answered %s)", cs, id)
	}
}

// TestCreateRace: when the duplicate appears between clientduplicates and
// addclient, Mindbody refuses the add and the driver adopts the client.
func TestCreateRace(t *testing.T) {
	e := setup(t, fake.Options{})
	var other string
	e.srv.OnRequest(func(r fake.Request) {
		if r.Path == "/client/addclient" && other == "" {
			other = e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"})
		}
	})
	id := e.create(e.srv.Connection(), map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"})
	if id != other || len(e.srv.Clients(fake.SiteA)) != 1 {
		t.Errorf("answered %s, want the racing client %s; %d clients", id, other, len(e.srv.Clients(fake.SiteA)))
	}
}

func TestWriteValidation(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	e.srv.SetRequiredFields(fake.SiteA, "Email")
	for _, tc := range []struct {
		name   string
		fields map[string]any
		field  string
	}{
		{"unknown field", map[string]any{"FirstName": "A", "LastName": "B", "Nickname": "x"}, "fields.Nickname"},
		{"read-only field", map[string]any{"FirstName": "A", "LastName": "B", "UniqueId": 5}, "fields.UniqueId"},
		{"no last name", map[string]any{"FirstName": "A"}, "fields.LastName"},
		{"bad phone", map[string]any{"FirstName": "A", "LastName": "B", "MobilePhone": "call me"}, "fields.MobilePhone"},
		{"Active is not a boolean", map[string]any{"FirstName": "A", "LastName": "B", "Active": "sometimes"}, "fields.Active"},
		{"a field the business requires", map[string]any{"FirstName": "A", "LastName": "B", "MobilePhone": "4155550100"}, "fields.Email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "clients", Fields: tc.fields})
			wantCode(t, err, sdk.CodeInvalid, tc.field)
		})
	}
	// Update: partial, not found, duplicate.
	a := e.create(conn, map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"})
	b := e.create(conn, map[string]any{"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com"})
	ok[sdk.UpdateResult](t)(e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "clients", ExternalID: a, Fields: map[string]any{"WorkPhone": "415 555 0111"}}))
	for _, c := range e.srv.Clients(fake.SiteA) {
		if c.ID == a && (c.Props["WorkPhone"] != "+14155550111" || c.Props["Email"] != "ada@example.com") {
			t.Errorf("after partial update: %v", c.Props)
		}
	}
	_, err := e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "clients", ExternalID: "987654321987", Fields: map[string]any{"City": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
	_, err = e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "clients", ExternalID: b,
		Fields: map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}})
	wantCode(t, err, sdk.CodeConflict, "")
}

// TestDeleteUnsupported: Mindbody's API deletes no client, appointment or
// class booking, and erases nothing; the answer names Mindbody's way
// instead, and nothing reaches Mindbody.
func TestDeleteUnsupported(t *testing.T) {
	e := setup(t, fake.Options{})
	for object, says := range map[string]string{
		"clients": "Active", "appointments": "Cancelled", "class_bookings": "Cancelled",
	} {
		_, err := e.cl.DeleteRecord(ctx(t), e.srv.Connection(), sdk.RecordRef{Object: object, ExternalID: "1"})
		if msg := wantCode(t, err, sdk.CodeDeleteUnsupported, "").Message; !strings.Contains(msg, says) {
			t.Errorf("delete %s: %q does not say %q", object, msg, says)
		}
	}
	for _, object := range []string{"clients", "appointments", "class_bookings", "contact_logs"} {
		_, err := e.cl.EraseRecord(ctx(t), e.srv.Connection(), sdk.RecordRef{Object: object, ExternalID: "1:1"})
		wantCode(t, err, sdk.CodeDeleteUnsupported, "")
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("%d requests reached Mindbody for unsupported verbs", n)
	}
}
