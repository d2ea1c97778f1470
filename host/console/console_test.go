package console_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/console"
	"crmhost.dev/host/drivers"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/outbound"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	"github.com/hashicorp/go-hclog"
)

type env struct {
	store  *sqlite.Store
	broker *broker.Broker
	srv    *httptest.Server
	token  string
	now    time.Time
	logs   *syncBuffer // everything the console, mirror and outbound log
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	kek, err := secrets.NewLocalKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	kr := secrets.NewKeyring(kek)
	mgr := drivers.NewManager(store, drivers.Options{})
	e := &env{store: store, now: time.Now(), logs: &syncBuffer{}}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: e.logs})
	b := broker.New(broker.Options{Store: store, Keyring: kr, Drivers: mgr, Logger: logger.Named("broker")})
	e.broker = b
	// The mirror and the outbound service, with a job runner that queues
	// (redrives, erasures) but is never started: these tests look at what
	// the console accepts and refuses, not at the writes.
	mir := mirror.New(mirror.Options{Store: store, Broker: b, Logger: logger.Named("mirror")})
	out, err := outbound.New(outbound.Options{Store: store, Keyring: kr, CRM: b, Logger: logger.Named("outbound")})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := jobs.New(t.Context(), jobs.Options{Store: store, Mirror: mir, Outbound: out, Migrate: true, Logger: logger.Named("jobs"),
		Writer: jobs.LeadWriterFunc(b.WriteLead)})
	if err != nil {
		t.Fatal(err)
	}
	mir.SetQueue(runner)
	out.Queue = runner
	ui, err := console.New(console.Options{Store: store, Broker: b, Drivers: mgr, Mirror: mir, Outbound: out, Keyring: kr,
		Logger: logger.Named("console"), Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(ui)
	t.Cleanup(func() { e.srv.Close(); _ = b.Close(context.Background()); mgr.Close(); store.Close() })
	if e.token, _, err = operators.New(store, nil).Issue(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	return e
}

// client is a browser-like client: a cookie jar, no redirects followed.
func (e *env) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn signs c in and returns the session cookie it got.
func (e *env) signIn(t *testing.T, c *http.Client) *http.Cookie {
	t.Helper()
	res, _ := do(t, c, "POST", e.srv.URL+"/console/login", url.Values{"token": {e.token}, "next": {"/console/audit"}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/audit" {
		t.Fatalf("sign-in = %d to %q, want 303 to /console/audit", res.StatusCode, res.Header.Get("Location"))
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "crmhost_console" {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	res, _ := do(t, c, "GET", e.srv.URL+"/console/tenants/ten_x", nil, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login?next=%2Fconsole%2Ftenants%2Ften_x" {
		t.Fatalf("GET without a session = %d to %q, want the sign-in page", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := do(t, c, "POST", e.srv.URL+"/console/login", url.Values{"token": {"crmo_wrong_token"}}, nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not accepted") {
		t.Fatalf("wrong token = %d, want 401 saying so", res.StatusCode)
	}
	ck := e.signIn(t, c)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/ (Secure only under TLS)", ck)
	}
	if strings.Contains(ck.Value, e.token) || strings.Contains(ck.Value, "alice") {
		t.Errorf("the cookie carries the token or the name in the clear: %q", ck.Value)
	}
	res, body = do(t, c, "GET", e.srv.URL+"/console/", nil, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("signed-in GET = %d", res.StatusCode)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q lacks %q or allows unsafe code", csp, want)
		}
	}
	es, err := e.store.ListAudit(t.Context(), host.AuditFilter{Action: "console.sign_in"})
	if err != nil || len(es) != 1 || es[0].ActorID != "alice@example.com" || es[0].ActorType != host.ActorOperator {
		t.Fatalf("sign-in audit rows = %+v, %v", es, err)
	}

	// A tampered cookie is no session; nor is one past its expiry.
	tampered := &http.Client{CheckRedirect: c.CheckRedirect}
	req, _ := http.NewRequest("GET", e.srv.URL+"/console/", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value[:len(ck.Value)-2] + "AA"})
	if res, err := tampered.Do(req); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Errorf("tampered cookie = %v %v, want a redirect to sign in", res.StatusCode, err)
	}
	e.now = e.now.Add(console.DefaultSessionTTL + time.Minute)
	if res, _ := do(t, c, "GET", e.srv.URL+"/console/", nil, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session = %d, want a redirect to sign in", res.StatusCode)
	}
}

func TestRevokedOperatorLosesSession(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	e.signIn(t, c)
	if err := operators.New(e.store, nil).Revoke(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if res, _ := do(t, c, "GET", e.srv.URL+"/console/", nil, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET after the operator was revoked = %d, want a redirect to sign in", res.StatusCode)
	}
}

// TestCrossOriginRefused: a state-changing request from another origin,
// or without a session, changes nothing.
func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	e.signIn(t, c)
	create := url.Values{"name": {"Evil Corp"}}
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"Origin of another host", map[string]string{"Origin": "http://evil.example"}},
	} {
		if res, _ := do(t, c, "POST", e.srv.URL+"/console/tenants", create, tc.hdr); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: POST = %d, want 403", tc.name, res.StatusCode)
		}
	}
	anon := e.client(t)
	if res, _ := do(t, anon, "POST", e.srv.URL+"/console/tenants", create, map[string]string{"Sec-Fetch-Site": "same-origin"}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a session = %d, want 401", res.StatusCode)
	}
	if res, _ := do(t, anon, "POST", e.srv.URL+"/console/tenants", create, map[string]string{"HX-Request": "true"}); res.StatusCode != http.StatusUnauthorized || res.Header.Get("HX-Redirect") != "/console/login" {
		t.Errorf("htmx POST without a session = %d %q, want 401 with HX-Redirect", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	if ts, _ := e.store.ListTenants(t.Context()); len(ts) != 0 {
		t.Fatalf("refused requests created %d tenants", len(ts))
	}
	res, _ := do(t, c, "POST", e.srv.URL+"/console/tenants", create, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST = %d, want 303", res.StatusCode)
	}
	ts, _ := e.store.ListTenants(t.Context())
	if len(ts) != 1 {
		t.Fatalf("tenants = %d, want 1", len(ts))
	}
	es, _ := e.store.ListAudit(t.Context(), host.AuditFilter{Action: "tenant.create"})
	if len(es) != 1 || es[0].ActorID != "alice@example.com" || es[0].TenantID != ts[0].ID {
		t.Fatalf("tenant.create audit rows = %+v", es)
	}
}

func TestReconnectLinkRefusedWhenForged(t *testing.T) {
	e := newEnv(t)
	res, body := do(t, e.client(t), "GET", e.srv.URL+"/console/reconnect/AAAA.BBBB.CCCC", nil, nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "not valid") {
		t.Fatalf("forged link = %d, want 404 saying it is not valid", res.StatusCode)
	}
}

func TestDocsAndStatic(t *testing.T) {
	e := newEnv(t)
	res, body := do(t, e.client(t), "GET", e.srv.URL+"/docs", nil, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "/api/tools/crm_create_record") || !strings.Contains(body, "/openapi.json") {
		t.Fatalf("/docs = %d; want the operations rendered", res.StatusCode)
	}
	for _, f := range []string{"htmx.min.js", "console.js", "console.css"} {
		if res, _ := do(t, e.client(t), "GET", e.srv.URL+"/console/static/"+f, nil, nil); res.StatusCode != http.StatusOK {
			t.Errorf("static %s = %d", f, res.StatusCode)
		}
	}
}
