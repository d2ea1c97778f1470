package fake

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // athenaOne's times are US Eastern
)

// The practices the fake serves. PracticeA is athenahealth's shared
// preview practice; PracticeB a second practice granted to the same app,
// with separate data; PracticeUngranted exists but has not granted the
// app access (athenaOne answers 401 "Incorrect permissions.").
const (
	PracticeA         = "195900"
	PracticeB         = "1128700"
	PracticeUngranted = "80000"
	// Department is the department every practice has (and "2").
	Department = "1"
)

// departments every practice has.
var departments = []string{"1", "2"}

// Formats of athenaOne's dates and date-times (US Eastern).
const (
	dateLayout     = "01/02/2006"
	dateTimeLayout = "01/02/2006 15:04:05"
)

// easternZone is athenahealth's time zone: its date-times are US Eastern
// wall-clock times.
var easternZone = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic("fake: no America/New_York zone: " + err.Error()) // unreachable with time/tzdata
	}
	return loc
})

func eastern(t time.Time) time.Time { return t.In(easternZone()) }

// boolFields are patient fields athenaOne answers as JSON booleans.
var boolFields = map[string]bool{
	"consenttocall": true, "consenttotext": true, "hasmobileyn": true, "donotcallyn": true, "homeboundyn": true,
	"portalaccessgiven": true, "guarantoraddresssameaspatient": true,
}

// statusNames are the long forms athenaOne answers for the short status
// codes a write may use.
var statusNames = map[string]string{"a": "active", "i": "inactive", "p": "prospective"}

// patient is one stored patient: the fields written, as athenaOne's form
// names and values, and what athenaOne keeps beside them.
type patient struct {
	id      string
	fields  map[string]string
	status  string // active, inactive, prospective or deleted
	created time.Time
	updated time.Time // whole seconds
}

// json is the patient as GET /patients/{id} answers it.
func (p *patient) json() map[string]any {
	out := make(map[string]any, len(p.fields)+6)
	for k, v := range p.fields {
		switch {
		case v == "":
		case boolFields[k]:
			out[k] = v == "true"
		default:
			out[k] = v
		}
	}
	out["patientid"] = p.id
	out["status"] = p.status
	out["registrationdate"] = eastern(p.created).Format(dateLayout)
	out["lastupdated"] = eastern(p.updated).Format(dateTimeLayout)
	out["lastupdatedby"] = "API-CRMHOST"
	out["emailexists"] = p.fields["email"] != ""
	return out
}

// appointment is one slot of a practice's schedule: open (o), booked
// (f) or cancelled (x).
type appointment struct {
	id                         string
	start                      time.Time // the slot's date and start, US Eastern wall clock
	duration                   int
	department, provider, kind string // kind is the appointment type id
	status                     string
	patient                    string
	note                       string
	scheduled, modified        time.Time
	cancelled                  time.Time
	cancelReason               string
	rescheduled                string
}

// appointmentTypes names the fake's appointment types.
var appointmentTypes = map[string]string{"82": "Any 15", "8": "New Patient Appointment"}

// json is the appointment as GET /appointments/{id} and the booked and
// changed lists answer it (ids as strings, as in the fixtures).
func (a *appointment) json() map[string]any {
	out := map[string]any{
		"appointmentid": a.id, "date": a.start.Format(dateLayout), "starttime": a.start.Format("15:04"),
		"duration": a.duration, "departmentid": a.department, "providerid": a.provider,
		"appointmenttypeid": a.kind, "appointmenttype": appointmentTypes[a.kind],
		"patientappointmenttypename": appointmentTypes[a.kind], "appointmentstatus": a.status,
		"chargeentrynotrequired": false,
	}
	if a.patient != "" {
		out["patientid"] = a.patient
	}
	if !a.modified.IsZero() {
		out["lastmodified"] = eastern(a.modified).Format(dateTimeLayout)
		out["lastmodifiedby"] = "API-CRMHOST"
		out["scheduledby"] = "API-CRMHOST"
		out["scheduleddatetime"] = eastern(a.scheduled).Format(dateTimeLayout)
	}
	if a.note != "" {
		out["appointmentnotes"] = []any{map[string]any{"displayonschedule": false, "text": a.note, "id": 1}}
	}
	if a.status == "x" {
		out["cancelreasonname"] = a.cancelReason
		out["cancelleddatetime"] = eastern(a.cancelled).Format(dateTimeLayout)
		out["cancelledby"] = "API-CRMHOST"
	}
	if a.rescheduled != "" {
		out["rescheduledappointmentid"] = a.rescheduled
	}
	return out
}

// openJSON is an open slot as GET /appointments/open answers it (ids as
// numbers, as in athenaOne's answer).
func (a *appointment) openJSON() map[string]any {
	id, _ := strconv.Atoi(a.id)
	dep, _ := strconv.Atoi(a.department)
	prov, _ := strconv.Atoi(a.provider)
	kind, _ := strconv.Atoi(a.kind)
	return map[string]any{
		"appointmentid": id, "date": a.start.Format(dateLayout), "starttime": a.start.Format("15:04"),
		"duration": a.duration, "departmentid": dep, "providerid": prov, "localproviderid": prov,
		"appointmenttypeid": kind, "appointmenttype": appointmentTypes[a.kind], "reasonid": []any{"-1"},
		"patientappointmenttypename": appointmentTypes[a.kind],
	}
}

// patientCase is one patient case document.
type patientCase struct {
	id, patient string
	fields      map[string]string
	created     time.Time
}

func (c *patientCase) json() map[string]any {
	out := map[string]any{"patientcaseid": c.id, "patientid": c.patient, "status": "OPEN",
		"documentclass": "PATIENTCASE", "createddatetime": eastern(c.created).Format(dateTimeLayout),
		"lastmodifieddatetime": eastern(c.created).Format(dateTimeLayout)}
	for k, v := range c.fields {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// message is one entry of a changed-data feed: a record that changed, when,
// and when a read without leaveunprocessed processed it.
type message struct {
	id        string
	at        time.Time
	processed time.Time // zero while unprocessed
}

// feed is a practice's changed-data feed for one kind of record.
type feed struct {
	subscribed bool
	msgs       []*message
}

// feedRetention is how long athenahealth keeps a feed message.
const feedRetention = 24 * time.Hour

func (f *feed) add(id string, now time.Time) {
	if f.subscribed {
		f.msgs = append(f.msgs, &message{id: id, at: now})
	}
}

// prune drops the messages older than the feed's retention.
func (f *feed) prune(now time.Time) {
	f.msgs = slices.DeleteFunc(f.msgs, func(m *message) bool { return now.Sub(m.at) > feedRetention })
}

// practice is one athenaOne practice: its patients, schedule, patient
// cases and feeds.
type practice struct {
	id       string
	granted  bool
	patients map[string]*patient
	appts    map[string]*appointment
	cases    []*patientCase
	feeds    map[string]*feed // "patients", "appointments"
}

func newPractice(id string, granted bool) *practice {
	return &practice{id: id, granted: granted, patients: map[string]*patient{}, appts: map[string]*appointment{},
		feeds: map[string]*feed{"patients": {subscribed: true}, "appointments": {subscribed: true}}}
}

// sortedPatients returns the practice's patients by id.
func (p *practice) sortedPatients() []*patient {
	out := slices.Collect(maps.Values(p.patients))
	slices.SortFunc(out, func(a, b *patient) int { return compareIDs(a.id, b.id) })
	return out
}

// sortedAppointments returns the practice's slots by start, then id.
func (p *practice) sortedAppointments() []*appointment {
	out := slices.Collect(maps.Values(p.appts))
	slices.SortFunc(out, func(a, b *appointment) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return compareIDs(a.id, b.id)
	})
	return out
}

// compareIDs orders numeric ids numerically.
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// seedSlots gives a practice n open slots of fifteen minutes in
// department 1 with provider 21, from 09:00 on the day after now (US
// Eastern), 24 a day.
func (s *Server) seedSlots(p *practice, n int, now time.Time) {
	day := eastern(now).AddDate(0, 0, 1)
	base := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, easternZone())
	for i := range n {
		start := base.AddDate(0, 0, i/24).Add(time.Duration(i%24) * 15 * time.Minute)
		id := s.newID(&s.nextAppt)
		p.appts[id] = &appointment{id: id, start: start, duration: 15, department: Department, provider: "21", kind: "82", status: "o"}
	}
}

func (s *Server) newID(counter *int64) string {
	*counter++
	return strconv.FormatInt(*counter, 10)
}
