package fake_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"crmhost.dev/plugins/genericrest/fake"
)

func do(t *testing.T, method, u, body string, h map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestRejectsUndocumentedRequests: a request that does not match the
// Sample CRM's OpenAPI document is answered 400 and reported (New fails
// the test; here a recorder stands in).
func TestRejectsUndocumentedRequests(t *testing.T) {
	var mu sync.Mutex
	var reports []string
	s, err := fake.Start(fake.Options{Strict: true, Report: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, fmt.Sprintf(f, a...))
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	key := map[string]string{"X-Api-Key": s.ConnectionWith(fake.AuthAPIKeyHeader, 0).Secret["api_key"]}
	cases := []struct {
		name, method, path, body, want string
	}{
		{"limit above the documented maximum", "GET", "/v1/contacts?limit=500", "", `"limit"`},
		{"a date that is not a date-time", "GET", "/v1/contacts?updated_since=yesterday", "", "updated_since"},
		{"a note without its body", "POST", "/v1/notes", `{"channel":"sms"}`, "body"},
		{"a note with an undocumented field", "POST", "/v1/notes", `{"body":"hi","mood":"happy"}`, "mood"},
		{"a lead status outside the enum", "PATCH", "/v1/leads/l_1", `{"status":"won"}`, "status"},
		{"a token request without a body", "POST", "/oauth/token", ``, "request body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			reports = nil
			mu.Unlock()
			h := key
			if c.path == "/oauth/token" {
				h = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			}
			status, _, body := do(t, c.method, s.URL+c.path, c.body, h)
			if status != http.StatusBadRequest || !strings.Contains(body, "does not match the API") {
				t.Errorf("answer %d %s, want 400 naming the mismatch", status, body)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reports) != 1 || !strings.Contains(reports[0], c.want) {
				t.Errorf("reports %q, want one naming %s", reports, c.want)
			}
		})
	}
}

// TestSampleCRM: the behaviours a definition relies on.
func TestSampleCRM(t *testing.T) {
	s := fake.New(t, fake.Options{PageCap: 2})
	a := map[string]string{"X-Api-Key": s.ConnectionWith(fake.AuthAPIKeyHeader, 0).Secret["api_key"]}
	b := map[string]string{"Authorization": "Bearer " + s.ConnectionWith(fake.AuthBearer, 1).Secret["token"]}
	create := func(h map[string]string, body, key string) (int, string) {
		hh := map[string]string{}
		if key != "" {
			hh["Idempotency-Key"] = key
		}
		for k, v := range h {
			hh[k] = v
		}
		st, _, out := do(t, "POST", s.URL+"/v1/contacts", body, hh)
		return st, out
	}
	st1, first := create(a, `{"email":"ada@example.com","phone":"(415) 555-0100"}`, "k1")
	st2, again := create(a, `{"email":"ada@example.com","phone":"(415) 555-0100"}`, "k1")
	if st1 != 201 || st2 != 200 || first != again || !strings.Contains(first, `"phone":"+14155550100"`) {
		t.Errorf("idempotent create: %d %s then %d %s", st1, first, st2, again)
	}
	if st, out := create(a, `{"email":"x@example.com","shoe_size":"9"}`, ""); st != 422 || !strings.Contains(out, `"field":"shoe_size"`) {
		t.Errorf("unknown field: %d %s", st, out)
	}
	if _, _, out := do(t, "GET", s.URL+"/v1/contacts", "", b); !strings.Contains(out, `"total":0`) {
		t.Errorf("account B sees A's contacts: %s", out)
	}
	for i := range 3 {
		create(a, fmt.Sprintf(`{"email":"p%d@example.com"}`, i), "")
	}
	if _, _, out := do(t, "GET", s.URL+"/v1/contacts?limit=100", "", a); !strings.Contains(out, `"limit":2`) || !strings.Contains(out, `"total":4`) {
		t.Errorf("PageCap: %s", out)
	}
	for i := range 5 {
		do(t, "POST", s.URL+"/v1/notes", fmt.Sprintf(`{"body":"note %d"}`, i), a)
	}
	st, h, out := do(t, "GET", s.URL+"/v1/notes?per_page=50", "", a)
	next := h.Get("Link")
	if st != 200 || !strings.Contains(next, `rel="next"`) || strings.Count(out, `"id"`) != 2 {
		t.Errorf("notes page 1: %d %q %s", st, next, out)
	}
	st, _, out = do(t, "GET", s.URL+"/v1/contacts", "", map[string]string{"X-Api-Key": "nope"})
	if st != 401 || !strings.Contains(out, "not valid") {
		t.Errorf("bad key: %d %s", st, out)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"client_a"}, "client_secret": {"wrong"}}
	st, _, out = do(t, "POST", s.URL+"/oauth/token", form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if st != 401 || !strings.Contains(out, "invalid_client") {
		t.Errorf("token with a wrong secret: %d %s", st, out)
	}
}
