package athena_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// appointment returns the fake's appointment id of PracticeA.
func appointment(srv *fake.Server, id string) map[string]any {
	for _, a := range srv.Appointments(fake.PracticeA) {
		if a["appointmentid"] == id {
			return a
		}
	}
	return nil
}

// TestBooking: open slots are found by date; booking one is idempotent (a
// retry after a lost answer finds its own booking), a slot another patient
// holds is a conflict; bookings are searched by patient and listed as
// changed; cancelling and rescheduling go through athenaOne's calls.
func TestBooking(t *testing.T) {
	clk := newClock()
	srv, d := setup(t, clk, fake.Options{Slots: 6, TokenLifetime: 48 * time.Hour})
	conn := srv.Connection()
	ctx := allowed(t)
	ada, bob := create(t, d, conn, grace(1)), create(t, d, conn, grace(2))

	slots, err := d.SearchRecords(ctx, conn, sdk.SearchQuery{Object: "openappointments", Query: "03/03/2026"})
	if err != nil || len(slots) != 6 {
		t.Fatalf("open slots on 03/03/2026: %d, %v; want 6", len(slots), err)
	}
	if s := slots[0]; s.ExternalID == "" || s.Fields["starttime"] != "09:00" || s.Fields["date"] != "03/03/2026" {
		t.Errorf("first slot %+v", s)
	}
	slot := func(i int) string { return slots[i].ExternalID }
	book := func(slotID, patient string) (sdk.CreateResult, error) {
		return d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "appointments", Fields: map[string]any{
			"appointmentid": slotID, "patientid": patient, "reasonid": -1, "bookingnote": "annual checkup"}})
	}
	srv.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	if _, err := book(slot(0), ada); err == nil {
		t.Fatal("a booking whose answer was lost succeeded")
	}
	r, err := book(slot(0), ada)
	if err != nil || r.ExternalID != slot(0) {
		t.Fatalf("retried booking = %+v, %v; want slot %s", r, err, slot(0))
	}
	if a := appointment(srv, slot(0)); a["appointmentstatus"] != "f" || a["patientid"] != ada {
		t.Errorf("booked slot %v", a)
	}
	_, err = book(slot(0), bob)
	wantCode(t, err, sdk.CodeConflict, "")
	_, err = d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "appointments", Fields: map[string]any{"appointmentid": slot(1), "patientid": ada}})
	wantCode(t, err, sdk.CodeInvalid, "fields.reasonid")
	_, err = book("999999", ada)
	wantCode(t, err, sdk.CodeInvalid, "fields.appointmentid")

	clk.Advance(time.Second)
	bookings, err := d.SearchRecords(ctx, conn, sdk.SearchQuery{Object: "appointments", Query: ada})
	if err != nil || len(bookings) != 1 || bookings[0].ExternalID != slot(0) || bookings[0].UpdatedAt.IsZero() {
		t.Fatalf("bookings of %s: %+v, %v", ada, bookings, err)
	}
	changed, err := d.ListRecent(ctx, conn, sdk.ListQuery{Object: "appointments"})
	if err != nil || len(changed.Records) != 1 || changed.Records[0].ExternalID != slot(0) {
		t.Fatalf("changed appointments: %+v, %v", changed, err)
	}

	clk.Advance(time.Second)
	up, err := d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "appointments", ExternalID: slot(0), Fields: map[string]any{"newappointmentid": slot(2), "reschedulereason": "conflict"}})
	if err != nil || !strings.HasSuffix(up.RecordURL, "/appointments/"+slot(2)) {
		t.Fatalf("reschedule: %+v, %v", up, err)
	}
	if old, next := appointment(srv, slot(0)), appointment(srv, slot(2)); old["appointmentstatus"] != "x" || next["appointmentstatus"] != "f" || next["patientid"] != ada {
		t.Errorf("after rescheduling: old %v, new %v", old, next)
	}
	clk.Advance(time.Second)
	for range 2 { // cancelling a cancelled appointment changes nothing
		if _, err := d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "appointments", ExternalID: slot(2), Fields: map[string]any{"appointmentstatus": "X", "cancellationreason": "better"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(requests(srv, http.MethodPut, "/appointments/"+slot(2)+"/cancel")); n != 1 {
		t.Errorf("%d cancel requests, want 1", n)
	}
	if a := appointment(srv, slot(2)); a["appointmentstatus"] != "x" {
		t.Errorf("cancelled slot %v", a)
	}
	changed, err = d.ListRecent(ctx, conn, sdk.ListQuery{Object: "appointments", Cursor: changed.NextCursor})
	if err != nil || len(changed.Records) != 2 {
		t.Errorf("changes since the first list: %+v, %v; want the two rescheduled slots", changed.Records, err)
	}

	for _, tc := range []struct {
		name   string
		id     string
		fields map[string]any
		code   sdk.Code
		field  string
	}{
		{"another status", slot(3), map[string]any{"appointmentstatus": "f"}, sdk.CodeInvalid, "fields.appointmentstatus"},
		{"nothing to do", slot(3), map[string]any{"ignoreschedulablepermission": true}, sdk.CodeInvalid, "fields.appointmentstatus"},
		{"a field only a booking takes", slot(3), map[string]any{"bookingnote": "x"}, sdk.CodeInvalid, "fields.bookingnote"},
		{"cancel and reschedule at once", slot(3), map[string]any{"appointmentstatus": "x", "newappointmentid": slot(4)}, sdk.CodeInvalid, "fields.newappointmentid"},
		{"an open slot", slot(3), map[string]any{"appointmentstatus": "x"}, sdk.CodeNotFound, ""},
		{"no such appointment", "999999", map[string]any{"appointmentstatus": "x"}, sdk.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "appointments", ExternalID: tc.id, Fields: tc.fields})
			wantCode(t, err, tc.code, tc.field)
		})
	}
	_, err = d.SearchRecords(ctx, conn, sdk.SearchQuery{Object: "appointments", Query: "next tuesday"})
	wantCode(t, err, sdk.CodeInvalid, "query")
}

// TestPatientCases: a conversation becomes a patient case with the
// connection's source and subclass; an idempotency key makes a retry find
// the case it wrote; without a subclass the driver says where to set one.
func TestPatientCases(t *testing.T) {
	srv, d := setup(t, nil, fake.Options{})
	conn := srv.Connection()
	ctx := allowed(t)
	pid := create(t, d, conn, grace(1))
	in := sdk.CreateInput{Object: "patientcases", IdempotencyKey: "call-42", Fields: map[string]any{
		"patientid": pid, "subject": "Called about a refill", "internalnote": "Caller asked for a refill.", "callbacknumber": "(617) 555-0001"}}
	first, err := d.CreateRecord(ctx, conn, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.CreateRecord(ctx, conn, in)
	if err != nil || second.ExternalID != first.ExternalID {
		t.Fatalf("the same key twice: %+v then %+v, %v", first, second, err)
	}
	cases := srv.Cases(fake.PracticeA)
	if len(cases) != 1 {
		t.Fatalf("cases %v, want one", cases)
	}
	c := cases[0]
	if c["documentsource"] != "PATIENT" || c["documentsubclass"] != "PATIENTCASE_CALLBACK" || c["departmentid"] != fake.Department ||
		c["internalnote"] != "Caller asked for a refill. [crmhost ref call-42]" || c["callbacknumber"] != "6175550001" {
		t.Errorf("stored case %v", c)
	}
	found, err := d.SearchRecords(ctx, conn, sdk.SearchQuery{Object: "patientcases", Query: pid})
	if err != nil || len(found) != 1 || found[0].ExternalID != first.ExternalID || !strings.Contains(found[0].RecordURL, "/patients/"+pid+"/documents/patientcase/") {
		t.Errorf("cases of %s: %+v, %v", pid, found, err)
	}
	bare := srv.Connection()
	delete(bare.Config, "patientcase_subclass")
	before := len(srv.Requests())
	_, err = d.CreateRecord(ctx, bare, sdk.CreateInput{Object: "patientcases", Fields: map[string]any{"patientid": pid, "internalnote": "x"}})
	if e := wantCode(t, err, sdk.CodeInvalid, "fields.documentsubclass"); !strings.Contains(e.Message, "patientcase_subclass") {
		t.Errorf("message %q does not say where to set the subclass", e.Message)
	}
	if len(srv.Requests()) != before {
		t.Error("the driver called athenaOne without a subclass")
	}
	_, err = d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "patientcases", Fields: map[string]any{"patientid": "999999", "internalnote": "x"}})
	wantCode(t, err, sdk.CodeNotFound, "")
}
