package fake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

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

// response is a decoded answer of the fake.
type response struct {
	Code   int
	Header http.Header
	Body   any
	Raw    string
}

// field returns a top-level field of an object answer.
func (r response) field(k string) any {
	m, _ := r.Body.(map[string]any)
	return m[k]
}

// list returns an array answer.
func (r response) list() []map[string]any {
	var out []map[string]any
	_ = json.Unmarshal([]byte(r.Raw), &out)
	return out
}

// call sends a request with a bearer token ("" for none) for restaurant
// ("" for no header); body is sent as raw JSON when set.
func call(t *testing.T, s *fake.Server, token, restaurant, method, path string, query url.Values, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	u := s.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if restaurant != "" {
		req.Header.Set("Toast-Restaurant-External-ID", restaurant)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Code: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.NewDecoder(bytes.NewReader(raw)).Decode(&out.Body)
	return out
}

// login logs the partner client in and returns the token.
func login(t *testing.T, s *fake.Server, id, secret string) response {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"clientId": id, "clientSecret": secret, "userAccessType": "TOAST_MACHINE_CLIENT"})
	return call(t, s, "", "", "POST", "/authentication/v1/authentication/login", nil, string(body))
}

// partnerToken logs the partner client in.
func partnerToken(t *testing.T, s *fake.Server) string {
	t.Helper()
	r := login(t, s, fake.DefaultClientID, fake.DefaultClientSecret)
	want(t, r, 200)
	tok, _ := r.field("token").(map[string]any)["accessToken"].(string)
	if tok == "" {
		t.Fatalf("login answered no token: %s", r.Raw)
	}
	return tok
}

// bulk is an ordersBulk query for [from, to).
func bulk(from, to time.Time, extra ...string) url.Values {
	q := url.Values{"startDate": {from.UTC().Format("2006-01-02T15:04:05.000-0700")}, "endDate": {to.UTC().Format("2006-01-02T15:04:05.000-0700")}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

func want(t *testing.T, r response, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status %d, want %d: %s", r.Code, code, r.Raw)
	}
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
