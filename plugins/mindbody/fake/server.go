package fake

import (
	"bytes"
	"errors"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// The fake's sites. SiteA and SiteB are two separate businesses (accounts
// A and B of the conformance kit); SandboxSite is Mindbody's shared
// sandbox, open to every API key and capped at Options.SandboxDailyCalls
// calls a day.
const (
	SiteA       = 555001
	SiteB       = 555002
	SandboxSite = -99
)

// Defaults of Options and the fake's staff logins.
const (
	DefaultAPIKey       = "fake-mindbody-api-key-0123456789"
	DefaultSignatureKey = "fake-message-signature-key-abcdef"
	// StaffUsername is the staff login of SiteA and SiteB; their passwords
	// are StaffPasswordA and StaffPasswordB.
	StaffUsername  = "owner"
	StaffPasswordA = "fake-staff-password-a"
	StaffPasswordB = "fake-staff-password-b"
	// SandboxUsername and SandboxPassword are the sandbox's staff login,
	// as Mindbody publishes it for site -99.
	SandboxUsername = "Siteowner"
	SandboxPassword = "apitest1234"
	// DefaultSandboxDailyCalls is the sandbox's hard daily cap.
	DefaultSandboxDailyCalls = 1000
)

// basePath is where the fake serves Public API v6; a connection's base_url
// is the server's URL plus basePath.
const basePath = "/public/v6"

// Mindbody's page size: request.limit defaults to 100; larger limits are
// clamped to 200.
const (
	defaultLimit = 100
	maxPageSize  = 200
	maxBodyBytes = 10 << 20
)

// Options configure a fake Mindbody.
type Options struct {
	// APIKey is the platform's API key the fake accepts (default
	// DefaultAPIKey).
	APIKey string
	// SignatureKey is the webhook subscription's messageSignatureKey the
	// fake signs deliveries with (default DefaultSignatureKey).
	SignatureKey string
	// PageSize clamps request.limit further than Mindbody's 200, so tests
	// see paging with few records. Zero keeps Mindbody's caps.
	PageSize int
	// Granularity is the resolution of LastModifiedDateTime (default one
	// millisecond).
	Granularity time.Duration
	// TokenLifetime is a staff token's life (default 24h, as Mindbody's).
	TokenLifetime time.Duration
	// SandboxDailyCalls caps the sandbox site's calls per UTC day (default
	// DefaultSandboxDailyCalls).
	SandboxDailyCalls int
	// Now is the clock for timestamps and token expiry (default time.Now).
	Now func() time.Time
	// Strict validates every request against Mindbody's Swagger spec and
	// answers 400 to one that does not match. New always turns it on;
	// Start honours it.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.SignatureKey == "" {
		o.SignatureKey = DefaultSignatureKey
	}
	if o.Granularity <= 0 {
		o.Granularity = time.Millisecond
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = 24 * time.Hour
	}
	if o.SandboxDailyCalls <= 0 {
		o.SandboxDailyCalls = DefaultSandboxDailyCalls
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Request is one request the fake received.
type Request struct {
	Method string
	// Path is below the base path: "/client/clients".
	Path   string
	Query  url.Values
	Header http.Header
	Body   string
}

// Server is a running fake Mindbody. Its URL plus "/public/v6" replaces
// https://api.mindbodyonline.com/public/v6.
type Server struct {
	URL string

	o       Options
	hs      *httptest.Server
	mux     *http.ServeMux
	spec    *spec // nil unless Strict
	report  func(format string, args ...any)
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	sites     map[int]*site
	tokens    map[string]*staffToken
	issued    int
	requests  []Request
	faults    []*pendingFault
	abandoned int
	seq       int64 // message ids
	hook      func(Request)
	// preissued are the tokens Connection and OtherConnection carry.
	preissued map[int]string
}

// New starts a fake for a test and closes it when the test ends. Every
// request is validated against Mindbody's Swagger spec; a request that
// does not match fails the test with t.Errorf (and is answered 400). When
// the spec cannot be found New fails the test in CI (CI set), and
// elsewhere logs loudly that only the validation is skipped, as
// providertest does for every fake; a CRMHOST_SPECS_DIR without the spec
// always fails.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s, err := start(o, t.Errorf)
	if errors.Is(err, ErrNoSpec) && os.Getenv("CI") == "" {
		t.Logf("WARNING: mindbody fake: %v; VALIDATION AGAINST MINDBODY'S SWAGGER SPEC IS SKIPPED", err)
		o.Strict = false
		s, err = start(o, t.Errorf)
	}
	if err != nil {
		t.Fatalf("mindbody fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (crmhost dev), with demo data in each
// site. Spec mismatches, when o.Strict is set, are logged to stderr and
// answered 400. It returns an error when o.Strict is set and the spec
// cannot be loaded.
func Start(o Options) (*Server, error) {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	s, err := start(o, logger.Printf)
	if err != nil {
		return nil, err
	}
	s.seedDemo()
	return s, nil
}

func start(o Options, report func(string, ...any)) (*Server, error) {
	o = o.withDefaults()
	s := &Server{o: o, report: report, closing: make(chan struct{}),
		sites: map[int]*site{}, tokens: map[string]*staffToken{}, preissued: map[int]string{}}
	if o.Strict {
		sp, err := loadSpec()
		if err != nil {
			return nil, err
		}
		s.spec = sp
	}
	s.sites[SiteA] = newSite(SiteA, "Lotus Day Spa", "America/Los_Angeles", map[string]string{StaffUsername: StaffPasswordA})
	s.sites[SiteB] = newSite(SiteB, "Iron Works Gym", "America/New_York", map[string]string{StaffUsername: StaffPasswordB})
	s.sites[SandboxSite] = newSite(SandboxSite, "API Sandbox Site", "America/Los_Angeles", map[string]string{SandboxUsername: SandboxPassword})
	s.sites[SandboxSite].sandbox = true
	for _, id := range []int{SiteA, SiteB, SandboxSite} {
		s.preissued[id] = s.issueLocked(s.sites[id], staffUserFor(id)).value
	}
	s.issued = 0 // the pre-issued tokens stand for ones the host already holds
	s.routes()
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /usertoken/issue", s.handleIssue)
	m.HandleFunc("POST /usertoken/renew", s.handleRenew)
	m.HandleFunc("DELETE /usertoken/revoke", s.handleRevoke)
	m.HandleFunc("GET /site/sites", s.handleSites)
	m.HandleFunc("GET /client/clients", s.siteHandler(s.handleClients))
	m.HandleFunc("GET /client/clientduplicates", s.siteHandler(s.handleDuplicates))
	m.HandleFunc("POST /client/addclient", s.siteHandler(s.handleAddClient))
	m.HandleFunc("POST /client/updateclient", s.siteHandler(s.handleUpdateClient))
	m.HandleFunc("GET /client/requiredclientfields", s.siteHandler(s.handleRequiredFields))
	m.HandleFunc("GET /client/customclientfields", s.siteHandler(s.handleCustomFields))
	m.HandleFunc("GET /client/contactlogs", s.siteHandler(s.handleContactLogs))
	m.HandleFunc("POST /client/addcontactlog", s.siteHandler(s.handleAddContactLog))
	m.HandleFunc("POST /client/updatecontactlog", s.siteHandler(s.handleUpdateContactLog))
	m.HandleFunc("DELETE /client/deletecontactlog", s.siteHandler(s.handleDeleteContactLog))
	m.HandleFunc("GET /client/clientvisits", s.siteHandler(s.handleClientVisits))
	m.HandleFunc("GET /appointment/staffappointments", s.siteHandler(s.handleStaffAppointments))
	m.HandleFunc("POST /appointment/addappointment", s.siteHandler(s.handleAddAppointment))
	m.HandleFunc("POST /appointment/updateappointment", s.siteHandler(s.handleUpdateAppointment))
	m.HandleFunc("GET /class/classes", s.siteHandler(s.handleClasses))
	m.HandleFunc("GET /class/classvisits", s.siteHandler(s.handleClassVisits))
	m.HandleFunc("POST /class/addclienttoclass", s.siteHandler(s.handleAddClientToClass))
	m.HandleFunc("POST /class/removeclientfromclass", s.siteHandler(s.handleRemoveClientFromClass))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newError(http.StatusNotFound, codeNotFound, "No HTTP resource was found that matches the request URI."))
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

// BaseURL is what a connection's base_url holds: URL plus "/public/v6".
func (s *Server) BaseURL() string { return s.URL + basePath }

// Connection returns a connection to SiteA with a valid staff token (as
// the host holds one after the first call), the staff login, the
// platform's app credentials, and the site id as the provider account.
func (s *Server) Connection() sdk.Connection {
	return s.connection(SiteA, StaffUsername, StaffPasswordA, s.preissued[SiteA])
}

// OtherConnection returns a connection to SiteB: another business, whose
// clients SiteA's connection never sees.
func (s *Server) OtherConnection() sdk.Connection {
	return s.connection(SiteB, StaffUsername, StaffPasswordB, s.preissued[SiteB])
}

// SandboxConnection returns a connection to the sandbox site -99.
func (s *Server) SandboxConnection() sdk.Connection {
	return s.connection(SandboxSite, SandboxUsername, SandboxPassword, s.preissued[SandboxSite])
}

// BadConnection returns a connection to SiteA whose staff password is
// wrong and whose token Mindbody does not know: every call answers 401
// DeniedAccess.
func (s *Server) BadConnection() sdk.Connection {
	c := s.connection(SiteA, StaffUsername, "not-the-password", "00000000000000000000000000000000")
	return c
}

// Unissued returns a valid connection to SiteA that holds no staff token
// yet: the driver must issue one.
func (s *Server) Unissued() sdk.Connection {
	c := s.connection(SiteA, StaffUsername, StaffPasswordA, "")
	return c
}

// TokensIssued counts the staff tokens issued through POST
// /usertoken/issue.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

func (s *Server) connection(siteID int, user, password, token string) sdk.Connection {
	secret := map[string]string{"password": password}
	if token != "" {
		secret["staff_token"] = token
		s.mu.Lock()
		if t := s.tokens[token]; t != nil {
			secret["staff_token_expires_at"] = t.expires.UTC().Format(time.RFC3339)
		}
		s.mu.Unlock()
	}
	id := strconv.Itoa(siteID)
	return sdk.Connection{
		Config:    map[string]string{sdk.ConfigBaseURL: s.BaseURL(), sdk.ConfigDefaultRegion: "US", "site_id": id, "username": user},
		Secret:    secret,
		App:       map[string]string{"api_key": s.o.APIKey, "webhook_signature_key": s.o.SignatureKey},
		AccountID: id,
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

// OnRequest sets a function the fake calls with every request before
// answering it (nil removes it): tests use it to change data at a precise
// point of a driver's call.
func (s *Server) OnRequest(fn func(Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// Abandoned counts the requests whose client went away before the fake
// answered.
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// ServeHTTP records the request, validates it against the spec, applies
// any injected fault, checks the API key, site and staff token, and
// routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, badRequest(codeInvalidParam, "The request body could not be read."))
		return
	}
	rec := Request{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, basePath),
		Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(rec)
	}
	defer func() {
		if r.Context().Err() != nil {
			s.mu.Lock()
			s.abandoned++
			s.mu.Unlock()
		}
	}()

	f, faulty := s.takeFault(r)
	var invalid error
	if s.spec != nil {
		if invalid = s.spec.validate(r, body); invalid != nil {
			s.report("mindbody fake: %s %s does not match Mindbody's Swagger spec: %v", r.Method, r.URL.Path, invalid)
		}
	}
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
		s.handle(httptest.NewRecorder(), r, body, invalid)
		drop(w)
		return
	}
	s.handle(w, r, body, invalid)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte, invalid error) {
	if !strings.HasPrefix(r.URL.Path, basePath+"/") {
		writeError(w, newError(http.StatusNotFound, codeNotFound, "No HTTP resource was found that matches the request URI."))
		return
	}
	if e := s.authenticate(r); e != nil {
		writeError(w, e)
		return
	}
	var unknown unknownOperation
	if invalid != nil && !errors.As(invalid, &unknown) {
		writeError(w, badRequest(codeInvalidParam, "The request is invalid: %v", invalid))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, basePath)
	r2.Body = io.NopCloser(bytes.NewReader(body))
	s.mux.ServeHTTP(w, r2)
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

// query returns the values of a query parameter the way Mindbody reads
// names: case-insensitively, with or without the "request." prefix.
func query(r *http.Request, name string) []string {
	want := queryKey(name)
	var out []string
	for k, vs := range r.URL.Query() {
		if queryKey(k) == want {
			out = append(out, vs...)
		}
	}
	return out
}

// query1 returns the first value of a query parameter, or "".
func query1(r *http.Request, name string) string {
	if vs := query(r, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

var (
	_ drivertest.Provider     = (*Server)(nil)
	_ drivertest.TokenIssuing = (*Server)(nil)
)
