package mindbody

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// Search windows (site-local dates) for a client's bookings and contact
// logs: Mindbody lists them between a start and an end date only.
const (
	searchPast   = 90 * 24 * time.Hour
	searchFuture = 365 * 24 * time.Hour
)

// statusExecute maps a written booking Status to updateappointment's
// Execute (keys are lower case without spaces, dashes or underscores).
var statusExecute = map[string]string{
	"booked": "unconfirm", "unconfirmed": "unconfirm", "confirmed": "confirm", "arrived": "arrive",
	"completed": "complete", "cancelled": "cancel", "canceled": "cancel",
	"latecancelled": "latecancel", "latecanceled": "latecancel",
}

func statusKey(s string) string {
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// siteDay returns the date of t in the site's time zone (the connection's
// site_time_zone, learned from Mindbody; UTC when unknown).
func siteDay(conn sdk.Connection, t time.Time) string {
	t = t.UTC()
	if tz := conn.Config[configTimeZone]; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			t = t.In(loc)
		}
	}
	return t.Format(time.DateOnly)
}

// idNumber checks a numeric external id. Errors: CodeInvalid naming
// "external_id".
func idNumber(id, what string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n <= 0 {
		return 0, sdk.Invalid("external_id", "%q is not a Mindbody %s id (a positive whole number)", id, what)
	}
	return n, nil
}

func toAppointmentRecord(a map[string]any) sdk.Record {
	return sdk.Record{Object: objAppointments, ExternalID: str(a["Id"]), Fields: a}
}

// searchAppointments lists appointments (GET
// /appointment/staffappointments): a client's from 90 days back to a year
// ahead when query is a client id, else everyone's from today to 30 days
// ahead.
func (d *Driver) searchAppointments(ctx context.Context, s *session, query string, limit int) ([]sdk.Record, error) {
	now := d.now()
	q := url.Values{}
	if query = strings.TrimSpace(query); query != "" {
		q.Set("request.clientId", query)
		q.Set("request.startDate", siteDay(s.conn, now.Add(-searchPast)))
		q.Set("request.endDate", siteDay(s.conn, now.Add(searchFuture)))
	} else {
		q.Set("request.startDate", siteDay(s.conn, now))
		q.Set("request.endDate", siteDay(s.conn, now.Add(30*24*time.Hour)))
	}
	var out []sdk.Record
	err := s.pages(ctx, "/appointment/staffappointments", q, "Appointments", limit, func(a map[string]any) {
		out = append(out, toAppointmentRecord(a))
	})
	return out, err
}

// pages reads a paged list (request.limit/offset, PaginationResponse)
// until limit items, handing each to fn.
func (s *session) pages(ctx context.Context, path string, q url.Values, key string, limit int, fn func(map[string]any)) error {
	seen := 0
	for offset := 0; seen < limit; {
		q.Set("request.limit", strconv.Itoa(min(scanPageSize, limit-seen)))
		q.Set("request.offset", strconv.Itoa(offset))
		var page map[string]any
		if err := s.call(ctx, request{method: http.MethodGet, path: path, query: q}, &page); err != nil {
			return err
		}
		list, _ := page[key].([]any)
		for _, x := range list {
			if m, ok := x.(map[string]any); ok && seen < limit {
				fn(m)
				seen++
			}
		}
		offset += len(list)
		pg, _ := page["PaginationResponse"].(map[string]any)
		total, _ := pg["TotalResults"].(float64)
		if len(list) == 0 || offset >= int(total) {
			return nil
		}
	}
	return nil
}

// createAppointment books an appointment (POST
// /appointment/addappointment). Idempotent: the idempotency key goes into
// PartnerExternalId, and before booking the driver looks for the client's
// appointment that day with that PartnerExternalId (or, without a key, the
// same start, staff member and session type, not cancelled) and answers
// it instead; Mindbody's own request deduplication is a second guard.
func (d *Driver) createAppointment(ctx context.Context, s *session, in sdk.CreateInput) (sdk.CreateResult, error) {
	props, err := writeFields("appointments", appointmentFields, in.Fields)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	for _, f := range []string{"ClientId", "LocationId", "SessionTypeId", "StaffId", "StartDateTime"} {
		if props[f] == nil || props[f] == "" {
			return sdk.CreateResult{}, sdk.Invalid("fields."+f, "is required: Mindbody books an appointment for a client (ClientId) with a staff member (StaffId) at a location (LocationId) for a session type (SessionTypeId) at a start time (StartDateTime, site local time)")
		}
	}
	if st, ok := props["Status"]; ok {
		delete(props, "Status")
		exec, ok := statusExecute[statusKey(str(st))]
		if !ok {
			return sdk.CreateResult{}, sdk.Invalid("fields.Status", "%q is not a status Mindbody can set (Booked, Confirmed, Arrived, Completed, Cancelled, LateCancelled)", str(st))
		}
		props["Execute"] = exec
	}
	if in.IdempotencyKey != "" && str(props["PartnerExternalId"]) == "" {
		props["PartnerExternalId"] = in.IdempotencyKey
	}
	if id, err := d.existingAppointment(ctx, s, props); err != nil || id != "" {
		return sdk.CreateResult{ExternalID: id}, err
	}
	var out struct {
		Appointment map[string]any `json:"Appointment"`
	}
	if err := s.call(ctx, request{method: http.MethodPost, path: "/appointment/addappointment", in: props}, &out); err != nil {
		return sdk.CreateResult{}, err
	}
	if str(out.Appointment["Id"]) == "" {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "Mindbody booked the appointment but answered no id")
	}
	return sdk.CreateResult{ExternalID: str(out.Appointment["Id"])}, nil
}

// existingAppointment finds the appointment a create would repeat.
func (d *Driver) existingAppointment(ctx context.Context, s *session, props map[string]any) (string, error) {
	day := str(props["StartDateTime"])
	if len(day) < 10 {
		return "", sdk.Invalid("fields.StartDateTime", "%q is not a date and time (2026-03-03T10:00:00, site local time)", day)
	}
	day = day[:10]
	q := url.Values{"request.clientId": {str(props["ClientId"])}, "request.startDate": {day}, "request.endDate": {day}}
	key := str(props["PartnerExternalId"])
	found := ""
	err := s.pages(ctx, "/appointment/staffappointments", q, "Appointments", 1000, func(a map[string]any) {
		switch {
		case found != "":
		case key != "":
			if str(a["PartnerExternalId"]) == key {
				found = str(a["Id"])
			}
		case sameStart(str(a["StartDateTime"]), str(props["StartDateTime"])) && str(a["StaffId"]) == str(props["StaffId"]) &&
			str(a["SessionTypeId"]) == str(props["SessionTypeId"]) && !strings.Contains(strings.ToLower(str(a["Status"])), "cancel"):
			found = str(a["Id"])
		}
	})
	return found, err
}

// sameStart compares two local date-times, ignoring a seconds or fraction
// difference in how they are written.
func sameStart(a, b string) bool {
	ta, ok1 := parseTime(a)
	tb, ok2 := parseTime(b)
	return ok1 && ok2 && ta.Equal(tb)
}

// appointmentUpdatable are the fields updateappointment changes.
var appointmentUpdatable = map[string]bool{"StartDateTime": true, "EndDateTime": true, "StaffId": true, "Notes": true,
	"SessionTypeId": true, "GenderPreference": true, "ProviderId": true, "PartnerExternalId": true, "ResourceIds": true,
	"SendEmail": true, "Status": true}

// updateAppointment changes an appointment (POST
// /appointment/updateappointment): its times, staff member, session type
// and notes, and its Status through Execute (Cancelled cancels it).
func (d *Driver) updateAppointment(ctx context.Context, s *session, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	id, err := idNumber(in.ExternalID, "appointment")
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	props, err := writeFields("appointments", appointmentFields, in.Fields)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	for k := range props {
		if !appointmentUpdatable[k] {
			return sdk.UpdateResult{}, sdk.Invalid("fields."+k, "Mindbody cannot change an appointment's %s: cancel it (Status Cancelled) and book another", k)
		}
	}
	if st, ok := props["Status"]; ok {
		delete(props, "Status")
		exec, ok := statusExecute[statusKey(str(st))]
		if !ok {
			return sdk.UpdateResult{}, sdk.Invalid("fields.Status", "%q is not a status Mindbody can set (Booked, Confirmed, Arrived, Completed, Cancelled, LateCancelled)", str(st))
		}
		props["Execute"] = exec
	}
	props["AppointmentId"] = id
	if err := s.call(ctx, request{method: http.MethodPost, path: "/appointment/updateappointment", in: props}, nil); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true}, nil
}

// classBookingID is a class booking's external id: "<class id>:<visit
// id>" (removing a client from a class needs both).
func classBookingID(classID, visitID any) string { return str(classID) + ":" + str(visitID) }

func parseClassBookingID(id string) (int64, int64, error) {
	c, v, ok := strings.Cut(strings.TrimSpace(id), ":")
	cn, err1 := strconv.ParseInt(c, 10, 64)
	vn, err2 := strconv.ParseInt(v, 10, 64)
	if !ok || err1 != nil || err2 != nil || cn <= 0 || vn <= 0 {
		return 0, 0, sdk.Invalid("external_id", "%q is not a class booking id of this driver (<class id>:<visit id>)", id)
	}
	return cn, vn, nil
}

func toClassBookingRecord(v map[string]any) sdk.Record {
	fields := make(map[string]any, len(v)+1)
	for k, x := range v {
		fields[k] = x
	}
	fields["Status"] = "Booked"
	if b, _ := v["LateCancelled"].(bool); b {
		fields["Status"] = "LateCancelled"
	}
	updated, _ := parseTime(str(v["LastModifiedDateTime"]))
	return sdk.Record{Object: objClassBooking, ExternalID: classBookingID(v["ClassId"], v["Id"]), Fields: fields, UpdatedAt: updated}
}

// searchClassBookings lists a client's class bookings (GET
// /client/clientvisits, visits of classes only) from 90 days back to a
// year ahead. Errors besides the usual: CodeInvalid naming "query" when it
// is not a client id.
func (d *Driver) searchClassBookings(ctx context.Context, s *session, query string, limit int) ([]sdk.Record, error) {
	if query = strings.TrimSpace(query); query == "" {
		return nil, sdk.Invalid("query", "is required: the client id whose class bookings to list (Mindbody lists class visits by client)")
	}
	now := d.now()
	q := url.Values{"request.clientId": {query}, "request.startDate": {siteDay(s.conn, now.Add(-searchPast))},
		"request.endDate": {siteDay(s.conn, now.Add(searchFuture))}}
	var out []sdk.Record
	err := s.pages(ctx, "/client/clientvisits", q, "Visits", limit, func(v map[string]any) {
		if n, _ := v["ClassId"].(float64); n > 0 {
			out = append(out, toClassBookingRecord(v))
		}
	})
	if sdk.CodeOf(err) == sdk.CodeNotFound {
		return []sdk.Record{}, nil // no such client: no bookings
	}
	return out, err
}

// createClassBooking books a client into a class (POST
// /class/addclienttoclass). A client is booked into a class once, so a
// repeat is idempotent: when Mindbody answers that the client is already
// booked, the driver answers the existing booking (from GET
// /class/classvisits).
func (d *Driver) createClassBooking(ctx context.Context, s *session, in sdk.CreateInput) (sdk.CreateResult, error) {
	props, err := writeFields("class bookings", classBookingFields, in.Fields)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if _, ok := props["Status"]; ok {
		return sdk.CreateResult{}, sdk.Invalid("fields.Status", "is set by Mindbody when booking; cancel a booking by updating its Status")
	}
	for _, f := range []string{"ClientId", "ClassId"} {
		if props[f] == nil || props[f] == "" {
			return sdk.CreateResult{}, sdk.Invalid("fields."+f, "is required: Mindbody books a client (ClientId) into a class (ClassId)")
		}
	}
	var out struct {
		Visit map[string]any `json:"Visit"`
	}
	err = s.call(ctx, request{method: http.MethodPost, path: "/class/addclienttoclass", in: props}, &out)
	if sdk.CodeOf(err) == sdk.CodeConflict {
		return d.existingClassBooking(ctx, s, props, err)
	}
	if err != nil {
		return sdk.CreateResult{}, err
	}
	return sdk.CreateResult{ExternalID: classBookingID(out.Visit["ClassId"], out.Visit["Id"])}, nil
}

// existingClassBooking finds the client's booking in the class after
// Mindbody refused to book it twice; conflict is returned when there is
// none (the conflict was something else).
func (d *Driver) existingClassBooking(ctx context.Context, s *session, props map[string]any, conflict error) (sdk.CreateResult, error) {
	var out struct {
		Class struct {
			Visits []map[string]any `json:"Visits"`
		} `json:"Class"`
	}
	q := url.Values{"request.classID": {str(props["ClassId"])}}
	if err := s.call(ctx, request{method: http.MethodGet, path: "/class/classvisits", query: q}, &out); err != nil {
		return sdk.CreateResult{}, err
	}
	for _, v := range out.Class.Visits {
		if str(v["ClientId"]) == str(props["ClientId"]) && v["LateCancelled"] != true {
			return sdk.CreateResult{ExternalID: classBookingID(props["ClassId"], v["Id"])}, nil
		}
	}
	return sdk.CreateResult{}, conflict
}

// updateClassBooking cancels a class booking (POST
// /class/removeclientfromclass): Status Cancelled removes the client from
// the class, LateCancelled keeps the visit as a late cancellation. That
// is the only change Mindbody makes to a class booking.
func (d *Driver) updateClassBooking(ctx context.Context, s *session, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	classID, visitID, err := parseClassBookingID(in.ExternalID)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	props, err := writeFields("class bookings", classBookingFields, in.Fields)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	body := map[string]any{"ClassId": classID, "VisitId": visitID}
	for k, v := range props {
		switch k {
		case "Status":
			switch statusExecute[statusKey(str(v))] {
			case "cancel":
			case "latecancel":
				body["LateCancel"] = true
			default:
				return sdk.UpdateResult{}, sdk.Invalid("fields.Status", "Mindbody can only cancel a class booking: write Cancelled or LateCancelled, not %q", str(v))
			}
		case "SendEmail":
			body["SendEmail"] = v
		default:
			return sdk.UpdateResult{}, sdk.Invalid("fields."+k, "Mindbody cannot change a class booking's %s: cancel it (Status Cancelled) and book the client into another class", k)
		}
	}
	if _, ok := props["Status"]; !ok {
		return sdk.UpdateResult{}, sdk.Invalid("fields.Status", "is required: Mindbody can only cancel a class booking (Status Cancelled or LateCancelled)")
	}
	if err := s.call(ctx, request{method: http.MethodPost, path: "/class/removeclientfromclass", in: body}, nil); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true}, nil
}
