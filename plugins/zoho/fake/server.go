package fake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"crmhost.dev/sdk/providertest"
)

// Defaults of Options.
const (
	DefaultClientID     = "1000.FAKECLIENTID"
	DefaultClientSecret = "fake-zoho-client-secret"
	// DefaultWebhookSecret is the app's webhook_secret the connections
	// carry (the fake does not need it: it echoes whatever token a channel
	// registered).
	DefaultWebhookSecret = "fake-zoho-webhook-secret-0123456789abcdef"
)

// The two orgs (accounts) the fake holds.
const (
	OrgA = "org-a"
	OrgB = "org-b"
)

const maxBodyBytes = 10 << 20

// Options configure a fake Zoho.
type Options struct {
	// PageSize clamps per_page of list and search requests (Zoho: 200).
	PageSize int
	// PageCap is how many records page/per_page can reach before Zoho
	// insists on page_token (Zoho: 2,000).
	PageCap int
	// ClientID and ClientSecret are the OAuth client's credentials.
	ClientID, ClientSecret string
	// Now is the clock for Modified_Time (Zoho keeps whole seconds), token
	// expiry and channel expiry (default time.Now).
	Now func() time.Time
	// Strict validates every request against Zoho's official OpenAPI
	// specs and answers 400 to one that does not match. New always turns
	// it on; Start honours it.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.PageCap <= 0 {
		o.PageCap = 2000
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   string
}

// Server is a running fake Zoho: its URL serves both the accounts server
// (/oauth/v2/…) and the CRM API (/crm/v8/…), and is the api_domain its
// token responses name.
type Server struct {
	URL string

	o       Options
	hs      *httptest.Server
	mux     *http.ServeMux
	specs   *specSet
	report  func(format string, args ...any)
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	orgs      map[string]*org
	nextID    int64
	requests  []Request
	faults    []*pendingFault
	abandoned int
	auth      authState
}

// New starts a fake for a test and closes it when the test ends. Every
// request is validated against Zoho's specs; a request that does not
// match fails the test with t.Errorf (and is answered 400). New fails the
// test at once when the specs cannot be found.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s, err := start(o, t.Errorf)
	if err != nil {
		t.Fatalf("zoho fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (crmhost dev). Spec mismatches, when
// o.Strict is set, are logged to stderr and answered 400. It returns an
// error when o.Strict is set and the specs cannot be loaded.
func Start(o Options) (*Server, error) {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	return start(o, logger.Printf)
}

func start(o Options, report func(string, ...any)) (*Server, error) {
	o = o.withDefaults()
	s := &Server{o: o, report: report, closing: make(chan struct{}), orgs: map[string]*org{},
		nextID: 5725767000000400000}
	if o.Strict {
		sp, err := loadSpecs()
		switch {
		case errors.Is(err, providertest.ErrNoSpecs) && !providertest.InCI():
			// Outside CI a checkout without the specs still runs: only
			// the validation is skipped, and said so loudly.
			warnNoSpecs.Do(func() { fmt.Fprintf(os.Stderr, "WARNING: zoho fake: SPEC VALIDATION SKIPPED: %v\n", err) })
		case err != nil:
			return nil, err
		default:
			s.specs = sp
		}
	}
	s.orgs[OrgA] = newOrg("60012345678", "org60012345678", "Acme Dental")
	s.orgs[OrgB] = newOrg("60087654321", "org60087654321", "Bravo Motors")
	s.auth = newAuthState()
	for name := range s.orgs {
		s.auth.access[staticToken(name)] = accessToken{org: name, expires: farFuture}
	}
	s.routes()
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /oauth/v2/token", s.handleToken)
	m.HandleFunc("GET /oauth/v2/auth", s.handleAuthorize)
	m.HandleFunc("GET /crm/v8/org", s.api(s.handleOrg))
	m.HandleFunc("GET /crm/v8/users", s.api(s.handleUsers))
	m.HandleFunc("GET /crm/v8/settings/modules", s.api(s.handleModules))
	m.HandleFunc("GET /crm/v8/settings/fields", s.api(s.handleFields))
	m.HandleFunc("DELETE /crm/v8/settings/recycle_bin/{id}", s.api(s.handlePurge))
	m.HandleFunc("POST /crm/v8/actions/watch", s.api(s.handleWatch))
	m.HandleFunc("PUT /crm/v8/actions/watch", s.api(s.handleWatch))
	m.HandleFunc("PATCH /crm/v8/actions/watch", s.api(s.handleWatch))
	m.HandleFunc("GET /crm/v8/actions/watch", s.api(s.handleWatchList))
	m.HandleFunc("GET /crm/v8/{module}", s.api(s.handleList))
	m.HandleFunc("POST /crm/v8/{module}", s.api(s.handleCreate))
	m.HandleFunc("POST /crm/v8/{module}/upsert", s.api(s.handleUpsert))
	m.HandleFunc("GET /crm/v8/{module}/search", s.api(s.handleSearch))
	m.HandleFunc("GET /crm/v8/{module}/deleted", s.api(s.handleDeleted))
	m.HandleFunc("GET /crm/v8/{module}/{id}", s.api(s.handleGet))
	m.HandleFunc("PUT /crm/v8/{module}/{id}", s.api(s.handleUpdate))
	m.HandleFunc("DELETE /crm/v8/{module}/{id}", s.api(s.handleDelete))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, newErr("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", nil))
	})
	s.mux = m
}

// Close stops the server; requests sleeping on an injected latency end.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.Close()
	})
}

// AppCredentials are the platform's app credentials the fake's OAuth
// client accepts.
func (s *Server) AppCredentials() map[string]string {
	return map[string]string{"client_id": s.o.ClientID, "client_secret": s.o.ClientSecret, "webhook_secret": DefaultWebhookSecret}
}

// Connection returns a connection to org A with a valid access token and a
// refresh token; base_url and accounts_server point at the fake.
func (s *Server) Connection() sdk.Connection { return s.connection(OrgA) }

// OtherConnection returns a connection to org B, whose records are its
// own.
func (s *Server) OtherConnection() sdk.Connection { return s.connection(OrgB) }

// BadConnection returns a connection whose token Zoho rejects (401
// INVALID_TOKEN) and whose refresh token is revoked.
func (s *Server) BadConnection() sdk.Connection {
	c := s.connection(OrgA)
	c.Secret = map[string]string{"access_token": "1000.00000000000000000000000000000000.00000000000000000000000000000000",
		"refresh_token": "1000.revoked0000000000000000000000000.00000000000000000000000000000000"}
	c.AccountID = ""
	return c
}

func (s *Server) connection(name string) sdk.Connection {
	s.mu.Lock()
	o := s.orgs[name]
	rt := s.auth.ensureRefresh(name, s.o.Now())
	s.mu.Unlock()
	return sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: s.URL, "accounts_server": s.URL, "api_domain": s.URL,
			sdk.ConfigDefaultRegion: "US"},
		Secret:    map[string]string{"access_token": staticToken(name), "refresh_token": rt},
		App:       s.AppCredentials(),
		AccountID: o.zgid,
	}
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Query = maps.Clone(r.Query)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Abandoned counts the requests whose client went away before the fake
// answered.
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// ServeHTTP records the request, validates it against the specs, applies
// any injected fault and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeErr(w, http.StatusBadRequest, newErr("INVALID_DATA", "the request body could not be read", nil))
		return
	}
	h := r.Header.Clone()
	h.Del("Authorization")
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: h, Body: redactBody(r.URL.Path, body)})
	s.mu.Unlock()

	if s.specs != nil && strings.HasPrefix(r.URL.Path, "/crm/") {
		if err := s.specs.validate(r, body); err != nil {
			s.report("zoho fake: %s %s does not match Zoho's OpenAPI spec: %v", r.Method, r.URL.Path, err)
			writeErr(w, http.StatusBadRequest, newErr("INVALID_DATA", "the request does not match Zoho's API: "+err.Error(), nil))
			return
		}
	}
	f, faulty := s.takeFault()
	if faulty {
		if f.Kind == drivertest.Latency && !s.sleep(r, f.Latency) {
			return
		}
		if s.serveFault(w, f) {
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if faulty && f.Kind == drivertest.LoseResponse {
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		drop(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// redactBody keeps OAuth secrets out of the request log.
func redactBody(path string, body []byte) string {
	if !strings.HasPrefix(path, "/oauth/") {
		return string(body)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return "[unreadable form]"
	}
	for _, k := range []string{"client_secret", "code", "refresh_token", "code_verifier"} {
		if v.Has(k) {
			v.Set(k, "[redacted]")
		}
	}
	return v.Encode()
}

// sleep waits d unless the client goes away or the server closes first;
// it reports whether the request should still be answered.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		s.mu.Lock()
		s.abandoned++
		s.mu.Unlock()
	case <-s.closing:
	}
	return false
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// api wraps a CRM API handler: it authenticates the request's
// Zoho-oauthtoken and hands the handler its org.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, o *org)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, ok := s.authenticate(r)
		if !ok {
			writeErr(w, http.StatusUnauthorized, invalidToken())
			return
		}
		s.mu.Lock()
		o := s.orgs[name]
		s.mu.Unlock()
		h(w, r, o)
	}
}

var (
	_ drivertest.Provider       = (*Server)(nil)
	_ drivertest.Authorizing    = (*Server)(nil)
	_ drivertest.WebhookSending = (*Server)(nil)
)

// warnNoSpecs says once per process that the specs are missing.
var warnNoSpecs sync.Once
