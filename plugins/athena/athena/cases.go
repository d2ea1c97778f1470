package athena

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// refMarker tags a patient case with the idempotency key of the create
// that wrote it; athenaOne has no idempotency key of its own.
func refMarker(key string) string { return "[crmhost ref " + key + "]" }

// caseDefaults fills a patient case's department, source and subclass
// from the connection when the fields give none.
func caseDefaults(fields map[string]any, conn sdk.Connection) map[string]any {
	out := make(map[string]any, len(fields)+3)
	for k, v := range fields {
		out[k] = v
	}
	for f, key := range map[string]string{"departmentid": configDepartmentID, "documentsource": configCaseSource, "documentsubclass": configCaseSubclass} {
		if _, ok := out[f]; !ok {
			if v := strings.TrimSpace(conn.Config[key]); v != "" {
				out[f] = v
			}
		}
	}
	return out
}

// createCase writes a conversation as a patient case: POST
// /patients/{patientid}/documents/patientcase (department, source and
// subclass required; the connection's defaults fill them), athenaOne
// answers {"success": true, "patientcaseid": n}. With an idempotency key,
// the key is appended to the internal note as "[crmhost ref <key>]" and
// the patient's cases are read first: a case carrying it is the one a
// previous attempt wrote. Errors: CodeInvalid naming the missing field
// (documentsubclass: set the connection's patientcase_subclass), CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (s *session) createCase(ctx context.Context, o objectType, in sdk.CreateInput) (sdk.CreateResult, error) {
	form, err := formOf(o, caseDefaults(in.Fields, s.conn), true, region(s.conn))
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if form.Get("documentsubclass") == "" {
		return sdk.CreateResult{}, sdk.Invalid("fields.documentsubclass", "athenaOne files a patient case under a subclass the practice configures: give documentsubclass, or set the connection's %s", configCaseSubclass)
	}
	if form.Get("documentsource") == "" {
		return sdk.CreateResult{}, sdk.Invalid("fields.documentsource", "athenaOne needs the patient case's source (such as PATIENT): give documentsource, or set the connection's %s", configCaseSource)
	}
	if err := requireFields(o, form, nil); err != nil {
		return sdk.CreateResult{}, err
	}
	patient := form.Get("patientid")
	form.Del("patientid")
	if in.IdempotencyKey != "" {
		marker := refMarker(in.IdempotencyKey)
		cases, err := s.listCases(ctx, patient, form.Get("departmentid"))
		if err != nil {
			return sdk.CreateResult{}, err
		}
		for _, c := range cases {
			if strings.Contains(str(c["internalnote"]), marker) {
				id := str(c["patientcaseid"])
				return sdk.CreateResult{ExternalID: id, RecordURL: s.recordURL("patients", patient, "documents", "patientcase", id)}, nil
			}
		}
		form.Set("internalnote", strings.TrimSpace(form.Get("internalnote")+" "+marker))
	}
	var resp struct {
		PatientCaseID any `json:"patientcaseid"`
	}
	path := provider.Path("patients", patient, "documents", "patientcase")
	if err := s.do(ctx, call{method: http.MethodPost, path: path, form: form}, &resp); err != nil {
		return sdk.CreateResult{}, err
	}
	id := str(resp.PatientCaseID)
	if id == "" {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "athenahealth accepted the patient case but answered no patientcaseid")
	}
	return sdk.CreateResult{ExternalID: id, RecordURL: s.recordURL("patients", patient, "documents", "patientcase", id)}, nil
}

// listCases reads a patient's patient cases (GET
// /patients/{patientid}/documents/patientcase?departmentid=). athenaOne's
// answer is read as a list, or as an object holding one.
func (s *session) listCases(ctx context.Context, patient, department string) ([]map[string]any, error) {
	var raw json.RawMessage
	q := url.Values{"departmentid": {department}}
	if err := s.do(ctx, call{path: provider.Path("patients", patient, "documents", "patientcase"), query: q}, &raw); err != nil {
		return nil, err
	}
	var list []map[string]any
	if json.Unmarshal(raw, &list) == nil {
		return list, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "athenahealth answered the patient case list with JSON of an unexpected shape")
	}
	for _, v := range obj {
		if bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) && json.Unmarshal(v, &list) == nil {
			return list, nil
		}
	}
	return nil, nil
}

// searchCases lists a patient's cases: the query is the patient id.
func (s *session) searchCases(ctx context.Context, o objectType, q sdk.SearchQuery) ([]sdk.Record, error) {
	patient := strings.TrimSpace(q.Query)
	if !numericID.MatchString(patient) {
		return nil, sdk.Invalid("query", "%q is not a patient id: patient cases are searched by their patient", q.Query)
	}
	dep := strings.TrimSpace(s.conn.Config[configDepartmentID])
	rows, err := s.listCases(ctx, patient, dep)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Record, 0, min(len(rows), q.Limit))
	for _, r := range rows {
		if len(out) == q.Limit {
			break
		}
		if str(r["patientid"]) == "" {
			r["patientid"] = patient
		}
		out = append(out, s.toRecord(o, r))
	}
	return out, nil
}
