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

	"crmhost.dev/plugins/salesforce/fake"
)

const v = "/services/data/v" + fake.LatestVersion

// answer is one response of the fake.
type answer struct {
	status int
	header http.Header
	raw    string
}

// errorCode is the first errorCode of a Salesforce error array.
func (a answer) errorCode() string {
	var list []struct {
		Code   string   `json:"errorCode"`
		Fields []string `json:"fields"`
	}
	if json.Unmarshal([]byte(a.raw), &list) != nil || len(list) == 0 {
		return ""
	}
	return list[0].Code
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.raw), &m); err != nil {
		t.Fatalf("answer %d %q is not a JSON object: %v", a.status, a.raw, err)
	}
	return m
}

// call sends a request with a bearer token; a body starting with "{" or
// "[" is JSON, any other a form.
func call(t *testing.T, s *fake.Server, method, path, token, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	switch {
	case strings.HasPrefix(body, "{") || strings.HasPrefix(body, "["):
		req.Header.Set("Content-Type", "application/json")
	case body != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, raw: string(b)}
}

func query(t *testing.T, s *fake.Server, token, soql string) answer {
	t.Helper()
	return call(t, s, "GET", v+"/query?q="+url.QueryEscape(soql), token, "")
}

func want(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || (code != "" && a.errorCode() != code) {
		t.Fatalf("answer %d %s, want %d %s", a.status, a.raw, status, code)
	}
}

func token(s *fake.Server) string { return s.Connection().Secret["access_token"] }

// recordingTB collects what the fake reports instead of failing the test.
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

// clock is a settable clock for the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 30, 15, 0, time.UTC)} }

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
