package athena

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// pageMax is the largest page athenaOne answers (limit; the default is
// 1500).
const pageMax = 5000

// lookupLimit bounds the candidates a lookup considers.
const lookupLimit = 100

// showFlags are the GET parameters that make athenaOne include a part of
// the patient record a read mapping may need.
var showFlags = map[string]string{
	"insurances": "showinsurance", "customfields": "showcustomfields", "portalstatus": "showportalstatus",
	"localpatientid": "showlocalpatientid", "allpatientdepartmentstatus": "showallpatientdepartmentstatus",
}

// readQuery adds to q the show flags the requested fields need (a nested
// path asks for its first segment).
func readQuery(q url.Values, fields []string) url.Values {
	if q == nil {
		q = url.Values{}
	}
	for _, f := range fields {
		f, _, _ = strings.Cut(f, ".")
		if flag, ok := showFlags[f]; ok {
			q.Set(flag, "true")
		}
	}
	return q
}

// patientList is athenaOne's paged list: {"patients": [...], "totalcount":
// n, "next": "/…?offset=…"}.
type patientList struct {
	Patients   []map[string]any `json:"patients"`
	TotalCount int              `json:"totalcount"`
	Next       string           `json:"next"`
}

// listPatients runs GET /patients with criteria q, paging with offset until
// limit patients, and leaves deleted patients out.
func (s *session) listPatients(ctx context.Context, q url.Values, limit int) ([]map[string]any, error) {
	var out []map[string]any
	for offset := 0; len(out) < limit; {
		pq := cloneValues(q)
		pq.Set("limit", strconv.Itoa(min(pageMax, limit-len(out))))
		pq.Set("offset", strconv.Itoa(offset))
		var page patientList
		if err := s.do(ctx, call{path: "/patients", query: pq}, &page); err != nil {
			return nil, err
		}
		for _, p := range page.Patients {
			if !deleted(p) && len(out) < limit {
				out = append(out, p)
			}
		}
		offset += len(page.Patients)
		if page.Next == "" || len(page.Patients) == 0 || offset >= page.TotalCount {
			break
		}
	}
	return out, nil
}

// getPatient reads one patient (GET /patients/{id}, which answers a
// one-element array). A missing or deleted patient, or an id that is not a
// number, is nil without an error.
func (s *session) getPatient(ctx context.Context, id string, fields []string) (map[string]any, error) {
	if !numericID.MatchString(id) {
		return nil, nil
	}
	var rows []map[string]any
	err := s.do(ctx, call{path: provider.Path("patients", id), query: readQuery(nil, fields)}, &rows)
	if sdk.CodeOf(err) == sdk.CodeNotFound {
		return nil, nil
	}
	if err != nil || len(rows) == 0 || deleted(rows[0]) {
		return nil, err
	}
	return rows[0], nil
}

// phoneFields are the patient fields a phone lookup matches, as
// athenaOne's anyphone search does.
var phoneFields = []string{"mobilephone", "homephone", "workphone"}

// LookupCustomer finds a patient by phone (preferred), email or patient id,
// in the objects q.Objects names (only patients support lookup; the sdk
// checks), reading the fields q.Fields asks for besides the record.
//
// Phone: GET /patients?anyphone=<ten digits> (athenaOne stores North
// American numbers; another country's number matches nobody), keeping the
// candidates whose mobile, home or work phone is the same number. Email:
// GET /patients?email=, compared case-insensitively. Id: GET
// /patients/{id}. Deleted patients never match. Several matches answer
// the most recently updated (lastupdated) and the count. Errors:
// CodeInvalid (config, an unparseable phone), CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) LookupCustomer(ctx context.Context, conn sdk.Connection, q sdk.LookupQuery) (sdk.LookupResult, error) {
	objects := q.Objects
	if len(objects) == 0 {
		objects = []string{objPatients}
	}
	phone, email, id := strings.TrimSpace(q.Phone), strings.TrimSpace(q.Email), strings.TrimSpace(q.ExternalID)
	var e164 string
	switch {
	case phone != "":
		var err error
		if e164, err = sdk.NormalizePhone(phone, region(conn)); err != nil {
			return sdk.LookupResult{}, err
		}
	case email == "" && id == "":
		return sdk.LookupResult{}, sdk.Invalid("phone", "one of phone, email or external_id is required")
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.LookupResult{}, err
	}
	for _, name := range objects {
		o, err := lookupObject(name)
		if err != nil {
			return sdk.LookupResult{}, err
		}
		if o.name != objPatients {
			return sdk.LookupResult{}, unsupported(o, sdk.VerbLookupCustomer)
		}
		var rows []map[string]any
		switch {
		case e164 != "":
			rows, err = s.byPhone(ctx, e164, q.Fields)
		case email != "":
			rows, err = s.byEmail(ctx, email, q.Fields)
		default:
			var p map[string]any
			if p, err = s.getPatient(ctx, id, q.Fields); p != nil {
				rows = []map[string]any{p}
			}
		}
		if err != nil {
			return sdk.LookupResult{}, err
		}
		if len(rows) > 0 {
			recs := make([]sdk.Record, 0, len(rows))
			for _, r := range rows {
				recs = append(recs, s.toRecord(o, r))
			}
			best, n := sdk.MostRecent(recs)
			return sdk.LookupResult{Customer: best, MatchCount: n}, nil
		}
	}
	return sdk.LookupResult{}, nil
}

func (s *session) byPhone(ctx context.Context, e164 string, fields []string) ([]map[string]any, error) {
	if !strings.HasPrefix(e164, "+1") || len(e164) != 12 {
		return nil, nil // athenaOne stores North American numbers only
	}
	rows, err := s.listPatients(ctx, readQuery(url.Values{"anyphone": {e164[2:]}}, fields), lookupLimit)
	if err != nil {
		return nil, err
	}
	// athenaOne's stored numbers are North American: read them as such.
	return slices.DeleteFunc(rows, func(p map[string]any) bool {
		return !slices.ContainsFunc(phoneFields, func(f string) bool {
			v := str(p[f])
			return v != "" && sdk.SamePhone(v, e164, "US")
		})
	}), nil
}

func (s *session) byEmail(ctx context.Context, email string, fields []string) ([]map[string]any, error) {
	rows, err := s.listPatients(ctx, readQuery(url.Values{"email": {strings.ToLower(email)}}, fields), lookupLimit)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(rows, func(p map[string]any) bool { return !sdk.SameEmail(str(p["email"]), email) }), nil
}

// searchPatients runs athenaOne's patient searches, chosen by the query's
// shape: an email (GET /patients?email=), "first last MM/DD/YYYY"
// (/patients/enhancedbestmatch, best score first), a phone number of ten
// or more digits (anyphone), a shorter number (a patient id), else a name
// (one word: last name; more: first name and last name). Errors:
// CodeInvalid naming "query" when it is empty.
func (s *session) searchPatients(ctx context.Context, o objectType, q sdk.SearchQuery) ([]sdk.Record, error) {
	query := strings.Join(strings.Fields(q.Query), " ")
	words := strings.Fields(query)
	var rows []map[string]any
	var err error
	switch {
	case query == "":
		return nil, sdk.Invalid("query", "is required: an email, a phone number, a patient id, a name, or \"first last MM/DD/YYYY\"")
	case strings.Contains(query, "@"):
		rows, err = s.byEmail(ctx, query, q.Fields)
	case len(words) >= 3 && isDate(words[len(words)-1]):
		rows, err = s.bestMatch(ctx, words, q.Fields)
	case digitCount(query) >= 10:
		e164, perr := sdk.NormalizePhone(query, region(s.conn))
		if perr != nil {
			return nil, sdk.Invalid("query", "%q looks like a phone number but is not one", query)
		}
		rows, err = s.byPhone(ctx, e164, q.Fields)
	case numericID.MatchString(query):
		var p map[string]any
		if p, err = s.getPatient(ctx, query, q.Fields); p != nil {
			rows = []map[string]any{p}
		}
	default:
		c := url.Values{"lastname": {words[len(words)-1]}}
		if len(words) > 1 {
			c.Set("firstname", words[0])
			c.Set("lastname", strings.Join(words[1:], " "))
		}
		rows, err = s.listPatients(ctx, readQuery(c, q.Fields), q.Limit)
	}
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Record, 0, min(len(rows), q.Limit))
	for _, r := range rows {
		if len(out) < q.Limit {
			out = append(out, s.toRecord(o, r))
		}
	}
	return out, nil
}

// bestMatch asks GET /patients/enhancedbestmatch (first name, last name
// and date of birth required; the top matches returned) and orders the
// answer by athenaOne's score, best first.
func (s *session) bestMatch(ctx context.Context, words []string, fields []string) ([]map[string]any, error) {
	dob, _ := writeValue(field{kind: kDate}, words[len(words)-1], "US")
	q := readQuery(url.Values{"firstname": {words[0]}, "lastname": {strings.Join(words[1:len(words)-1], " ")},
		"dob": {dob}, "returnbestmatches": {"true"}}, fields)
	var rows []map[string]any
	if err := s.do(ctx, call{path: "/patients/enhancedbestmatch", query: q}, &rows); err != nil {
		return nil, err
	}
	rows = slices.DeleteFunc(rows, deleted)
	slices.SortStableFunc(rows, func(a, b map[string]any) int { return cmp.Compare(score(b), score(a)) })
	return rows, nil
}

func score(p map[string]any) float64 {
	f, _ := strconv.ParseFloat(str(p["score"]), 64)
	return f
}

func isDate(s string) bool {
	for _, l := range dateLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return true
		}
	}
	return false
}

func digitCount(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// createPatient registers a patient: POST /patients with the form, the
// connection's department when the fields name none. athenaOne runs its
// best match first and answers the existing patient's id when it finds one
// (the driver never sets bypasspatientmatching), so a retried create,
// whether its first answer was lost or not, lands on the same patient: the
// create's idempotency. athenaOne answers [{"patientid": "…"}].
func (s *session) createPatient(ctx context.Context, o objectType, in sdk.CreateInput) (sdk.CreateResult, error) {
	fields := withDepartment(in.Fields, s.conn)
	form, err := formOf(o, fields, true, region(s.conn))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if err := requireFields(o, form, contactFields); err != nil {
		return sdk.CreateResult{}, err
	}
	var rows []map[string]any
	if err := s.do(ctx, call{method: http.MethodPost, path: "/patients", form: form}, &rows); err != nil {
		return sdk.CreateResult{}, err
	}
	id := ""
	if len(rows) > 0 {
		id = str(rows[0]["patientid"])
	}
	if id == "" {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "athenahealth accepted the patient but answered no patientid")
	}
	return sdk.CreateResult{ExternalID: id, RecordURL: s.recordURL("patients", id)}, nil
}

// contactFields are the fields of which athenaOne needs one to create a
// patient.
var contactFields = []string{"email", "guarantoremail", "ssn", "homephone", "mobilephone", "workphone", "zip"}

// requireFields checks a create's form has the object's required fields
// and, when anyOf is given, one of them. Errors: CodeInvalid naming the
// first missing field.
func requireFields(o objectType, form url.Values, anyOf []string) error {
	for _, f := range fieldsOf(o.name) {
		if f.req && form.Get(f.name) == "" {
			return sdk.Invalid("fields."+f.name, "is required to create %s", o.name)
		}
	}
	if len(anyOf) > 0 && !slices.ContainsFunc(anyOf, func(f string) bool { return form.Get(f) != "" }) {
		return sdk.Invalid("fields."+anyOf[0], "athenaOne needs one of %s to create a patient", strings.Join(anyOf, ", "))
	}
	return nil
}

// withDepartment adds the connection's department to fields that name
// none.
func withDepartment(fields map[string]any, conn sdk.Connection) map[string]any {
	if _, ok := fields["departmentid"]; ok {
		return fields
	}
	dep := strings.TrimSpace(conn.Config[configDepartmentID])
	if dep == "" {
		return fields
	}
	out := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		out[k] = v
	}
	out["departmentid"] = dep
	return out
}

// updatePatient changes only the given fields: PUT /patients/{id} with a
// partial form (an empty value clears a field). A missing patient is
// CodeNotFound.
func (s *session) updatePatient(ctx context.Context, o objectType, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	form, err := formOf(o, in.Fields, false, region(s.conn))
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if len(form) == 0 {
		return sdk.UpdateResult{}, sdk.Invalid("fields", "are required: give at least one patient field to change")
	}
	if !numericID.MatchString(in.ExternalID) {
		return sdk.UpdateResult{}, sdk.Errorf(sdk.CodeNotFound, "athenaOne has no patient %q (patient ids are numbers)", in.ExternalID)
	}
	if err := s.do(ctx, call{method: http.MethodPut, path: provider.Path("patients", in.ExternalID), form: form}, nil); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true, RecordURL: s.recordURL("patients", in.ExternalID)}, nil
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q)+2)
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}
