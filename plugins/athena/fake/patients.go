package fake

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// contactFields are the fields of which athenaOne needs one to register a
// patient.
var contactFields = []string{"email", "guarantoremail", "ssn", "homephone", "mobilephone", "workphone", "zip"}

// phoneFields are the patient phones anyphone matches.
var phoneFields = []string{"mobilephone", "homephone", "workphone"}

// Best-match scores, the fake's stand-in for athenaOne's scoring: the same
// last name and date of birth score 16, with the same first name 23 ("a
// good match"), and each of email, a phone and the zip that also match
// adds 3; 26 is an automatic match, which a create answers with the
// existing patient.
const (
	scoreLastDOB   = 16
	scoreNameDOB   = 23
	scoreContact   = 3
	scoreAutomatch = 26
)

// bestScore scores a stored patient against a query's fields.
func bestScore(p *patient, f map[string]string) int {
	if !strings.EqualFold(p.fields["lastname"], f["lastname"]) || p.fields["dob"] != f["dob"] || p.fields["lastname"] == "" {
		return 0
	}
	sc := scoreLastDOB
	if strings.EqualFold(p.fields["firstname"], f["firstname"]) {
		sc = scoreNameDOB
	}
	if e := f["email"]; e != "" && strings.EqualFold(e, p.fields["email"]) {
		sc += scoreContact
	}
	if slices.ContainsFunc(phoneFields, func(k string) bool {
		d := digits(f[k])
		return d != "" && slices.ContainsFunc(phoneFields, func(pk string) bool { return digits(p.fields[pk]) == d })
	}) {
		sc += scoreContact
	}
	if z := f["zip"]; len(z) >= 5 && len(p.fields["zip"]) >= 5 && z[:5] == p.fields["zip"][:5] {
		sc += scoreContact
	}
	return sc
}

// formFields are a write's form fields, first values.
func formFields(r *http.Request) map[string]string {
	_ = r.ParseForm()
	out := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

// handleCreatePatient is POST /patients: firstname, lastname, dob and
// departmentid required, and one of the contact fields. athenaOne runs its
// best match first and answers an existing patient's id when the match is
// automatic, unless bypasspatientmatching=true. Answer: [{"patientid",
// "errormessage"}].
func (s *Server) handleCreatePatient(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	f := formFields(r)
	var lacking []string
	for _, k := range []string{"firstname", "lastname", "dob", "departmentid"} {
		if f[k] == "" {
			lacking = append(lacking, k)
		}
	}
	if len(lacking) > 0 {
		missing(w, lacking...)
		return
	}
	if !slices.ContainsFunc(contactFields, func(k string) bool { return f[k] != "" }) {
		fail(w, http.StatusBadRequest, "Additional fields are required.", "One of email, guarantoremail, ssn, homephone, mobilephone, workphone or zip is required.")
		return
	}
	if !slices.Contains(departments, f["departmentid"]) {
		fail(w, http.StatusBadRequest, "The department ID is invalid.", "")
		return
	}
	bypass := f["bypasspatientmatching"] == "true"
	delete(f, "bypasspatientmatching")
	status := statusName(f["status"])
	delete(f, "status")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now().Truncate(time.Second)
	if !bypass {
		for _, c := range p.sortedPatients() {
			if c.status != "deleted" && bestScore(c, f) >= scoreAutomatch {
				writeJSON(w, http.StatusOK, []any{map[string]string{"patientid": c.id, "errormessage": ""}})
				return
			}
		}
	}
	id := s.newID(&s.nextID)
	p.patients[id] = &patient{id: id, fields: f, status: status, created: now, updated: now}
	p.feeds["patients"].add(id, now)
	writeJSON(w, http.StatusOK, []any{map[string]string{"patientid": id, "errormessage": ""}})
}

func statusName(s string) string {
	if s == "" {
		return "active"
	}
	if long, ok := statusNames[s]; ok {
		return long
	}
	return s
}

// handleUpdatePatient is PUT /patients/{patientid}: a partial form; an
// empty value clears a field. Answer: [{"patientid"}].
func (s *Server) handleUpdatePatient(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	f := formFields(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := p.patients[r.PathValue("patientid")]
	if pt == nil || pt.status == "deleted" {
		fail(w, http.StatusNotFound, "The patient ID is invalid.", "")
		return
	}
	if len(f) == 0 {
		fail(w, http.StatusBadRequest, "No fields were given to update.", "")
		return
	}
	if d, ok := f["departmentid"]; ok && !slices.Contains(departments, d) {
		fail(w, http.StatusBadRequest, "The department ID is invalid.", "")
		return
	}
	for k, v := range f {
		switch {
		case k == "status" && v != "":
			pt.status = statusName(v)
		case v == "":
			delete(pt.fields, k)
		default:
			pt.fields[k] = v
		}
	}
	now := s.o.Now().Truncate(time.Second)
	pt.updated = now
	p.feeds["patients"].add(pt.id, now)
	writeJSON(w, http.StatusOK, []any{map[string]string{"patientid": pt.id}})
}

// handleGetPatient is GET /patients/{patientid}: a one-element array.
func (s *Server) handleGetPatient(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := p.patients[r.PathValue("patientid")]
	if pt == nil {
		fail(w, http.StatusNotFound, "The patient ID is invalid.", "")
		return
	}
	writeJSON(w, http.StatusOK, []any{pt.json()})
}

// patientCriteria are the GET /patients parameters that select patients.
var patientCriteria = []string{"firstname", "lastname", "dob", "anyphone", "homephone", "mobilephone", "workphone", "email", "zip", "departmentid", "status"}

// handleListPatients is GET /patients: at least one criterion, all of them
// matching (names and email regardless of case, phones by their digits,
// anyphone against the mobile, home and work phones), deleted patients
// only when status=deleted asks for them. Answer: {"patients",
// "totalcount", "next", "previous"}, paged with limit and offset.
func (s *Server) handleListPatients(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	q := r.URL.Query()
	if !slices.ContainsFunc(patientCriteria, func(k string) bool { return q.Get(k) != "" }) {
		fail(w, http.StatusBadRequest, "At least one search criterion is required.", "")
		return
	}
	s.mu.Lock()
	var items []any
	for _, pt := range p.sortedPatients() {
		if matches(pt, q.Get) {
			items = append(items, pt.json())
		}
	}
	s.mu.Unlock()
	limit, offset := s.limitOffset(q)
	page(w, r, "patients", items, limit, offset)
}

func matches(pt *patient, get func(string) string) bool {
	if st := get("status"); st != "" && st != pt.status || st == "" && pt.status == "deleted" {
		return false
	}
	for _, k := range []string{"firstname", "lastname", "email", "dob", "departmentid"} {
		if v := get(k); v != "" && !strings.EqualFold(v, pt.fields[k]) {
			return false
		}
	}
	for _, k := range phoneFields {
		if v := get(k); v != "" && digits(v) != digits(pt.fields[k]) {
			return false
		}
	}
	if v := get("anyphone"); v != "" && !slices.ContainsFunc(phoneFields, func(k string) bool { return digits(pt.fields[k]) == digits(v) }) {
		return false
	}
	if z := get("zip"); z != "" && !strings.HasPrefix(pt.fields["zip"], z[:min(5, len(z))]) {
		return false
	}
	return true
}

// handleBestMatch is GET /patients/enhancedbestmatch: first name, last
// name and date of birth required; the answer is a list of patients with
// their "score": the five best scoring 16 or more with
// returnbestmatches=true, else the best one scoring at least minscore
// (default 23).
func (s *Server) handleBestMatch(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	q := r.URL.Query()
	f := map[string]string{}
	for k := range q {
		f[k] = q.Get(k)
	}
	s.mu.Lock()
	type scored struct {
		p  *patient
		sc int
	}
	var all []scored
	for _, pt := range p.sortedPatients() {
		if sc := bestScore(pt, f); sc > 0 && pt.status != "deleted" {
			all = append(all, scored{pt, sc})
		}
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(b.sc, a.sc) })
	minScore, n := scoreNameDOB, 1
	if q.Get("returnbestmatches") == "true" {
		minScore, n = scoreLastDOB, 5
	} else if m, err := strconv.ParseFloat(q.Get("minscore"), 64); err == nil {
		minScore = int(m)
	}
	out := []any{}
	for _, a := range all {
		if a.sc >= minScore && len(out) < n {
			j := a.p.json()
			j["score"] = strconv.Itoa(a.sc)
			out = append(out, j)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleCreateCase is POST /patients/{patientid}/documents/patientcase:
// departmentid, documentsource and documentsubclass required. Answer:
// {"success": true, "patientcaseid": n}.
func (s *Server) handleCreateCase(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	f := formFields(r)
	var lacking []string
	for _, k := range []string{"departmentid", "documentsource", "documentsubclass"} {
		if f[k] == "" {
			lacking = append(lacking, k)
		}
	}
	if len(lacking) > 0 {
		missing(w, lacking...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := p.patients[r.PathValue("patientid")]
	if pt == nil || pt.status == "deleted" {
		fail(w, http.StatusNotFound, "The patient ID is invalid.", "")
		return
	}
	id := s.newID(&s.nextID)
	p.cases = append(p.cases, &patientCase{id: id, patient: pt.id, fields: f, created: s.o.Now().Truncate(time.Second)})
	n, _ := strconv.Atoi(id)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "patientcaseid": n})
}

// handleListCases is GET /patients/{patientid}/documents/patientcase
// (departmentid required): {"patientcases": [...], "totalcount": n}.
func (s *Server) handleListCases(w http.ResponseWriter, r *http.Request) {
	p := practiceOf(r)
	id := r.PathValue("patientid")
	s.mu.Lock()
	var items []any
	for _, c := range p.cases {
		if c.patient == id && (r.URL.Query().Get("departmentid") == c.fields["departmentid"]) {
			items = append(items, c.json())
		}
	}
	s.mu.Unlock()
	page(w, r, "patientcases", items, maxPage, 0)
}

func digits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func itoa(n int) string { return strconv.Itoa(n) }
