package athena

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// appointmentList is athenaOne's paged appointment list (booked, open and
// changed appointments alike).
type appointmentList struct {
	Appointments []map[string]any `json:"appointments"`
	TotalCount   int              `json:"totalcount"`
	Next         string           `json:"next"`
}

// listAppointments pages through GET path with q until limit records.
func (s *session) listAppointments(ctx context.Context, path string, q url.Values, limit int) ([]map[string]any, error) {
	var out []map[string]any
	for offset := 0; len(out) < limit; {
		pq := cloneValues(q)
		pq.Set("limit", strconv.Itoa(min(pageMax, limit-len(out))))
		pq.Set("offset", strconv.Itoa(offset))
		var page appointmentList
		if err := s.do(ctx, call{path: path, query: pq}, &page); err != nil {
			return nil, err
		}
		for _, a := range page.Appointments {
			if len(out) < limit {
				out = append(out, a)
			}
		}
		offset += len(page.Appointments)
		if page.Next == "" || len(page.Appointments) == 0 || offset >= page.TotalCount {
			break
		}
	}
	return out, nil
}

// bookedSpan is how far around today a search for a patient's
// appointments looks (GET /appointments/booked needs a date range).
const bookedSpan = 366 * 24 * time.Hour

// searchAppointments lists booked appointments (GET /appointments/booked,
// cancelled ones included) by the query's shape: a patient id (a year
// either side of today), a date (that day) or two dates (that range).
// Errors: CodeInvalid naming "query" for any other query.
func (s *session) searchAppointments(ctx context.Context, o objectType, q sdk.SearchQuery) ([]sdk.Record, error) {
	words := strings.Fields(q.Query)
	c := url.Values{"showcancelled": {"true"}}
	today := s.d.now()
	switch {
	case len(words) == 1 && numericID.MatchString(words[0]):
		c.Set("patientid", words[0])
		c.Set("startdate", day(today.Add(-bookedSpan)))
		c.Set("enddate", day(today.Add(bookedSpan)))
	case len(words) >= 1 && len(words) <= 2 && isDate(words[0]) && isDate(words[len(words)-1]):
		from, _ := writeValue(field{kind: kDate}, words[0], "")
		to, _ := writeValue(field{kind: kDate}, words[len(words)-1], "")
		c.Set("startdate", from)
		c.Set("enddate", to)
	default:
		return nil, sdk.Invalid("query", "%q is not a patient id, a date (MM/DD/YYYY) or two dates", q.Query)
	}
	rows, err := s.listAppointments(ctx, "/appointments/booked", readQuery(c, q.Fields), q.Limit)
	if err != nil {
		return nil, err
	}
	return s.records(o, rows), nil
}

// searchSlots lists open appointment slots of the connection's department
// (GET /appointments/open): the query is empty (the next seven days), a
// date, or two dates. Errors: CodeInvalid naming "query", or
// config.department_id when the connection has none.
func (s *session) searchSlots(ctx context.Context, o objectType, q sdk.SearchQuery) ([]sdk.Record, error) {
	dep := strings.TrimSpace(s.conn.Config[configDepartmentID])
	if !numericID.MatchString(dep) {
		return nil, sdk.Invalid("config."+configDepartmentID, "is required to search open slots: the athenaOne department (a number)")
	}
	words := strings.Fields(q.Query)
	c := url.Values{"departmentid": {dep}}
	switch {
	case len(words) == 0:
		c.Set("startdate", day(s.d.now()))
		c.Set("enddate", day(s.d.now().AddDate(0, 0, 7)))
	case len(words) <= 2 && isDate(words[0]) && isDate(words[len(words)-1]):
		from, _ := writeValue(field{kind: kDate}, words[0], "")
		to, _ := writeValue(field{kind: kDate}, words[len(words)-1], "")
		c.Set("startdate", from)
		c.Set("enddate", to)
	default:
		return nil, sdk.Invalid("query", "%q is not a date (MM/DD/YYYY) or two dates (empty: the next seven days)", q.Query)
	}
	rows, err := s.listAppointments(ctx, "/appointments/open", c, q.Limit)
	if err != nil {
		return nil, err
	}
	return s.records(o, rows), nil
}

func (s *session) records(o objectType, rows []map[string]any) []sdk.Record {
	out := make([]sdk.Record, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.toRecord(o, r))
	}
	return out
}

// day is t's date in athenahealth's time zone, as its date parameters
// take it.
func day(t time.Time) string { return t.In(eastern()).Format("01/02/2006") }

// getAppointment reads one appointment (GET /appointments/{id}, a
// one-element array); nil when athenaOne has none.
func (s *session) getAppointment(ctx context.Context, id string) (map[string]any, error) {
	if !numericID.MatchString(id) {
		return nil, nil
	}
	var rows []map[string]any
	err := s.do(ctx, call{path: provider.Path("appointments", id)}, &rows)
	if sdk.CodeOf(err) == sdk.CodeNotFound || (err == nil && len(rows) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// bookAppointment books an open slot: PUT /appointments/{appointmentid}
// with the patient, the appointment type or reason, and the optional
// department, note and flags. athenaOne refuses to book a slot that is
// not open; the driver then reads the slot, and a slot already booked by
// the same patient is the booking asked for (a retry after a lost
// answer), one booked by another patient CodeConflict.
func (s *session) bookAppointment(ctx context.Context, o objectType, in sdk.CreateInput) (sdk.CreateResult, error) {
	form, err := formOf(o, in.Fields, true, region(s.conn))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if err := requireFields(o, form, nil); err != nil {
		return sdk.CreateResult{}, err
	}
	if form.Get("appointmenttypeid") == "" && form.Get("reasonid") == "" {
		return sdk.CreateResult{}, sdk.Invalid("fields.reasonid", "athenaOne books an appointment for a reason (reasonid) or an appointment type (appointmenttypeid): give one")
	}
	slot, patient := form.Get("appointmentid"), form.Get("patientid")
	form.Del("appointmentid")
	result := sdk.CreateResult{ExternalID: slot, RecordURL: s.recordURL("appointments", slot)}
	err = s.do(ctx, call{method: http.MethodPut, path: provider.Path("appointments", slot), form: form}, nil)
	if err == nil {
		return result, nil
	}
	if c := sdk.CodeOf(err); c != sdk.CodeInvalid && c != sdk.CodeConflict && c != sdk.CodeNotFound {
		return sdk.CreateResult{}, err
	}
	cur, rerr := s.getAppointment(ctx, slot)
	switch {
	case rerr != nil:
		return sdk.CreateResult{}, err
	case cur == nil:
		return sdk.CreateResult{}, sdk.Invalid("fields.appointmentid", "athenaOne has no appointment slot %s", slot)
	case str(cur["appointmentstatus"]) != "o" && str(cur["appointmentstatus"]) != "x" && str(cur["patientid"]) == patient:
		return result, nil // booked already, for this patient: a retried booking
	case str(cur["appointmentstatus"]) != "o":
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeConflict, "appointment slot %s is not open (status %s): %s", slot, str(cur["appointmentstatus"]), sdk.AsError(err).Message)
	}
	return sdk.CreateResult{}, err
}

// updateAppointment cancels (appointmentstatus x: PUT
// /appointments/{id}/cancel, with an optional appointmentcancelreasonid
// and cancellationreason) or reschedules (newappointmentid: PUT
// /appointments/{id}/reschedule, which moves the booking to the new slot
// and cancels this one; the answer's record_url is the new appointment).
// athenaOne changes nothing else of a booked appointment through these
// calls. Cancelling a cancelled appointment changes nothing. Errors:
// CodeNotFound, CodeInvalid naming the field.
func (s *session) updateAppointment(ctx context.Context, o objectType, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	form, err := formOf(o, in.Fields, false, region(s.conn))
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	status, newSlot := form.Get("appointmentstatus"), form.Get("newappointmentid")
	switch {
	case status != "" && status != "x":
		return sdk.UpdateResult{}, sdk.Invalid("fields.appointmentstatus", "the driver can only cancel an appointment (x); athenaOne sets the other statuses as the visit happens")
	case status == "x" && newSlot != "":
		return sdk.UpdateResult{}, sdk.Invalid("fields.newappointmentid", "give either appointmentstatus x (cancel) or newappointmentid (reschedule), not both")
	case status == "" && newSlot == "":
		return sdk.UpdateResult{}, sdk.Invalid("fields.appointmentstatus", "an appointment changes by being cancelled (appointmentstatus x) or rescheduled (newappointmentid)")
	}
	cur, err := s.getAppointment(ctx, in.ExternalID)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if cur == nil || str(cur["patientid"]) == "" {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeNotFound, "athenaOne has no booked appointment %s", in.ExternalID)
	}
	form.Del("appointmentstatus")
	form.Set("patientid", str(cur["patientid"]))
	if newSlot == "" {
		if str(cur["appointmentstatus"]) == "x" {
			return sdk.UpdateResult{Updated: true, RecordURL: s.recordURL("appointments", in.ExternalID)}, nil
		}
		err := s.do(ctx, call{method: http.MethodPut, path: provider.Path("appointments", in.ExternalID, "cancel"), form: form}, nil)
		if err != nil {
			return sdk.UpdateResult{}, err
		}
		return sdk.UpdateResult{Updated: true, RecordURL: s.recordURL("appointments", in.ExternalID)}, nil
	}
	var rows []map[string]any
	if err := s.do(ctx, call{method: http.MethodPut, path: provider.Path("appointments", in.ExternalID, "reschedule"), form: form}, &rows); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true, RecordURL: s.recordURL("appointments", newSlot)}, nil
}
