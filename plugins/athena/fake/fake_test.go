package fake_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk/providertest"
	"github.com/google/go-cmp/cmp"
)

// TestSpecValidation: requests off athenaOne's documented shapes are
// reported and refused (400, or 404 for an operation athenaOne does not
// have), naming what is wrong; documented requests pass unreported.
func TestSpecValidation(t *testing.T) {
	srv, rep := started(t, fake.Options{})
	tok := token(srv)
	for _, tc := range []struct {
		name, method, path string
		form               url.Values
		status             int
		report             string // "" when the request is documented
	}{
		{"documented search", "GET", api("/patients?anyphone=6175550100&limit=10"), nil, 200, ""},
		{"ISO date where athenaOne takes MM/DD/YYYY", "GET", api("/patients?dob=1906-12-09"), nil, 400, `parameter "dob"`},
		{"undocumented query parameter", "GET", api("/patients?lastname=Hopper&phone=6175550100"), nil, 400, "phone are not documented"},
		{"phone written with punctuation", "GET", api("/patients?anyphone=%28617%29+555-0100"), nil, 400, `parameter "anyphone"`},
		{"patient id that is not a number", "GET", api("/patients/abc"), nil, 400, `parameter "patientid"`},
		{"create without a last name", "POST", api("/patients"), url.Values{"firstname": {"Grace"}, "dob": {"12/09/1906"}, "departmentid": {"1"}, "zip": {"02139"}}, 400, "lastname"},
		{"create with a field athenaOne does not have", "POST", api("/patients"), func() url.Values { f := patientForm(1); f.Set("nickname", "Amazing"); return f }(), 400, "nickname"},
		{"last name over athenaOne's 30 characters", "PUT", api("/patients/1001"), url.Values{"lastname": {strings.Repeat("x", 31)}}, 400, "lastname"},
		{"booking without a patient", "PUT", api("/appointments/2200001"), url.Values{"reasonid": {"-1"}}, 400, "patientid"},
		{"open slots without a department", "GET", api("/appointments/open"), nil, 400, `parameter "departmentid"`},
		{"booked appointments without dates", "GET", api("/appointments/booked?patientid=1001"), nil, 400, `parameter "startdate"`},
		{"feed window in ISO time", "GET", api("/patients/changed?showprocessedstartdatetime=2026-03-02T10:00:00Z"), nil, 400, "showprocessedstartdatetime"},
		{"operation athenaOne does not have", "DELETE", api("/patients/1001"), nil, 404, "not an operation"},
		{"token request without client authentication", "POST", "/oauth2/v1/token", url.Values{"grant_type": {"client_credentials"}, "scope": {fake.Scope}}, 400, "Authorization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rep.all())
			a := call(t, srv, tc.method, tc.path, tok, tc.form)
			got := rep.all()[before:]
			if a.status != tc.status {
				t.Errorf("status %d (%s), want %d", a.status, a.body, tc.status)
			}
			switch {
			case tc.report == "" && len(got) > 0:
				t.Errorf("a documented request was reported: %v", got)
			case tc.report != "" && (len(got) != 1 || !strings.Contains(got[0], tc.report)):
				t.Errorf("reports %q, want one naming %q", got, tc.report)
			}
		})
	}
}

// TestThirdPartySpec: the third-party OpenAPI is consulted for the
// operations it describes (a copy that requires a field on PUT
// /patients/{id} refuses an update without it, naming that OpenAPI), and a
// relaxation that no longer finds its defect is an error.
func TestThirdPartySpec(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(specDir(t), "athenaone-rest.thirdparty-openapi.yml"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, content string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "athenaone-rest.thirdparty-openapi.yml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(fake.SpecsDirEnv, dir)
	}
	t.Run("consulted", func(t *testing.T) {
		stricter := strings.Replace(string(src), "    PatientUpdate:\n      type: object\n", "    PatientUpdate:\n      type: object\n      required: [middlename]\n", 1)
		if stricter == string(src) {
			t.Fatal("the third-party OpenAPI's PatientUpdate changed; adjust the test")
		}
		write(t, stricter)
		srv, rep := started(t, fake.Options{})
		id := createPatient(t, srv, patientForm(1))
		a := call(t, srv, http.MethodPut, api("/patients/"+id), token(srv), url.Values{"city": {"Arlington"}})
		if got := rep.all(); a.status != http.StatusBadRequest || len(got) != 1 || !strings.Contains(got[0], "third-party OpenAPI") {
			t.Errorf("update: %d %s, reports %q; want 400 reported against the third-party OpenAPI", a.status, a.body, got)
		}
	})
	t.Run("stale relaxation", func(t *testing.T) {
		write(t, strings.ReplaceAll(string(src), "dob:", "birthdate:"))
		_, err := fake.StartWith(fake.Options{Strict: true}, t.Errorf, true)
		if err == nil || !strings.Contains(err.Error(), "relax") {
			t.Errorf("start = %v, want an error naming the relaxation that found nothing", err)
		}
	})
}

// specDir is the athenahealth specs folder of the repository.
func specDir(t *testing.T) string {
	t.Helper()
	dir, err := providertest.Locate("athenahealth", "athenaone-rest.thirdparty-openapi.yml")
	switch {
	case errors.Is(err, providertest.ErrNoSpecs) && !providertest.InCI():
		t.Skipf("athenahealth specs not found, and this test checks the validation against them: %v", err)
	case err != nil:
		t.Fatal(err)
	}
	return dir
}

// TestAuthentication: athenahealth's answers to a missing token, a bad or
// expired one, an unknown practice and one that has not granted the app.
func TestAuthentication(t *testing.T) {
	clk := newClock()
	srv, _ := started(t, fake.Options{Now: clk.Now})
	tok := token(srv)
	for _, tc := range []struct {
		name, path, token string
		status            int
		body              string
		wwwAuth           bool
	}{
		{"no token", api("/ping"), "", 401, "Developer Inactive", false},
		{"unknown token", api("/ping"), "nope", 401, "", true},
		{"unknown practice", "/v1/424242/ping", tok, 404, `"error":"Invalid practice."`, false},
		{"practice that has not granted the app", "/v1/" + fake.PracticeUngranted + "/ping", tok, 401, `"error":"Incorrect permissions."`, false},
		{"granted practice", api("/ping"), tok, 200, `{"pong":"true"}`, false},
		{"other granted practice", "/v1/" + fake.PracticeB + "/ping", tok, 200, `{"pong":"true"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, srv, http.MethodGet, tc.path, tc.token, nil)
			if a.status != tc.status || !strings.Contains(a.body, tc.body) || (tc.body == "" && a.body != "") {
				t.Errorf("%d %q, want %d with %q", a.status, a.body, tc.status, tc.body)
			}
			if got := a.header.Get("WWW-Authenticate") != ""; got != tc.wwwAuth {
				t.Errorf("WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
			}
		})
	}
	clk.Advance(time.Hour)
	if a := call(t, srv, http.MethodGet, api("/ping"), tok, nil); a.status != http.StatusUnauthorized {
		t.Errorf("a token an hour old: %d %s, want 401", a.status, a.body)
	}
}

// TestTokenEndpoint: the client-credentials grant with Basic client
// authentication; refused clients, grants and scopes; the per-minute limit
// answering 429 until the minute ends.
func TestTokenEndpoint(t *testing.T) {
	clk := newClock()
	srv, _ := started(t, fake.Options{Now: clk.Now, TokenLimit: 2})
	grant := url.Values{"grant_type": {"client_credentials"}, "scope": {fake.Scope}}
	ask := func(id, secret string, form url.Values) answer {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/oauth2/v1/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	}
	a := ask(fake.DefaultClientID, fake.DefaultClientSecret, grant)
	body, _ := a.json(t).(map[string]any)
	if a.status != 200 || body["token_type"] != "Bearer" || body["expires_in"] != "3600" || body["scope"] != fake.Scope {
		t.Fatalf("token: %d %s", a.status, a.body)
	}
	if p := call(t, srv, http.MethodGet, api("/ping"), body["access_token"].(string), nil); p.status != 200 {
		t.Errorf("the issued token: %d %s", p.status, p.body)
	}
	for name, tc := range map[string]struct {
		id, secret string
		form       url.Values
		status     int
		err        string
	}{
		"wrong secret":   {fake.DefaultClientID, "wrong", grant, 401, "invalid_client"},
		"unknown client": {"someone", fake.DefaultClientSecret, grant, 401, "invalid_client"},
		"wrong scope":    {fake.DefaultClientID, fake.DefaultClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, 400, "invalid_scope"},
	} {
		if a := ask(tc.id, tc.secret, tc.form); a.status != tc.status || !strings.Contains(a.body, tc.err) {
			t.Errorf("%s: %d %s, want %d %s", name, a.status, a.body, tc.status, tc.err)
		}
	}
	if a := ask(fake.DefaultClientID, fake.DefaultClientSecret, grant); a.status != 200 {
		t.Fatalf("second token of the minute: %d %s", a.status, a.body)
	}
	if a := ask(fake.DefaultClientID, fake.DefaultClientSecret, grant); a.status != http.StatusTooManyRequests {
		t.Errorf("third token of the minute (limit 2): %d %s, want 429", a.status, a.body)
	}
	if got := srv.TokensIssued(); got != 2 {
		t.Errorf("TokensIssued = %d, want 2", got)
	}
	clk.Advance(time.Minute)
	if a := ask(fake.DefaultClientID, fake.DefaultClientSecret, grant); a.status != 200 {
		t.Errorf("the next minute: %d %s", a.status, a.body)
	}
}

// TestPatients: creates answer [{"patientid"}] after the best match; reads
// answer one-element arrays with lastupdated in US Eastern; searches need
// a criterion, match phones by digits and emails regardless of case, and
// page with totalcount and next.
func TestPatients(t *testing.T) {
	clk := newClock()
	srv, rep := started(t, fake.Options{Now: clk.Now, PageSize: 2})
	tok := token(srv)
	id := createPatient(t, srv, patientForm(1))
	if again := createPatient(t, srv, patientForm(1)); again != id {
		t.Errorf("the same patient again = %s, want the best match %s", again, id)
	}
	bypass := patientForm(1)
	bypass.Set("bypasspatientmatching", "true")
	if other := createPatient(t, srv, bypass); other == id {
		t.Errorf("bypasspatientmatching answered the existing patient")
	}
	a := call(t, srv, http.MethodGet, api("/patients/"+id), tok, nil)
	rows, _ := a.json(t).([]any)
	if len(rows) != 1 {
		t.Fatalf("GET /patients/%s = %s, want a one-element array", id, a.body)
	}
	p := rows[0].(map[string]any)
	if p["lastupdated"] != "03/02/2026 10:00:00" || p["status"] != "active" || p["patientid"] != id {
		t.Errorf("patient = %v; want lastupdated 03/02/2026 10:00:00 (15:00 UTC in US Eastern), active", p)
	}
	for _, tc := range []struct {
		name, query string
		want        int
	}{
		{"any phone", "anyphone=6175550001", 2},
		{"email regardless of case", "email=GRACE1@EXAMPLE.COM", 2},
		{"first and last name", "firstname=grace1&lastname=HOPPER", 2},
		{"nobody", "anyphone=6175559999", 0},
	} {
		a := call(t, srv, http.MethodGet, api("/patients?"+tc.query), tok, nil)
		body, _ := a.json(t).(map[string]any)
		if got, _ := body["totalcount"].(float64); a.status != 200 || int(got) != tc.want {
			t.Errorf("%s: %d %s, want totalcount %d", tc.name, a.status, a.body, tc.want)
		}
	}
	if a := call(t, srv, http.MethodGet, api("/patients?limit=5"), tok, nil); a.status != 400 {
		t.Errorf("search without a criterion: %d %s, want 400", a.status, a.body)
	}
	createPatient(t, srv, func() url.Values { f := patientForm(2); f.Set("lastname", "Hopper"); return f }())
	first := call(t, srv, http.MethodGet, api("/patients?lastname=Hopper&limit=10"), tok, nil).json(t).(map[string]any)
	if n := len(first["patients"].([]any)); n != 2 || first["totalcount"] != 3.0 || first["next"] == nil {
		t.Errorf("first page = %v, want 2 of 3 with a next link", first)
	}
	if next, _ := first["next"].(string); next != "" {
		last := call(t, srv, http.MethodGet, next, tok, nil).json(t).(map[string]any)
		if n := len(last["patients"].([]any)); n != 1 || last["next"] != nil || last["previous"] == nil {
			t.Errorf("next page = %v, want the last patient and a previous link", last)
		}
	}
	for name, form := range map[string]url.Values{
		"without a contact":  {"firstname": {"Ada"}, "lastname": {"Byron"}, "dob": {"12/10/1815"}, "departmentid": {"1"}},
		"unknown department": func() url.Values { f := patientForm(3); f.Set("departmentid", "99"); return f }(),
	} {
		if a := call(t, srv, http.MethodPost, api("/patients"), tok, form); a.status != 400 {
			t.Errorf("create %s: %d %s, want 400", name, a.status, a.body)
		}
	}
	if got := rep.all(); len(got) > 0 {
		t.Errorf("documented requests reported: %v", got)
	}
}

// TestBestMatch: enhancedbestmatch scores last name and date of birth 16,
// with the first name 23, each matching contact 3 more.
func TestBestMatch(t *testing.T) {
	srv, _ := started(t, fake.Options{})
	createPatient(t, srv, patientForm(1))
	q := "/patients/enhancedbestmatch?firstname=Grace1&lastname=Hopper&dob=12/09/1906&mobilephone=6175550001&returnbestmatches=true"
	rows, _ := call(t, srv, http.MethodGet, api(q), token(srv), nil).json(t).([]any)
	var scores []string
	for _, r := range rows {
		scores = append(scores, r.(map[string]any)["score"].(string))
	}
	if diff := cmp.Diff([]string{"26"}, scores); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
	q = "/patients/enhancedbestmatch?firstname=Someone&lastname=Hopper&dob=12/09/1906"
	if rows, _ := call(t, srv, http.MethodGet, api(q), token(srv), nil).json(t).([]any); len(rows) != 0 {
		t.Errorf("another first name without returnbestmatches = %v, want none (16 < 23)", rows)
	}
}
