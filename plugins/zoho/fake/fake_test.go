package fake_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/sdk/drivertest"
	"crmhost.dev/sdk/providertest"
)

// reply is a decoded answer.
type reply struct {
	Code   int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// call sends a request to the fake with org A's token.
func call(t *testing.T, s *fake.Server, method, path string, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+s.Connection().Secret["access_token"])
	if body != "" {
		ct := "application/json"
		if strings.HasPrefix(path, "/oauth/") {
			ct = "application/x-www-form-urlencoded"
		}
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{Code: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// recordingTB records Errorf calls instead of failing, to test that the
// fake reports spec violations.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errs
	r.errs = nil
	return out
}

// TestSpecValidation: requests that do not match Zoho's OpenAPI documents
// are reported (failing the test that made them) and refused; requests
// the real API accepts pass, thanks to the documented relaxations.
func TestSpecValidation(t *testing.T) {
	requireSpecs(t)
	rec := &recordingTB{TB: t}
	s := fake.New(rec, fake.Options{})
	expiry := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name, method, path, body string
		code                     int
		invalid                  bool
	}{
		{"data is not a list", "POST", "/crm/v8/Leads", `{"data":{"Last_Name":"L"}}`, 400, true},
		{"duplicate_check_fields is a string", "POST", "/crm/v8/Leads/upsert", `{"data":[{"Last_Name":"L"}],"duplicate_check_fields":"Email"}`, 400, true},
		{"per_page is not a number", "GET", "/crm/v8/Leads/search?email=a@example.com&per_page=many", "", 400, true},
		{"module of fields is missing", "GET", "/crm/v8/settings/fields", "", 400, true},
		{"note without data", "POST", "/crm/v8/Notes", `{"notes":[]}`, 400, true},
		{"unknown API version", "GET", "/crm/v9/Leads?fields=Last_Name", "", 400, true},
		{"unknown status of modules", "GET", "/crm/v8/settings/modules?status=everything", "", 400, true},
		// Accepted by the real API, and by the relaxed documents.
		{"create a lead", "POST", "/crm/v8/Leads", `{"data":[{"Last_Name":"L","Email":"l@example.com"}],"trigger":["workflow"]}`, 201, false},
		{"create a note", "POST", "/crm/v8/Notes", `{"data":[{"Note_Content":"Hi","Parent_Id":{"id":"1","module":{"api_name":"Leads"}}}]}`, 201, false},
		{"list notes", "GET", "/crm/v8/Notes?fields=Note_Title&per_page=10", "", 200, false},
		{"open a channel", "POST", "/crm/v8/actions/watch", `{"watch":[{"channel_id":1000000068001,"events":["Leads.all"],"channel_expiry":"` + expiry +
			`","token":"60012345678.abc","notify_url":"https://crmhost.example/webhooks/zoho"}]}`, 200, false},
		{"org", "GET", "/crm/v8/org", "", 200, false},
		{"current user", "GET", "/crm/v8/users?type=CurrentUser", "", 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.body)
			errs := rec.take()
			for _, e := range errs {
				t.Logf("reported: %s", e)
			}
			if r.Code != tc.code || (len(errs) > 0) != tc.invalid {
				t.Fatalf("status %d (want %d), spec errors %q (want some: %v); body %s", r.Code, tc.code, errs, tc.invalid, r.Raw)
			}
		})
	}
}

func TestStartWithoutSpecs(t *testing.T) {
	t.Setenv(fake.SpecsDirEnv, t.TempDir())
	if s, err := fake.Start(fake.Options{Strict: true}); err == nil {
		s.Close()
		t.Fatal("Start with Strict and no specs succeeded")
	}
	s, err := fake.Start(fake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Without the specs the fake still answers as Zoho does.
	if r := call(t, s, "POST", "/crm/v8/Leads", `{"data":[{"First_Name":"A"}]}`); r.Code != 400 || !strings.Contains(r.Raw, "MANDATORY_NOT_FOUND") {
		t.Fatalf("create without Last_Name: %d %s", r.Code, r.Raw)
	}
}

func TestAuthAndOrgs(t *testing.T) {
	s := fake.New(t, fake.Options{})
	r := call(t, s, "GET", "/crm/v8/Leads?fields=Last_Name", "", "Authorization", "Bearer nope")
	if r.Code != 401 || r.Body["code"] != "INVALID_TOKEN" {
		t.Fatalf("bad token: %d %s", r.Code, r.Raw)
	}
	id := s.Seed(fake.OrgA, "Leads", map[string]any{"Last_Name": "A"})
	b := s.OtherConnection().Secret["access_token"]
	if r := call(t, s, "GET", "/crm/v8/Leads/"+id+"?fields=Last_Name", "", "Authorization", "Zoho-oauthtoken "+b); r.Code != 400 || r.Body["code"] != "INVALID_DATA" {
		t.Fatalf("org B read org A's lead: %d %s", r.Code, r.Raw)
	}
	if r := call(t, s, "GET", "/crm/v8/Leads/"+id+"?fields=Last_Name", ""); r.Code != 200 {
		t.Fatalf("org A's own lead: %d %s", r.Code, r.Raw)
	}
}

func TestListPaging(t *testing.T) {
	s := fake.New(t, fake.Options{PageSize: 2, PageCap: 4})
	for i := range 7 {
		s.Seed(fake.OrgA, "Contacts", map[string]any{"Last_Name": fmt.Sprint("C", i)})
	}
	r := call(t, s, "GET", "/crm/v8/Contacts", "")
	if r.Code != 400 || r.Body["code"] != "REQUIRED_PARAM_MISSING" {
		t.Fatalf("list without fields: %d %s", r.Code, r.Raw)
	}
	r = call(t, s, "GET", "/crm/v8/Contacts?fields=Last_Name&page=3&per_page=2", "")
	if r.Code != 400 || r.Body["code"] != "DISCRETE_PAGINATION_LIMIT_EXCEEDED" {
		t.Fatalf("page past the reach: %d %s", r.Code, r.Raw)
	}
	r = call(t, s, "GET", "/crm/v8/Contacts?fields=Last_Name&page=2&per_page=2&sort_by=id&sort_order=asc", "")
	info, _ := r.Body["info"].(map[string]any)
	tok, _ := info["next_page_token"].(string)
	if r.Code != 200 || info["more_records"] != true || tok == "" {
		t.Fatalf("last numbered page: %d %s", r.Code, r.Raw)
	}
	seen := 4
	for tok != "" {
		r = call(t, s, "GET", "/crm/v8/Contacts?fields=Last_Name&per_page=2&sort_by=id&sort_order=asc&page_token="+url.QueryEscape(tok), "")
		data, _ := r.Body["data"].([]any)
		seen += len(data)
		info, _ = r.Body["info"].(map[string]any)
		tok, _ = info["next_page_token"].(string)
	}
	if seen != 7 {
		t.Fatalf("paged through %d records, want 7", seen)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if r := call(t, s, "GET", "/crm/v8/Contacts?fields=Last_Name", "", "If-Modified-Since", future); r.Code != 304 {
		t.Fatalf("nothing modified since: %d, want 304", r.Code)
	}
	if r := call(t, s, "GET", "/crm/v8/Contacts/search?email=nobody@example.com&per_page=10", ""); r.Code != 204 || r.Raw != "" {
		t.Fatalf("search without match: %d %q, want 204 without a body", r.Code, r.Raw)
	}
}

func TestTokenEndpoint(t *testing.T) {
	s := fake.New(t, fake.Options{})
	form := func(v url.Values) string { return v.Encode() }
	app := url.Values{"client_id": {fake.DefaultClientID}, "client_secret": {fake.DefaultClientSecret}}

	bad := url.Values{"client_id": {fake.DefaultClientID}, "client_secret": {"wrong"}, "grant_type": {"refresh_token"}, "refresh_token": {"x"}}
	if r := call(t, s, "POST", "/oauth/v2/token", form(bad)); r.Code != 200 || r.Body["error"] != "invalid_client" {
		t.Fatalf("bad client: %d %s, want HTTP 200 with invalid_client (Zoho's way)", r.Code, r.Raw)
	}

	// The consent page redirects with code, location and accounts-server.
	r := call(t, s, "GET", "/oauth/v2/auth?"+url.Values{"client_id": {fake.DefaultClientID}, "response_type": {"code"}, "access_type": {"offline"},
		"redirect_uri": {"https://h.example/cb"}, "scope": {"ZohoCRM.modules.ALL"}, "state": {"st8"}}.Encode(), "")
	loc, err := url.Parse(r.Header.Get("Location"))
	if r.Code != http.StatusFound || err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st8" ||
		loc.Query().Get("accounts-server") != s.URL || loc.Query().Get("location") == "" {
		t.Fatalf("authorize: %d %q", r.Code, r.Header.Get("Location"))
	}
	grant := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {"https://h.example/cb"}}
	for k, v := range app {
		grant[k] = v
	}
	r = call(t, s, "POST", "/oauth/v2/token", form(grant))
	rt, _ := r.Body["refresh_token"].(string)
	if r.Code != 200 || r.Body["access_token"] == nil || rt == "" || r.Body["api_domain"] != s.URL || r.Body["expires_in"] != float64(3600) {
		t.Fatalf("code exchange: %d %s", r.Code, r.Raw)
	}
	if r = call(t, s, "POST", "/oauth/v2/token", form(grant)); r.Code != 200 || r.Body["error"] != "invalid_code" {
		t.Fatalf("reused code: %d %s, want invalid_code with HTTP 200", r.Code, r.Raw)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, v := range app {
		refresh[k] = v
	}
	r = call(t, s, "POST", "/oauth/v2/token", form(refresh))
	if _, rotated := r.Body["refresh_token"]; r.Code != 200 || rotated || r.Body["access_token"] == nil {
		t.Fatalf("refresh: %d %s, want a new access token and no new refresh token", r.Code, r.Raw)
	}
	if got := s.TokensIssued(); got != 2 {
		t.Errorf("tokens issued %d, want 2", got)
	}
	for _, req := range s.Requests() {
		if strings.Contains(req.Body, fake.DefaultClientSecret) || strings.Contains(req.Body, rt) {
			t.Fatalf("the request log holds a secret: %s", req.Body)
		}
	}
}

func TestFaults(t *testing.T) {
	s := fake.New(t, fake.Options{})
	s.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 1500 * time.Millisecond})
	r := call(t, s, "GET", "/crm/v8/org", "")
	if r.Code != 429 || r.Body["code"] != "TOO_MANY_REQUESTS" || r.Header.Get("Retry-After") != "2" {
		t.Fatalf("rate limit: %d %v %s", r.Code, r.Header, r.Raw)
	}
	s.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
	if r := call(t, s, "GET", "/crm/v8/org", ""); r.Code != 500 || r.Body["code"] != "INTERNAL_ERROR" {
		t.Fatalf("server error: %d %s", r.Code, r.Raw)
	}
	if r := call(t, s, "GET", "/crm/v8/org", ""); r.Code != 503 {
		t.Fatalf("second server error: %d", r.Code)
	}
	s.Inject(drivertest.Fault{Kind: drivertest.Unauthorized})
	if r := call(t, s, "GET", "/crm/v8/org", ""); r.Code != 401 || r.Body["code"] != "INVALID_TOKEN" {
		t.Fatalf("unauthorized: %d %s", r.Code, r.Raw)
	}
	s.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
	req, _ := http.NewRequest("POST", s.URL+"/crm/v8/Leads", strings.NewReader(`{"data":[{"Last_Name":"Lost"}]}`))
	req.Header.Set("Authorization", "Zoho-oauthtoken "+s.Connection().Secret["access_token"])
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("a lost response arrived")
	}
	if n := len(s.Records(fake.OrgA, "Leads")); n != 1 {
		t.Fatalf("%d leads after a lost response, want 1 (applied)", n)
	}
	if r := call(t, s, "GET", "/crm/v8/org", ""); r.Code != 200 {
		t.Fatalf("after the faults: %d", r.Code)
	}
}

// requireSpecs skips a test that checks the validation against the
// official specs when a checkout outside CI has none (in CI it fails).
func requireSpecs(t *testing.T) {
	t.Helper()
	err := fake.SpecsFound()
	switch {
	case errors.Is(err, providertest.ErrNoSpecs) && !providertest.InCI():
		t.Skipf("%v; this test checks the validation against the specs", err)
	case err != nil:
		t.Fatal(err)
	}
}
