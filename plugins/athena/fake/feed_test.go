package fake_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// changedIDs reads a changed feed and returns the ids it lists, in order.
func changedIDs(t *testing.T, srv *fake.Server, feed, query string) []string {
	t.Helper()
	a := call(t, srv, http.MethodGet, api("/"+feed+"/changed?"+query), token(srv), nil)
	if a.status != http.StatusOK {
		t.Fatalf("%s/changed?%s: %d %s", feed, query, a.status, a.body)
	}
	idKey := map[string]string{"patients": "patientid", "appointments": "appointmentid"}[feed]
	var ids []string
	for _, r := range a.json(t).(map[string]any)[feed].([]any) {
		ids = append(ids, r.(map[string]any)[idKey].(string))
	}
	return ids
}

// TestChangedFeed: a change reaches the subscribed feed; leaveunprocessed
// reads leave it there, a plain read processes it; the processed window
// shows it again; messages older than a day are gone; an unsubscribed
// feed answers 400 until the practice subscribes.
func TestChangedFeed(t *testing.T) {
	clk := newClock()
	srv, rep := started(t, fake.Options{Now: clk.Now, TokenLifetime: 48 * time.Hour})
	tok := token(srv)
	a := createPatient(t, srv, patientForm(1))
	clk.Advance(time.Second)
	if r := call(t, srv, http.MethodPut, api("/patients/"+a), tok, url.Values{"city": {"Arlington"}}); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]string{a, a}, changedIDs(t, srv, "patients", "leaveunprocessed=true")); diff != "" {
		t.Errorf("unprocessed, left so (-want +got):\n%s", diff)
	}
	clk.Advance(time.Minute)
	if diff := cmp.Diff([]string{a, a}, changedIDs(t, srv, "patients", "")); diff != "" {
		t.Errorf("a plain read (-want +got):\n%s", diff)
	}
	if got := changedIDs(t, srv, "patients", ""); len(got) != 0 {
		t.Errorf("after a plain read, the feed still lists %v", got)
	}
	window := url.Values{"showprocessedstartdatetime": {"03/02/2026 10:00:00"}, "showprocessedenddatetime": {"03/02/2026 10:05:00"}, "leaveunprocessed": {"true"}}
	if diff := cmp.Diff([]string{a, a}, changedIDs(t, srv, "patients", window.Encode())); diff != "" {
		t.Errorf("processed in the window (-want +got):\n%s", diff)
	}
	window.Set("showprocessedstartdatetime", "03/02/2026 10:02:00")
	if got := changedIDs(t, srv, "patients", window.Encode()); len(got) != 0 {
		t.Errorf("a window after the processing lists %v", got)
	}
	clk.Advance(25 * time.Hour)
	window.Set("showprocessedstartdatetime", "03/01/2026 00:00:00")
	window.Set("showprocessedenddatetime", "03/05/2026 00:00:00")
	if got := changedIDs(t, srv, "patients", window.Encode()); len(got) != 0 {
		t.Errorf("messages older than a day are still listed: %v", got)
	}

	srv.Unsubscribe(fake.PracticeA, "appointments")
	if r := call(t, srv, http.MethodGet, api("/appointments/changed"), tok, nil); r.status != 400 || !strings.Contains(r.body, "subscription") {
		t.Errorf("an unsubscribed feed: %d %s, want 400 naming the subscription", r.status, r.body)
	}
	if r := call(t, srv, http.MethodGet, api("/appointments/changed/subscription"), tok, nil); !strings.Contains(r.body, `"INACTIVE"`) {
		t.Errorf("subscription status: %s", r.body)
	}
	if r := call(t, srv, http.MethodPost, api("/appointments/changed/subscription"), tok, url.Values{}); r.status != 200 || !strings.Contains(r.body, `"success":"true"`) {
		t.Errorf("subscribe: %d %s", r.status, r.body)
	}
	if r := call(t, srv, http.MethodGet, api("/appointments/changed/subscription"), tok, nil); !strings.Contains(r.body, `"ACTIVE"`) || !strings.Contains(r.body, "CancelAppointment") {
		t.Errorf("subscription status: %s", r.body)
	}
	if got := rep.all(); len(got) > 0 {
		t.Errorf("documented requests reported: %v", got)
	}
}

// TestAppointments: open slots of a department; booking an open slot (and
// refusing a slot that is not open), cancelling, rescheduling; the booked
// list with and without cancelled appointments; every change in the feed.
func TestAppointments(t *testing.T) {
	clk := newClock()
	srv, rep := started(t, fake.Options{Now: clk.Now, Slots: 4})
	tok := token(srv)
	pid := createPatient(t, srv, patientForm(1))
	open := call(t, srv, http.MethodGet, api("/appointments/open?departmentid=1&startdate=03/03/2026&enddate=03/03/2026"), tok, nil).json(t).(map[string]any)
	slots := open["appointments"].([]any)
	if len(slots) != 4 {
		t.Fatalf("open slots = %v, want 4", open)
	}
	// Open slots answer their ids as numbers, booked ones as strings.
	id := func(i int) string {
		return strconv.FormatFloat(slots[i].(map[string]any)["appointmentid"].(float64), 'f', -1, 64)
	}
	book := url.Values{"patientid": {pid}, "reasonid": {"-1"}, "bookingnote": {"checkup"}}
	if r := call(t, srv, http.MethodPut, api("/appointments/"+id(0)), tok, book); r.status != 200 || !strings.Contains(r.body, `"appointmentstatus":"f"`) {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	if r := call(t, srv, http.MethodPut, api("/appointments/"+id(0)), tok, book); r.status != 400 || !strings.Contains(r.body, "already booked") {
		t.Errorf("book a booked slot: %d %s, want 400", r.status, r.body)
	}
	if r := call(t, srv, http.MethodPut, api("/appointments/"+id(0)+"/reschedule"), tok, url.Values{"patientid": {pid}, "newappointmentid": {id(1)}}); r.status != 200 || !strings.Contains(r.body, `"appointmentid":"`+id(1)+`"`) {
		t.Fatalf("reschedule: %d %s", r.status, r.body)
	}
	if r := call(t, srv, http.MethodPut, api("/appointments/"+id(1)+"/cancel"), tok, url.Values{"patientid": {"1"}}); r.status != 400 {
		t.Errorf("cancel for another patient: %d %s, want 400", r.status, r.body)
	}
	if r := call(t, srv, http.MethodPut, api("/appointments/"+id(1)+"/cancel"), tok, url.Values{"patientid": {pid}, "cancellationreason": {"feeling better"}}); r.status != 200 || r.body != "{\"status\":\"x\"}\n" {
		t.Errorf("cancel: %d %q", r.status, r.body)
	}
	booked := "/appointments/booked?startdate=03/01/2026&enddate=03/31/2026&patientid=" + pid
	if got := changedIDs(t, srv, "appointments", "leaveunprocessed=true"); len(got) != 4 {
		t.Errorf("appointments feed = %v, want book, reschedule (two) and cancel", got)
	}
	if r := call(t, srv, http.MethodGet, api(booked), tok, nil).json(t).(map[string]any); r["totalcount"] != 0.0 {
		t.Errorf("booked without cancelled = %v, want none", r)
	}
	r := call(t, srv, http.MethodGet, api(booked+"&showcancelled=true"), tok, nil).json(t).(map[string]any)
	if r["totalcount"] != 2.0 {
		t.Errorf("booked with cancelled = %v, want both", r)
	}
	if got := rep.all(); len(got) > 0 {
		t.Errorf("documented requests reported: %v", got)
	}
}

// TestFaults: each injected fault answers as athenahealth fails, in
// order, once each.
func TestFaults(t *testing.T) {
	srv, _ := started(t, fake.Options{})
	tok := token(srv)
	srv.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 2500 * time.Millisecond})
	srv.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
	srv.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
	for i, want := range []struct {
		status int
		header string
	}{{429, "3"}, {503, ""}, {500, ""}, {401, ""}, {200, ""}} {
		a := call(t, srv, http.MethodGet, api("/ping"), tok, nil)
		if a.status != want.status || a.header.Get("Retry-After") != want.header {
			t.Errorf("request %d: %d (Retry-After %q), want %d (%q)", i, a.status, a.header.Get("Retry-After"), want.status, want.header)
		}
	}
	srv.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+api("/patients"), strings.NewReader(patientForm(7).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a lost response arrived")
	}
	if n := len(srv.Patients(fake.PracticeA)); n != 1 {
		t.Errorf("after a lost response the practice holds %d patients, want the one created", n)
	}
	srv.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+api("/ping"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a slow answer: %v, want the deadline", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for srv.Abandoned() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if srv.Abandoned() != 1 {
		t.Errorf("Abandoned = %d, want 1", srv.Abandoned())
	}
}
