package fake

import (
	"bytes"
	"context"
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
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// Defaults of Options.
const (
	DefaultToken        = "pat-na1-fake-token"
	DefaultOtherToken   = "pat-na1-fake-token-other-portal"
	DefaultClientID     = "fake-client-id"
	DefaultClientSecret = "fake-client-secret"
	// DefaultSearchCap is HubSpot's 10,000-result search window.
	DefaultSearchCap = 10000
)

// HubSpot's page caps: list answers at most 100 objects a page, search
// at most 200.
const (
	listPageCap   = 100
	searchPageCap = 200
	maxBodyBytes  = 10 << 20
)

// The portals the fake pretends to be: hubID answers Token, otherHubID
// OtherToken.
const (
	hubID      = 1234567
	otherHubID = 2345678
	hubDomain  = "crmhost-fake.hubspot.com"
	userID     = 7654321
	userEmail  = "dev@crmhost-fake.example"
	appID      = 111111
)

// Options configure a fake HubSpot.
type Options struct {
	// Token is the valid private-app bearer token of the portal
	// (default DefaultToken).
	Token string
	// OtherToken is the private-app token of a second portal with its own
	// data (default DefaultOtherToken).
	OtherToken string
	// PageSize clamps the limit of list and search requests. Zero keeps
	// HubSpot's real caps: 100 a page for list, 200 for search.
	PageSize int
	// SearchCap is how many results one search query can page through
	// (HubSpot: 10,000; default DefaultSearchCap). Asking for a page at or
	// beyond it answers 400, as HubSpot does.
	SearchCap int
	// SearchLag delays writes from showing in search, like HubSpot's
	// indexing lag (default 0: search sees writes at once).
	SearchLag time.Duration
	// ClientID and ClientSecret are the OAuth app's credentials (defaults
	// DefaultClientID, DefaultClientSecret).
	ClientID, ClientSecret string
	// Now is the clock for timestamps, token expiry, search lag and
	// rate-limit windows (default time.Now).
	Now func() time.Time
	// Strict validates every request against HubSpot's official OpenAPI
	// specs and answers 400 to one that does not match. New always turns
	// it on; Start honours it.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.OtherToken == "" {
		o.OtherToken = DefaultOtherToken
	}
	if o.SearchCap <= 0 {
		o.SearchCap = DefaultSearchCap
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
	Body   string
}

// Server is a running fake HubSpot. Its URL replaces
// https://api.hubapi.com.
type Server struct {
	URL string

	o       Options
	hs      *httptest.Server
	mux     *http.ServeMux
	specs   *specSet // nil unless Strict
	report  func(format string, args ...any)
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	portals   []*portal // the Token's, then the OtherToken's
	nextID    int64
	lastWrite time.Time
	requests  []Request
	faults    []*pendingFault
	abandoned int
	codes     map[string]authCode    // OAuth code -> redirect URI and portal
	access    map[string]accessToken // OAuth access token -> expiry and portal
	refresh   map[string]*portal     // OAuth refresh token -> portal
	windows   map[string]*rateWindow // token -> rate-limit window
	events    int64                  // webhook event ids issued

	denied       atomic.Bool  // the consent page declines (SetConsent)
	refreshDelay atomic.Int64 // nanoseconds the next refresh answer waits (DelayRefresh)
}

// New starts a fake for a test and closes it when the test ends. Every
// request is validated against HubSpot's specs; a request that does not
// match fails the test with t.Errorf (and is answered 400). New fails the
// test at once when the specs cannot be found.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s, err := start(o, t.Errorf)
	if err != nil {
		t.Fatalf("hubspot fake: %v", err)
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
	s := &Server{o: o, report: report, closing: make(chan struct{}),
		portals: []*portal{newPortal(hubID, o.Token), newPortal(otherHubID, o.OtherToken)},
		codes:   map[string]authCode{}, access: map[string]accessToken{}, refresh: map[string]*portal{},
		windows: map[string]*rateWindow{}, nextID: 1000}
	if o.Strict {
		sp, err := loadSpecs()
		if err != nil {
			return nil, err
		}
		s.specs = sp
	}
	s.routes()
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /crm/v3/objects/{objectType}", s.handleList)
	m.HandleFunc("POST /crm/v3/objects/{objectType}", s.handleCreate)
	m.HandleFunc("GET /crm/v3/objects/{objectType}/{objectId}", s.handleGet)
	m.HandleFunc("PATCH /crm/v3/objects/{objectType}/{objectId}", s.handleUpdate)
	m.HandleFunc("DELETE /crm/v3/objects/{objectType}/{objectId}", s.handleArchive)
	m.HandleFunc("POST /crm/v3/objects/{objectType}/search", s.handleSearch)
	m.HandleFunc("POST /crm/v3/objects/{objectType}/batch/upsert", s.handleUpsert)
	m.HandleFunc("POST /crm/v3/objects/{objectType}/batch/read", s.handleBatchRead)
	m.HandleFunc("POST /crm/v3/objects/{objectType}/batch/archive", s.handleBatchArchive)
	m.HandleFunc("POST /crm/v3/objects/contacts/gdpr-delete", s.handleGDPRDelete)
	m.HandleFunc("PUT /crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}", s.handleDefaultAssociation)
	m.HandleFunc("GET /crm/v3/properties/{objectType}", s.handleProperties)
	m.HandleFunc("POST /oauth/v1/token", s.handleToken)
	m.HandleFunc("GET /oauth/v1/access-tokens/{token}", s.handleTokenInfo)
	m.HandleFunc("GET "+consentPath, s.handleAuthorize)
	m.HandleFunc("GET "+accountInfoPath, s.handleAccountInfo)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newError(http.StatusNotFound, catNotFound, "resource not found"))
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

// Connection returns a connection to the fake's first portal as the host
// sends it: a valid private-app token, base_url pointing at the fake, the
// app's OAuth client as app credentials and the portal id as account id.
func (s *Server) Connection() sdk.Connection {
	return s.connection(s.o.Token, hubID)
}

// OtherConnection returns a connection to the fake's second portal, whose
// data is separate from the first's.
func (s *Server) OtherConnection() sdk.Connection {
	return s.connection(s.o.OtherToken, otherHubID)
}

// BadConnection returns a connection to the fake with a token it rejects
// (401 INVALID_AUTHENTICATION).
func (s *Server) BadConnection() sdk.Connection {
	return s.connection("pat-na1-00000000-0000-0000-0000-000000000000", hubID)
}

func (s *Server) connection(token string, portal int) sdk.Connection {
	c := s.appConnection()
	c.Secret = map[string]string{"access_token": token}
	c.AccountID = strconv.Itoa(portal)
	return c
}

// appConnection is a connection without a secret: config and app
// credentials only.
func (s *Server) appConnection() sdk.Connection {
	return sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: s.URL, sdk.ConfigDefaultRegion: "US"},
		App:    map[string]string{"client_id": s.o.ClientID, "client_secret": s.o.ClientSecret},
	}
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Query = maps.Clone(r.Query)
		out[i] = r
	}
	return out
}

// Records returns the first portal's live (non-archived) objects of a type
// ("contacts" or "0-1"), ordered by id. Unknown types have none.
func (s *Server) Records(objectType string) []Object {
	t, ok := lookupType(objectType)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Object
	for _, rec := range s.portals[0].sorted(t) {
		if !rec.Archived {
			out = append(out, rec.Object.clone())
		}
	}
	return out
}

// ServeHTTP records the request, validates it against the specs, applies
// any injected fault, authenticates it and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, validationError("The request body could not be read"))
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body)})
	s.mu.Unlock()

	f, faulty := s.takeFault()
	var invalid error
	// The consent page is HubSpot's web app, not its API, and the account
	// details have no spec in shared/specs: neither is validated.
	if s.specs != nil && r.URL.Path != consentPath && r.URL.Path != accountInfoPath {
		if invalid = s.specs.validate(r, body); invalid != nil {
			s.report("hubspot fake: %s %s does not match HubSpot's OpenAPI spec: %v", r.Method, redactPath(r.URL.Path), invalid)
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
		s.handle(httptest.NewRecorder(), r, invalid)
		drop(w)
		return
	}
	s.handle(w, r, invalid)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, invalid error) {
	if strings.HasPrefix(r.URL.Path, "/crm/") {
		token, pt, e := s.authenticate(r)
		if e != nil {
			writeError(w, e)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), portalKey{}, pt))
		// HubSpot leaves the rate-limit headers off search responses.
		if !strings.HasSuffix(r.URL.Path, "/search") {
			s.rateHeaders(w.Header(), token)
		}
	}
	var unknown unknownOperation
	if invalid != nil && !errors.As(invalid, &unknown) {
		writeError(w, validationError("Invalid input JSON on line 1: %v", invalid))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// sleep waits d unless the client goes away (counted in Abandoned) or the
// server closes first; it reports whether the request should still be
// answered.
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

// Abandoned counts the requests whose client went away while the fake
// held them (an injected Latency): a driver that passes its call's
// context to its requests abandons them when the call ends.
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
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

var (
	_ drivertest.Provider       = (*Server)(nil)
	_ drivertest.Authorizing    = (*Server)(nil)
	_ drivertest.WebhookSending = (*Server)(nil)
)
