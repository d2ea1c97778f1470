package fake

import (
	"net/http"
	"time"
)

// slotUnavailable is athenaOne's answer to booking a slot that is not
// open.
const slotUnavailable = "The appointment ID is already booked or is not marked as being available to be scheduled."

func parseDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(dateLayout, s, easternZone())
	return t, err == nil
}

func parseDateTime(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(dateTimeLayout, s, easternZone())
	return t, err == nil
}

// handleGetAppointment is GET /appointments/{appointmentid}: a
// one-element array, for open and booked slots alike.
func (s *Server) handleGetAppointment(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := p.appts[r.PathValue("appointmentid")]
	if a == nil {
		fail(w, http.StatusNotFound, "The appointment ID is invalid.", "")
		return
	}
	writeJSON(w, http.StatusOK, []any{a.json()})
}

// handleBook is PUT /appointments/{appointmentid}: books an open slot for
// patientid, with appointmenttypeid or reasonid. A slot that is not open
// is 400 (slotUnavailable). Answer: the booked appointment, a one-element
// array.
func (s *Server) handleBook(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	f := formFields(r)
	if f["appointmenttypeid"] == "" && f["reasonid"] == "" {
		fail(w, http.StatusBadRequest, "Additional fields are required.", "Either appointmenttypeid or reasonid is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := p.appts[r.PathValue("appointmentid")]
	switch pt := p.patients[f["patientid"]]; {
	case a == nil:
		fail(w, http.StatusNotFound, "The appointment ID is invalid.", "")
		return
	case a.status != "o":
		fail(w, http.StatusBadRequest, slotUnavailable, "")
		return
	case pt == nil || pt.status == "deleted":
		fail(w, http.StatusBadRequest, "The patient ID is invalid.", "")
		return
	}
	now := s.o.Now().Truncate(time.Second)
	a.status, a.patient, a.note, a.scheduled, a.modified = "f", f["patientid"], f["bookingnote"], now, now
	if k := f["appointmenttypeid"]; k != "" {
		a.kind = k
	}
	p.feeds["appointments"].add(a.id, now)
	writeJSON(w, http.StatusOK, []any{a.json()})
}

// handleCancel is PUT /appointments/{appointmentid}/cancel: patientid must
// be the booked patient. Answer: {"status": "x"}.
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	f := formFields(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := p.appts[r.PathValue("appointmentid")]
	switch {
	case a == nil:
		fail(w, http.StatusNotFound, "The appointment ID is invalid.", "")
		return
	case a.status != "f":
		fail(w, http.StatusBadRequest, "The appointment is not booked.", "")
		return
	case a.patient != f["patientid"]:
		fail(w, http.StatusBadRequest, "The patient ID does not match the appointment.", "")
		return
	}
	now := s.o.Now().Truncate(time.Second)
	a.status, a.cancelled, a.modified, a.cancelReason = "x", now, now, "CANCELLED FROM API"
	if reason := f["cancellationreason"]; reason != "" {
		a.note = "API appointment cancellation. Reported reason for cancellation: " + reason
	}
	p.feeds["appointments"].add(a.id, now)
	writeJSON(w, http.StatusOK, map[string]string{"status": "x"})
}

// handleReschedule is PUT /appointments/{appointmentid}/reschedule: books
// newappointmentid (an open slot) for the same patient and cancels this
// appointment. Answer: the new appointment, a one-element array.
func (s *Server) handleReschedule(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	f := formFields(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, next := p.appts[r.PathValue("appointmentid")], p.appts[f["newappointmentid"]]
	switch {
	case old == nil || next == nil:
		fail(w, http.StatusNotFound, "The appointment ID is invalid.", "")
		return
	case old.status != "f":
		fail(w, http.StatusBadRequest, "The appointment is not booked.", "")
		return
	case old.patient != f["patientid"]:
		fail(w, http.StatusBadRequest, "The patient ID does not match the appointment.", "")
		return
	case next.status != "o":
		fail(w, http.StatusBadRequest, slotUnavailable, "")
		return
	}
	now := s.o.Now().Truncate(time.Second)
	old.status, old.cancelled, old.modified, old.cancelReason, old.rescheduled = "x", now, now, "RESCHEDULED", next.id
	next.status, next.patient, next.kind, next.scheduled, next.modified = "f", old.patient, old.kind, now, now
	p.feeds["appointments"].add(old.id, now)
	p.feeds["appointments"].add(next.id, now)
	writeJSON(w, http.StatusOK, []any{next.json()})
}

// handleBooked is GET /appointments/booked: startdate and enddate required
// (the appointment dates, inclusive); cancelled appointments only with
// showcancelled=true; optional patient, department, provider, status and
// last-modified window (startlastmodified, endlastmodified, inclusive).
func (s *Server) handleBooked(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	q := r.URL.Query()
	from, ok1 := parseDate(q.Get("startdate"))
	to, ok2 := parseDate(q.Get("enddate"))
	if !ok1 || !ok2 {
		missing(w, "startdate", "enddate")
		return
	}
	modFrom, hasFrom := parseDateTime(q.Get("startlastmodified"))
	modTo, hasTo := parseDateTime(q.Get("endlastmodified"))
	s.mu.Lock()
	var items []any
	for _, a := range p.sortedAppointments() {
		day, _ := parseDate(a.start.Format(dateLayout))
		switch {
		case a.status == "o", a.status == "x" && q.Get("showcancelled") != "true",
			day.Before(from), day.After(to),
			q.Get("patientid") != "" && q.Get("patientid") != a.patient,
			q.Get("departmentid") != "" && q.Get("departmentid") != a.department,
			q.Get("providerid") != "" && q.Get("providerid") != a.provider,
			q.Get("appointmentstatus") != "" && q.Get("appointmentstatus") != a.status,
			hasFrom && a.modified.Before(modFrom), hasTo && a.modified.After(modTo):
			continue
		}
		items = append(items, a.json())
	}
	s.mu.Unlock()
	limit, offset := s.limitOffset(q)
	page(w, r, "appointments", items, limit, offset)
}

// handleOpen is GET /appointments/open: departmentid required; startdate
// defaults to today, enddate to seven days after startdate (US Eastern).
func (s *Server) handleOpen(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	q := r.URL.Query()
	from, ok := parseDate(q.Get("startdate"))
	if !ok {
		from, _ = parseDate(eastern(s.o.Now()).Format(dateLayout))
	}
	to, ok := parseDate(q.Get("enddate"))
	if !ok {
		to = from.AddDate(0, 0, 7)
	}
	s.mu.Lock()
	var items []any
	for _, a := range p.sortedAppointments() {
		day, _ := parseDate(a.start.Format(dateLayout))
		switch {
		case a.status != "o", day.Before(from), day.After(to), q.Get("departmentid") != a.department,
			q.Get("providerid") != "" && q.Get("providerid") != a.provider,
			q.Get("appointmenttypeid") != "" && q.Get("appointmenttypeid") != a.kind:
			continue
		}
		items = append(items, a.openJSON())
	}
	s.mu.Unlock()
	limit, offset := s.limitOffset(q)
	page(w, r, "appointments", items, limit, offset)
}
