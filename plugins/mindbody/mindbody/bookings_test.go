package mindbody_test

import (
	"strings"
	"testing"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

func TestAppointments(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	client := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	book := map[string]any{"ClientId": client, "LocationId": 1, "SessionTypeId": "11", "StaffId": 100000001, "StartDateTime": "2026-03-03T10:00:00"}

	// The idempotency key goes into PartnerExternalId: a retry after a lost
	// answer finds the booking.
	e.srv.InjectOn("/appointment/addappointment", drivertest.Fault{Kind: drivertest.LoseResponse})
	_, err := e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "appointments", Fields: book, IdempotencyKey: "call-42"})
	wantCode(t, err, sdk.CodeUnavailable, "")
	id := ok[sdk.CreateResult](t)(e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "appointments", Fields: book, IdempotencyKey: "call-42"})).ExternalID
	appts := e.srv.Appointments(fake.SiteA)
	if len(appts) != 1 || appts[0]["PartnerExternalId"] != "call-42" || id == "" {
		t.Fatalf("appointments %v, answered %s", appts, id)
	}
	// Without a key, the same slot with the same staff and session type is
	// the same booking.
	if again := ok[sdk.CreateResult](t)(e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "appointments", Fields: book})).ExternalID; again != id {
		t.Errorf("same slot without a key: %s, want %s", again, id)
	}

	// Reschedule, then cancel through Status.
	ok[sdk.UpdateResult](t)(e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "appointments", ExternalID: id,
		Fields: map[string]any{"StartDateTime": "2026-03-03T15:00:00", "Notes": "prefers the window seat"}}))
	ok[sdk.UpdateResult](t)(e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "appointments", ExternalID: id,
		Fields: map[string]any{"Status": "Late Cancelled"}}))
	a := e.srv.Appointments(fake.SiteA)[0]
	if a["Status"] != "LateCancelled" || a["StartDateTime"] != "2026-03-03T15:00:00" || a["Notes"] != "prefers the window seat" {
		t.Errorf("after updates: %v", a)
	}
	for name, tc := range map[string]struct {
		id     string
		fields map[string]any
		code   sdk.Code
		field  string
	}{
		"another client":   {id, map[string]any{"ClientId": "1"}, sdk.CodeInvalid, "fields.ClientId"},
		"unknown status":   {id, map[string]any{"Status": "Teleported"}, sdk.CodeInvalid, "fields.Status"},
		"not an id":        {"abc", map[string]any{"Notes": "x"}, sdk.CodeInvalid, "external_id"},
		"no such booking":  {"987654321987", map[string]any{"Notes": "x"}, sdk.CodeNotFound, ""},
		"start not a time": {id, map[string]any{"StartDateTime": 5}, sdk.CodeInvalid, "fields.StartDateTime"},
	} {
		_, err := e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "appointments", ExternalID: tc.id, Fields: tc.fields})
		t.Run(name, func(t *testing.T) { wantCode(t, err, tc.code, tc.field) })
	}
	_, err = e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "appointments", Fields: map[string]any{"ClientId": client}})
	wantCode(t, err, sdk.CodeInvalid, "fields.LocationId")

	// Search: a client's appointments.
	e.clk.Set(e.clk.Now().AddDate(0, 0, 1))
	rs := ok[[]sdk.Record](t)(e.cl.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "appointments", Query: client, Limit: 10}))
	if len(rs) != 1 || rs[0].ExternalID != id || rs[0].Fields["Status"] != "LateCancelled" {
		t.Errorf("search: %+v", rs)
	}
}

func TestClassBookings(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	client := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	in := sdk.CreateInput{Object: "class_bookings", Fields: map[string]any{"ClientId": client, "ClassId": 1000}}
	id := ok[sdk.CreateResult](t)(e.cl.CreateRecord(ctx(t), conn, in)).ExternalID
	if !strings.HasPrefix(id, "1000:") {
		t.Fatalf("booking id %q", id)
	}
	// A client is booked into a class once: a repeat answers the booking.
	if again := ok[sdk.CreateResult](t)(e.cl.CreateRecord(ctx(t), conn, in)).ExternalID; again != id {
		t.Errorf("repeat booking %s, want %s", again, id)
	}
	rs := ok[[]sdk.Record](t)(e.cl.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "class_bookings", Query: client}))
	if len(rs) != 1 || rs[0].ExternalID != id || rs[0].Fields["Status"] != "Booked" || rs[0].Fields["Name"] != "Morning Flow" {
		t.Errorf("search: %+v", rs)
	}
	_, err := e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "class_bookings", ExternalID: id, Fields: map[string]any{"ClassId": 1001}})
	wantCode(t, err, sdk.CodeInvalid, "fields.ClassId")
	_, err = e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "class_bookings", ExternalID: id, Fields: map[string]any{"Status": "Booked"}})
	wantCode(t, err, sdk.CodeInvalid, "fields.Status")
	ok[sdk.UpdateResult](t)(e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "class_bookings", ExternalID: id, Fields: map[string]any{"Status": "Cancelled"}}))
	if roster := e.srv.ClassRoster(fake.SiteA, 1000); len(roster) != 0 {
		t.Errorf("roster after cancel %v", roster)
	}
	_, err = e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "class_bookings", ExternalID: id, Fields: map[string]any{"Status": "Cancelled"}})
	wantCode(t, err, sdk.CodeNotFound, "")
	_, err = e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "class_bookings", ExternalID: "1000", Fields: map[string]any{"Status": "Cancelled"}})
	wantCode(t, err, sdk.CodeInvalid, "external_id")
	_, err = e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "class_bookings", Fields: map[string]any{"ClientId": client, "ClassId": 42}})
	wantCode(t, err, sdk.CodeNotFound, "")
	_, err = e.cl.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "class_bookings"})
	wantCode(t, err, sdk.CodeInvalid, "query")
}

// TestContactLogs: the canonical conversation object.
func TestContactLogs(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	client := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	fields := map[string]any{"ClientId": client, "ContactMethod": "Phone", "Text": "Caller asked to move Friday's facial.", "Comments": []any{"AI agent transcript"}}
	id := ok[sdk.CreateResult](t)(e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "contact_logs", Fields: fields})).ExternalID
	if again := ok[sdk.CreateResult](t)(e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "contact_logs", Fields: fields})).ExternalID; again != id {
		t.Errorf("the same log twice: %s then %s", id, again)
	}
	ok[sdk.UpdateResult](t)(e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "contact_logs", ExternalID: id,
		Fields: map[string]any{"IsComplete": true, "Comments": []any{"moved to Saturday"}}}))
	rs := ok[[]sdk.Record](t)(e.cl.SearchRecords(ctx(t), conn, sdk.SearchQuery{Object: "contact_logs", Query: client}))
	if len(rs) != 1 || rs[0].ExternalID != id || rs[0].Fields["ClientId"] != client || len(rs[0].Fields["Comments"].([]any)) != 2 || rs[0].UpdatedAt.IsZero() {
		t.Errorf("search: %+v", rs)
	}
	_, err := e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "contact_logs", ExternalID: id, Fields: map[string]any{"ClientId": "2"}})
	wantCode(t, err, sdk.CodeInvalid, "fields.ClientId")
	_, err = e.cl.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "contact_logs", ExternalID: "987654", Fields: map[string]any{"Text": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
	_, err = e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "contact_logs", Fields: map[string]any{"ClientId": client, "Text": "no method"}})
	wantCode(t, err, sdk.CodeInvalid, "fields.ContactMethod")
	_, err = e.cl.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "contact_logs", Fields: map[string]any{"ClientId": "999", "ContactMethod": "Phone"}})
	wantCode(t, err, sdk.CodeNotFound, "")

	// Contact logs are the one object Mindbody deletes (a retention purge
	// of a mirrored transcript): for good, by client and log id.
	if !strings.HasPrefix(id, client+":") {
		t.Fatalf("contact log id %q does not carry its client", id)
	}
	_, err = e.cl.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "contact_logs", ExternalID: strings.TrimPrefix(id, client+":")})
	wantCode(t, err, sdk.CodeInvalid, "external_id")
	del := ok[sdk.DeleteResult](t)(e.cl.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "contact_logs", ExternalID: id}))
	if !del.Deleted || !del.HardDeleted || len(e.srv.ContactLogs(fake.SiteA)) != 0 {
		t.Errorf("delete: %+v, %d logs left", del, len(e.srv.ContactLogs(fake.SiteA)))
	}
	_, err = e.cl.DeleteRecord(ctx(t), conn, sdk.RecordRef{Object: "contact_logs", ExternalID: id})
	wantCode(t, err, sdk.CodeNotFound, "")
}
