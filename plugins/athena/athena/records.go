package athena

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // athenaOne's times are US Eastern; a driver process may have no zoneinfo

	"crmhost.dev/sdk"
)

// eastern is athenahealth's time zone: its date-times (lastmodified,
// lastupdated, the changed-data windows) are US Eastern wall-clock times.
var eastern = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		return time.FixedZone("EST", -5*3600) // unreachable with time/tzdata
	}
	return loc
})

// Eastern returns athenahealth's time zone (US Eastern), for fakes and
// tests that must write times the way athenaOne does.
func Eastern() *time.Location { return eastern() }

// timeLayouts are athenaOne's date-time forms, most precise first; a bare
// date is read as its midnight.
var timeLayouts = []string{"01/02/2006 15:04:05", "01/02/2006 15:04", "01/02/2006"}

// parseTime reads an athenaOne date-time (US Eastern); the zero time for
// anything else.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, eastern()); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// formatTime writes t the way athenaOne's date-time parameters take it:
// MM/DD/YYYY HH:MM:SS, US Eastern.
func formatTime(t time.Time) string { return t.In(eastern()).Format("01/02/2006 15:04:05") }

// updatedField is the field that says when a record of an object last
// changed.
var updatedField = map[string]string{
	objPatients:     "lastupdated",
	objAppointments: "lastmodified",
	objCases:        "lastmodifieddatetime",
}

// toRecord converts one athenaOne record. Its fields are athenaOne's
// own, nulls left out; UpdatedAt is the object's change time (patients'
// lastupdated, appointments' lastmodified; open slots have none).
func (s *session) toRecord(o objectType, raw map[string]any) sdk.Record {
	fields := make(map[string]any, len(raw))
	for k, v := range raw {
		if v != nil {
			fields[k] = v
		}
	}
	id := str(raw[o.idField])
	rec := sdk.Record{Object: o.name, ExternalID: id, Fields: fields, UpdatedAt: parseTime(str(raw[updatedField[o.name]]))}
	switch o.name {
	case objPatients:
		rec.RecordURL = s.recordURL("patients", id)
	case objAppointments, objSlots:
		rec.RecordURL = s.recordURL("appointments", id)
	case objCases:
		if p := str(raw["patientid"]); p != "" {
			rec.RecordURL = s.recordURL("patients", p, "documents", "patientcase", id)
		}
	}
	return rec
}

// deleted reports whether an athenaOne patient record is a deleted one
// (status "deleted", or "d").
func deleted(raw map[string]any) bool {
	st := strings.ToLower(str(raw["status"]))
	return st == "deleted" || st == "d"
}
