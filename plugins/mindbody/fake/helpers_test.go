package fake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
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
	Body   map[string]any
	Raw    string
}

// errorCode is the Code of Mindbody's {"Error":{...}} body, or "".
func (r response) errorCode() string {
	e, _ := r.Body["Error"].(map[string]any)
	s, _ := e["Code"].(string)
	return s
}

func (r response) errorMessage() string {
	e, _ := r.Body["Error"].(map[string]any)
	s, _ := e["Message"].(string)
	return s
}

// caller sends requests to a fake as one site's staff user would.
type caller struct {
	t      *testing.T
	s      *fake.Server
	apiKey string
	site   string
	token  string
}

// as returns a caller for site with the fake's pre-issued token.
func as(t *testing.T, s *fake.Server, site int) *caller {
	t.Helper()
	c := s.Connection()
	switch site {
	case fake.SiteB:
		c = s.OtherConnection()
	case fake.SandboxSite:
		c = s.SandboxConnection()
	}
	return &caller{t: t, s: s, apiKey: fake.DefaultAPIKey, site: strconv.Itoa(site), token: c.Secret["staff_token"]}
}

// do sends method path (below /public/v6) with a JSON body (nil for none,
// a string as it is).
func (c *caller) do(method, path string, body any) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, c.s.BaseURL()+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.apiKey != "" {
		req.Header.Set("Api-Key", c.apiKey)
	}
	if c.site != "" {
		req.Header.Set("SiteId", c.site)
	}
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Code: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// want fails the test unless r has status code (and, when set, Mindbody
// error code).
func want(t *testing.T, r response, code int, errCode string) {
	t.Helper()
	if r.Code != code || (errCode != "" && r.errorCode() != errCode) {
		t.Fatalf("status %d code %q (want %d %q): %s", r.Code, r.errorCode(), code, errCode, r.Raw)
	}
}

// list returns the objects under key of a list answer.
func list(r response, key string) []map[string]any {
	raw, _ := r.Body[key].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// ids returns the Id of each object.
func ids(objs []map[string]any) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		switch v := o["Id"].(type) {
		case string:
			out = append(out, v)
		case float64:
			out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	return out
}

// recordingTB records Errorf calls instead of failing, so a test can
// assert that the fake reported a spec mismatch.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errs
	r.errs = nil
	return out
}
