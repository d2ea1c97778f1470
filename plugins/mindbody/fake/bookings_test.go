package fake_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/mindbody/fake"
)

func TestAppointments(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a := as(t, s, fake.SiteA)
	client := s.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	book := map[string]any{"ClientId": client, "LocationId": 1, "SessionTypeId": 11, "StaffId": 100000001,
		"StartDateTime": "2026-03-03T10:00:00", "PartnerExternalId": "key-1"}
	r := a.do("POST", "/appointment/addappointment", book)
	want(t, r, http.StatusOK, "")
	appt, _ := r.Body["Appointment"].(map[string]any)
	if appt["Status"] != "Booked" || appt["EndDateTime"] != "2026-03-03T11:00:00" || appt["PartnerExternalId"] != "key-1" {
		t.Fatalf("addappointment answered %s", r.Raw)
	}
	// Request deduplication: the identical request answers the same
	// appointment, unless skipped.
	r = a.do("POST", "/appointment/addappointment", book)
	if r.Body["Appointment"].(map[string]any)["Id"] != appt["Id"] || len(s.Appointments(fake.SiteA)) != 1 {
		t.Fatalf("identical request booked again: %s", r.Raw)
	}
	// Validation.
	bad := map[string]any{"ClientId": client, "LocationId": 9, "SessionTypeId": 11, "StaffId": 100000001, "StartDateTime": "2026-03-03T10:00:00"}
	want(t, a.do("POST", "/appointment/addappointment", bad), http.StatusBadRequest, "InvalidParameter")
	bad["LocationId"], bad["ClientId"] = 1, "999"
	want(t, a.do("POST", "/appointment/addappointment", bad), http.StatusBadRequest, "ClientNotFound")

	// Update: move and cancel.
	id := appt["Id"]
	r = a.do("POST", "/appointment/updateappointment", map[string]any{"AppointmentId": id, "StartDateTime": "2026-03-03T14:00:00", "Execute": "cancel"})
	want(t, r, http.StatusOK, "")
	got := r.Body["Appointment"].(map[string]any)
	if got["Status"] != "Cancelled" || got["StartDateTime"] != "2026-03-03T14:00:00" || got["EndDateTime"] != "2026-03-03T15:00:00" {
		t.Errorf("after update %s", r.Raw)
	}
	want(t, a.do("POST", "/appointment/updateappointment", map[string]any{"AppointmentId": 1, "Notes": "x"}), http.StatusBadRequest, "AppointmentNotFound")
	want(t, a.do("POST", "/appointment/updateappointment", map[string]any{"AppointmentId": id, "Execute": "teleport"}), http.StatusBadRequest, "InvalidParameter")

	// staffappointments by client and local dates.
	if got := ids(list(a.do("GET", "/appointment/staffappointments?request.clientId="+client+"&request.startDate=2026-03-03&request.endDate=2026-03-03", nil), "Appointments")); len(got) != 1 {
		t.Errorf("appointments that day = %v", got)
	}
	if got := list(a.do("GET", "/appointment/staffappointments?request.clientId="+client+"&request.startDate=2026-03-04", nil), "Appointments"); len(got) != 0 {
		t.Errorf("appointments the next day = %v", got)
	}
}

func TestClassBookings(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a := as(t, s, fake.SiteA)
	client := s.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	r := a.do("POST", "/class/addclienttoclass", map[string]any{"ClientId": client, "ClassId": 1000})
	want(t, r, http.StatusOK, "")
	visit := r.Body["Visit"].(map[string]any)
	if visit["ClassId"] != 1000.0 || visit["ClientId"] != client || visit["Action"] != "Added" {
		t.Fatalf("addclienttoclass answered %s", r.Raw)
	}
	want(t, a.do("POST", "/class/addclienttoclass", map[string]any{"ClientId": client, "ClassId": 1000}), http.StatusBadRequest, "ClientAlreadyBooked")
	want(t, a.do("POST", "/class/addclienttoclass", map[string]any{"ClientId": client, "ClassId": 42}), http.StatusBadRequest, "InvalidClassId")
	r = a.do("GET", "/class/classvisits?request.classID=1000", nil)
	visits, _ := r.Body["Class"].(map[string]any)["Visits"].([]any)
	if len(visits) != 1 {
		t.Errorf("roster: %s", r.Raw)
	}
	if got := list(a.do("GET", "/client/clientvisits?request.clientId="+client+"&request.startDate=2026-03-01&request.endDate=2026-03-09", nil), "Visits"); len(got) != 1 {
		t.Errorf("client visits: %v", got)
	}
	// Late cancel keeps the visit; a plain cancel removes it.
	want(t, a.do("POST", "/class/removeclientfromclass", map[string]any{"ClassId": 1000, "VisitId": visit["Id"], "LateCancel": true}), http.StatusOK, "")
	if got := s.ClassRoster(fake.SiteA, 1000); !cmp.Equal(got, []string{client + "!"}) {
		t.Errorf("roster after late cancel %v", got)
	}
	want(t, a.do("POST", "/class/removeclientfromclass", map[string]any{"ClassId": 1000, "VisitId": visit["Id"]}), http.StatusBadRequest, "VisitNotFound")
	want(t, a.do("POST", "/class/addclienttoclass", map[string]any{"ClientId": client, "ClassId": 1001}), http.StatusOK, "")
	want(t, a.do("POST", "/class/removeclientfromclass", map[string]any{"ClassId": 1001, "ClientId": client}), http.StatusOK, "")
	if got := s.ClassRoster(fake.SiteA, 1001); len(got) != 0 {
		t.Errorf("roster after cancel %v", got)
	}
}

func TestContactLogs(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	a := as(t, s, fake.SiteA)
	client := s.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	r := a.do("POST", "/client/addcontactlog", map[string]any{"ClientId": client, "ContactMethod": "Phone", "Text": "Asked about a facial", "Comments": []string{"call back"}})
	want(t, r, http.StatusOK, "")
	id := r.Body["Id"]
	if r.Body["Text"] != "Asked about a facial" || r.Body["Client"].(map[string]any)["Id"] != client || len(r.Body["Comments"].([]any)) != 1 {
		t.Fatalf("addcontactlog answered %s", r.Raw)
	}
	want(t, a.do("POST", "/client/addcontactlog", map[string]any{"ClientId": "999", "ContactMethod": "Phone"}), http.StatusBadRequest, "ClientNotFound")
	r = a.do("POST", "/client/updatecontactlog", map[string]any{"Id": id, "Text": "Booked a facial", "Comments": []map[string]any{{"Id": 0, "Text": "done"}}})
	want(t, r, http.StatusOK, "")
	if r.Body["Text"] != "Booked a facial" || r.Body["ContactMethod"] != "Phone" || len(r.Body["Comments"].([]any)) != 2 {
		t.Errorf("after update %s", r.Raw)
	}
	want(t, a.do("POST", "/client/updatecontactlog", map[string]any{"Id": 1, "Text": "x"}), http.StatusBadRequest, "ContactLogNotFound")
	// The default window is today only.
	if got := list(a.do("GET", "/client/contactlogs?request.clientId="+client, nil), "ContactLogs"); len(got) != 1 {
		t.Errorf("today's logs %v", got)
	}
	if got := list(a.do("GET", "/client/contactlogs?request.clientId="+client+"&request.startDate=2026-03-02", nil), "ContactLogs"); len(got) != 0 {
		t.Errorf("tomorrow's logs %v", got)
	}
	// Delete by client and log id; 200 with no body.
	logID := strconv.FormatFloat(id.(float64), 'f', -1, 64)
	other := s.PutClient(fake.SiteA, map[string]any{"FirstName": "Grace", "LastName": "Hopper"})
	want(t, a.do("DELETE", "/client/deletecontactlog?request.clientId="+other+"&request.contactLogId="+logID, nil), http.StatusBadRequest, "ContactLogNotFound")
	r = a.do("DELETE", "/client/deletecontactlog?request.clientId="+client+"&request.contactLogId="+logID, nil)
	if r.Code != http.StatusOK || r.Raw != "" || len(s.ContactLogs(fake.SiteA)) != 0 {
		t.Errorf("delete: %d %q, %d logs left", r.Code, r.Raw, len(s.ContactLogs(fake.SiteA)))
	}
	want(t, a.do("DELETE", "/client/deletecontactlog?request.clientId="+client+"&request.contactLogId="+logID, nil), http.StatusBadRequest, "ContactLogNotFound")
}
