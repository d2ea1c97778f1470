package fake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk/providertest"
)

// reports collects the fake's spec reports.
type reports struct {
	mu  sync.Mutex
	got []string
}

func (r *reports) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf(format, args...))
}

func (r *reports) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// started starts a strict fake whose spec reports are collected rather
// than failing the test.
func started(t *testing.T, o fake.Options) (*fake.Server, *reports) {
	t.Helper()
	rep := &reports{}
	o.Strict = true
	srv, err := fake.StartWith(o, rep.add, providertest.InCI())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, rep
}

// answer is one response of the fake.
type answer struct {
	status int
	header http.Header
	body   string
}

// json decodes the answer's body.
func (a answer) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", a.body, err)
	}
	return v
}

// call sends a request to the fake with a bearer token (none when empty)
// and a form body (none when nil).
func call(t *testing.T, srv *fake.Server, method, path, token string, form url.Values) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// token is the fake's token for Connection.
func token(srv *fake.Server) string { return srv.Connection().Secret["access_token"] }

// api is an athenaOne path of PracticeA.
func api(path string) string { return "/v1/" + fake.PracticeA + path }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// patientForm is a valid create form for a distinct patient n.
func patientForm(n int) url.Values {
	return url.Values{"firstname": {fmt.Sprintf("Grace%d", n)}, "lastname": {"Hopper"}, "dob": {"12/09/1906"},
		"departmentid": {fake.Department}, "email": {fmt.Sprintf("grace%d@example.com", n)},
		"mobilephone": {fmt.Sprintf("617555%04d", n)}}
}

// createPatient creates a patient through the API and returns its id.
func createPatient(t *testing.T, srv *fake.Server, form url.Values) string {
	t.Helper()
	a := call(t, srv, http.MethodPost, api("/patients"), token(srv), form)
	if a.status != http.StatusOK {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	rows, _ := a.json(t).([]any)
	if len(rows) != 1 {
		t.Fatalf("create answered %s, want a one-element array", a.body)
	}
	id, _ := rows[0].(map[string]any)["patientid"].(string)
	if id == "" {
		t.Fatalf("create answered %s without a patientid", a.body)
	}
	return id
}
