package fake

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dedupWindow is how long Mindbody's request deduplication of
// addappointment remembers a request [unverified: the window is not
// documented; the behaviour is].
const dedupWindow = 10 * time.Minute

// executeStatus maps updateappointment's Execute to the status it sets.
var executeStatus = map[string]string{
	"confirm": "Confirmed", "unconfirm": "Booked", "arrive": "Arrived", "unarrive": "Booked",
	"cancel": "Cancelled", "latecancel": "LateCancelled", "complete": "Completed",
}

// apptProps are the appointment properties a write may set.
var apptProps = []string{"StartDateTime", "EndDateTime", "Notes", "PartnerExternalId", "StaffRequested", "SessionTypeId",
	"LocationId", "StaffId", "ClientId", "GenderPreference", "ProviderId", "IsWaitlist"}

// dedupEntry is one remembered addappointment request.
type dedupEntry struct {
	id int64
	at time.Time
}

// class is one scheduled class with its roster.
type class struct {
	id         int64
	name       string
	start, end time.Time
	capacity   int
	location   int64
	staff      int64
	visits     []*visit
	modified   time.Time
	cancelled  bool
}

// visit is one client's booking into a class.
type visit struct {
	id            int64
	clientID      string
	lateCancelled bool
	modified      time.Time
}

// handleAddAppointment is POST /appointment/addappointment. ClientId,
// LocationId, SessionTypeId, StaffId and StartDateTime are required; an
// identical request within the deduplication window answers the
// appointment it created (unless X-RequestDeduplication-Skip is true).
func (s *Server) handleAddAppointment(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid AddAppointmentRequest."))
		return
	}
	for _, f := range []string{"ClientId", "LocationId", "SessionTypeId", "StaffId", "StartDateTime"} {
		if v := field(in, f); v == nil || v == "" {
			writeError(w, badRequest(codeMissingFields, "The following fields are required: %s.", f))
			return
		}
	}
	key := dedupKey(in)
	if !strings.EqualFold(r.Header.Get("X-RequestDeduplication-Skip"), "true") {
		if d, ok := st.dedup()[key]; ok && s.o.Now().Sub(d.at) < dedupWindow && st.appointments[d.id] != nil {
			writeJSON(w, http.StatusOK, map[string]any{"Appointment": maps.Clone(st.appointments[d.id])})
			return
		}
	}
	appt, e := st.checkAppointment(map[string]any{"Status": "Booked", "GenderPreference": "None", "StaffRequested": false,
		"IsWaitlist": false, "FirstAppointment": false, "ProgramId": 21}, in)
	if e != nil {
		writeError(w, e)
		return
	}
	if exec := strings.ToLower(stringField(in, "Execute")); exec != "" {
		status, ok := executeStatus[exec]
		if !ok {
			writeError(w, badRequest(codeInvalidParam, "Execute '%s' is not one of confirm, unconfirm, arrive, unarrive, cancel, latecancel, complete.", exec))
			return
		}
		appt["Status"] = status
	}
	id := st.nextAppt
	appt["Id"] = id
	if !boolField(in, "Test") {
		st.nextAppt++
		st.appointments[id] = appt
		st.dedup()[key] = dedupEntry{id: id, at: s.o.Now()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Appointment": maps.Clone(appt)})
}

func dedupKey(in map[string]any) string {
	b, _ := json.Marshal(in) // map keys are sorted: equal requests, equal bytes
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// dedup is the site's remembered addappointment requests.
func (st *site) dedup() map[string]dedupEntry {
	if st.dedupes == nil {
		st.dedupes = map[string]dedupEntry{}
	}
	return st.dedupes
}

// checkAppointment merges the writable properties of in into base and
// checks the client, location, session type, staff and times exist and
// parse.
func (st *site) checkAppointment(base, in map[string]any) (map[string]any, *apiError) {
	appt := maps.Clone(base)
	for _, p := range apptProps {
		if has(in, p) {
			appt[p] = field(in, p)
		}
	}
	if c := st.clients[stringField(appt, "ClientId")]; c == nil || !c.active() {
		return nil, badRequest(codeClientNotFound, "Client %s not found.", stringField(appt, "ClientId"))
	}
	checks := []struct {
		name string
		ok   map[int64]bool
	}{{"LocationId", st.locations}, {"SessionTypeId", st.sessionTypes}, {"StaffId", st.staffIDs}}
	for _, c := range checks {
		if n, ok := intField(appt, c.name); !ok || !c.ok[n] {
			return nil, badRequest(codeInvalidParam, "%s %v is not valid at this site.", c.name, field(appt, c.name))
		}
	}
	start, ok := st.parseLocal(stringField(appt, "StartDateTime"))
	if !ok {
		return nil, badRequest(codeInvalidParam, "StartDateTime is not a valid date and time.")
	}
	appt["StartDateTime"] = st.localTime(start)
	end := start.Add(time.Hour)
	if v := stringField(appt, "EndDateTime"); v != "" {
		if end, ok = st.parseLocal(v); !ok || !end.After(start) {
			return nil, badRequest(codeInvalidParam, "EndDateTime must be a date and time after StartDateTime.")
		}
	}
	appt["EndDateTime"] = st.localTime(end)
	appt["Duration"] = int(end.Sub(start).Minutes())
	return appt, nil
}

// handleUpdateAppointment is POST /appointment/updateappointment: the
// times, staff, session type and notes change; Execute moves the status
// (cancel, latecancel, ...).
func (s *Server) handleUpdateAppointment(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid UpdateAppointmentRequest."))
		return
	}
	id, _ := intField(in, "AppointmentId")
	old := st.appointments[id]
	if old == nil {
		writeError(w, badRequest(codeApptNotFound, "Appointment %d not found.", id))
		return
	}
	upd := map[string]any{}
	for _, p := range []string{"StartDateTime", "EndDateTime", "StaffId", "Notes", "SessionTypeId", "GenderPreference", "ProviderId", "PartnerExternalId"} {
		if has(in, p) {
			upd[p] = field(in, p)
		}
	}
	if has(in, "StartDateTime") && !has(in, "EndDateTime") {
		// Keep the duration when only the start moves.
		start, _ := st.parseLocal(stringField(old, "StartDateTime"))
		end, _ := st.parseLocal(stringField(old, "EndDateTime"))
		if newStart, ok := st.parseLocal(stringField(in, "StartDateTime")); ok {
			upd["EndDateTime"] = st.localTime(newStart.Add(end.Sub(start)))
		}
	}
	appt, e := st.checkAppointment(old, upd)
	if e != nil {
		writeError(w, e)
		return
	}
	if exec := strings.ToLower(stringField(in, "Execute")); exec != "" {
		status, ok := executeStatus[exec]
		if !ok {
			writeError(w, badRequest(codeInvalidParam, "Execute '%s' is not one of confirm, unconfirm, arrive, unarrive, cancel, latecancel, complete.", exec))
			return
		}
		appt["Status"] = status
	}
	if !boolField(in, "Test") {
		st.appointments[id] = appt
	}
	writeJSON(w, http.StatusOK, map[string]any{"Appointment": maps.Clone(appt)})
}

// handleStaffAppointments is GET /appointment/staffappointments, filtered
// by appointmentIds, clientId, staffIds, locationIds and the local dates
// startDate..endDate (default today, and endDate defaults to startDate).
func (s *Server) handleStaffAppointments(w http.ResponseWriter, r *http.Request, st *site) {
	p, e := s.pageOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	from, to, e := st.dateRange(r, s.o.Now())
	if e != nil {
		writeError(w, e)
		return
	}
	ids, clientID := query(r, "appointmentIds"), query1(r, "clientId")
	staff, locations := query(r, "staffIds"), query(r, "locationIds")
	var hits []map[string]any
	keys := slices.Sorted(maps.Keys(st.appointments))
	for _, id := range keys {
		a := st.appointments[id]
		start, _ := st.parseLocal(stringField(a, "StartDateTime"))
		sid, _ := intField(a, "StaffId")
		lid, _ := intField(a, "LocationId")
		switch {
		case len(ids) > 0 && !slices.Contains(ids, strconv.FormatInt(id, 10)):
		case clientID != "" && stringField(a, "ClientId") != clientID:
		case len(staff) > 0 && !slices.Contains(staff, strconv.FormatInt(sid, 10)):
		case len(locations) > 0 && !slices.Contains(locations, strconv.FormatInt(lid, 10)):
		case start.Before(from) || !start.Before(to):
		default:
			hits = append(hits, maps.Clone(a))
		}
	}
	lo, hi := p.slice(len(hits))
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(p.requested, p.offset, hi-lo, len(hits)), "Appointments": nonNil(hits[lo:hi])})
}

// dateRange reads request.startDate and request.endDate as local dates of
// the site: [start of startDate, end of endDate).
func (st *site) dateRange(r *http.Request, now time.Time) (time.Time, time.Time, *apiError) {
	loc, err := time.LoadLocation(st.tz)
	if err != nil {
		loc = time.UTC
	}
	day := func(t time.Time) time.Time {
		t = t.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	}
	from := day(now)
	if v := query1(r, "startDate"); v != "" {
		t, ok := st.parseLocal(v)
		if !ok {
			return time.Time{}, time.Time{}, badRequest(codeInvalidParam, "The value '%s' is not valid for StartDate.", v)
		}
		from = day(t)
	}
	to := from
	if v := query1(r, "endDate"); v != "" {
		t, ok := st.parseLocal(v)
		if !ok {
			return time.Time{}, time.Time{}, badRequest(codeInvalidParam, "The value '%s' is not valid for EndDate.", v)
		}
		to = day(t)
	}
	return from, to.AddDate(0, 0, 1), nil
}

func nonNil(in []map[string]any) []map[string]any {
	if in == nil {
		return []map[string]any{}
	}
	return in
}

// renderClass is a Class, with its visits when withVisits is set.
func (st *site) renderClass(c *class, withVisits bool) map[string]any {
	booked := 0
	for _, v := range c.visits {
		if !v.lateCancelled {
			booked++
		}
	}
	out := map[string]any{"Id": c.id, "StartDateTime": st.localTime(c.start), "EndDateTime": st.localTime(c.end),
		"MaxCapacity": c.capacity, "TotalBooked": booked, "IsAvailable": booked < c.capacity, "IsCanceled": c.cancelled,
		"Active": true, "ClassDescription": map[string]any{"Name": c.name}, "Location": map[string]any{"Id": c.location},
		"Staff": map[string]any{"Id": c.staff}, "LastModifiedDateTime": utcTime(c.modified)}
	if withVisits {
		vs := make([]map[string]any, 0, len(c.visits))
		for _, v := range c.visits {
			vs = append(vs, st.renderVisit(c, v))
		}
		out["Visits"] = vs
	}
	return out
}

func (st *site) renderVisit(c *class, v *visit) map[string]any {
	return map[string]any{"Id": v.id, "ClassId": c.id, "ClientId": v.clientID, "Name": c.name,
		"StartDateTime": st.localTime(c.start), "EndDateTime": st.localTime(c.end), "LateCancelled": v.lateCancelled,
		"LocationId": c.location, "StaffId": c.staff, "SiteId": st.id, "SignedIn": false, "WebSignup": false,
		"MakeUp": false, "AppointmentId": 0, "AppointmentStatus": "None", "LastModifiedDateTime": utcTime(v.modified)}
}

// handleClasses is GET /class/classes, filtered by classIds and the
// window startDateTime..endDateTime (default: the fake's whole schedule).
func (s *Server) handleClasses(w http.ResponseWriter, r *http.Request, st *site) {
	p, e := s.pageOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	ids := query(r, "classIds")
	var hits []map[string]any
	for _, id := range slices.Sorted(maps.Keys(st.classes)) {
		if len(ids) == 0 || slices.Contains(ids, strconv.FormatInt(id, 10)) {
			hits = append(hits, st.renderClass(st.classes[id], false))
		}
	}
	lo, hi := p.slice(len(hits))
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(p.requested, p.offset, hi-lo, len(hits)), "Classes": nonNil(hits[lo:hi])})
}

// handleClassVisits is GET /class/classvisits?classID: the class with its
// roster (visits modified on or after lastModifiedDate, when given).
func (s *Server) handleClassVisits(w http.ResponseWriter, r *http.Request, st *site) {
	id, err := strconv.ParseInt(query1(r, "classID"), 10, 64)
	c := st.classes[id]
	if err != nil || c == nil {
		writeError(w, badRequest(codeClassNotFound, "Class %s not found.", query1(r, "classID")))
		return
	}
	out := st.renderClass(c, true)
	if v := query1(r, "lastModifiedDate"); v != "" {
		since, ok := parseTime(v)
		if !ok {
			writeError(w, badRequest(codeInvalidParam, "The value '%s' is not valid for LastModifiedDate.", v))
			return
		}
		var vs []map[string]any
		for _, vis := range c.visits {
			if !vis.modified.Before(since) {
				vs = append(vs, st.renderVisit(c, vis))
			}
		}
		out["Visits"] = nonNil(vs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Class": out})
}

// handleAddClientToClass is POST /class/addclienttoclass {ClientId,
// ClassId}: a client is booked into a class once.
func (s *Server) handleAddClientToClass(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid AddClientToClassRequest."))
		return
	}
	cid, _ := intField(in, "ClassId")
	c := st.classes[cid]
	if c == nil {
		writeError(w, badRequest(codeClassNotFound, "Class %d not found.", cid))
		return
	}
	clientID := stringField(in, "ClientId")
	if cl := st.clients[clientID]; cl == nil || !cl.active() {
		writeError(w, badRequest(codeClientNotFound, "Client %s not found.", clientID))
		return
	}
	booked := 0
	for _, v := range c.visits {
		if v.clientID == clientID && !v.lateCancelled {
			writeError(w, badRequest(codeAlreadyBooked, "Client %s is already booked into class %d.", clientID, cid))
			return
		}
		if !v.lateCancelled {
			booked++
		}
	}
	if booked >= c.capacity {
		writeError(w, badRequest("ClassFull", "Class %d is full.", cid))
		return
	}
	v := &visit{id: st.nextVisit, clientID: clientID, modified: s.stamp()}
	if !boolField(in, "Test") {
		st.nextVisit++
		c.visits = append(c.visits, v)
		c.modified = v.modified
	}
	out := st.renderVisit(c, v)
	out["Action"] = "Added"
	writeJSON(w, http.StatusOK, map[string]any{"Visit": out})
}

// handleRemoveClientFromClass is POST /class/removeclientfromclass
// {ClassId, ClientId or VisitId, LateCancel}: the visit is removed, or
// kept as late-cancelled.
func (s *Server) handleRemoveClientFromClass(w http.ResponseWriter, r *http.Request, st *site) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in == nil {
		writeError(w, badRequest(codeInvalidParam, "The request body is not a valid RemoveClientFromClassRequest."))
		return
	}
	cid, _ := intField(in, "ClassId")
	c := st.classes[cid]
	if c == nil {
		writeError(w, badRequest(codeClassNotFound, "Class %d not found.", cid))
		return
	}
	visitID, _ := intField(in, "VisitId")
	clientID := stringField(in, "ClientId")
	i := slices.IndexFunc(c.visits, func(v *visit) bool {
		return !v.lateCancelled && ((visitID != 0 && v.id == visitID) || (visitID == 0 && clientID != "" && v.clientID == clientID))
	})
	if i < 0 {
		writeError(w, badRequest(codeNotBooked, "The client is not booked into class %d.", cid))
		return
	}
	if !boolField(in, "Test") {
		if boolField(in, "LateCancel") {
			c.visits[i].lateCancelled = true
			c.visits[i].modified = s.stamp()
		} else {
			c.visits = slices.Delete(c.visits, i, i+1)
		}
		c.modified = s.stamp()
	}
	writeJSON(w, http.StatusOK, map[string]any{"Class": st.renderClass(c, false)})
}

// handleClientVisits is GET /client/clientvisits?clientId: the client's
// class visits between startDate and endDate (local dates).
func (s *Server) handleClientVisits(w http.ResponseWriter, r *http.Request, st *site) {
	p, e := s.pageOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	from, to, e := st.dateRange(r, s.o.Now())
	if e != nil {
		writeError(w, e)
		return
	}
	clientID := query1(r, "clientId")
	if st.clients[clientID] == nil {
		writeError(w, badRequest(codeClientNotFound, "Client %s not found.", clientID))
		return
	}
	var hits []map[string]any
	for _, id := range slices.Sorted(maps.Keys(st.classes)) {
		c := st.classes[id]
		if c.start.Before(from) || !c.start.Before(to) {
			continue
		}
		for _, v := range c.visits {
			if v.clientID == clientID {
				hits = append(hits, st.renderVisit(c, v))
			}
		}
	}
	lo, hi := p.slice(len(hits))
	writeJSON(w, http.StatusOK, map[string]any{"PaginationResponse": pagination(p.requested, p.offset, hi-lo, len(hits)), "Visits": nonNil(hits[lo:hi])})
}

// Appointments returns the site's appointments, by id.
func (s *Server) Appointments(siteID int) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sites[siteID]
	var out []map[string]any
	for _, id := range slices.Sorted(maps.Keys(st.appointments)) {
		out = append(out, maps.Clone(st.appointments[id]))
	}
	return out
}

// ClassRoster returns the client ids booked into a class (late-cancelled
// visits marked with a "!" suffix).
func (s *Server) ClassRoster(siteID int, classID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.sites[siteID].classes[classID]
	if c == nil {
		return nil
	}
	var out []string
	for _, v := range c.visits {
		if v.lateCancelled {
			out = append(out, v.clientID+"!")
		} else {
			out = append(out, v.clientID)
		}
	}
	return out
}
