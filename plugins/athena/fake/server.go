package fake

import (
	"bytes"
	"context"
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
	DefaultClientID     = "crmhost-fake-athena-client"
	DefaultClientSecret = "crmhost-fake-athena-secret"
	// DefaultTokenLimit is the preview environment's limit on token
	// requests: 5 a minute (production allows 50).
	DefaultTokenLimit = 5
	// DefaultSlots is how many open slots each practice starts with.
	DefaultSlots = 48
)

// athenaOne's page sizes: limit defaults to 1500 and may be at most 5000.
const (
	defaultPage  = 1500
	maxPage      = 5000
	maxBodyBytes = 1 << 20
)

// Options configure a fake athenahealth.
type Options struct {
	// ClientID and ClientSecret are the platform app's client credentials
	// (defaults DefaultClientID, DefaultClientSecret).
	ClientID, ClientSecret string
	// TokenLifetime is how long a token lasts (default one hour, as
	// athenahealth's do).
	TokenLifetime time.Duration
	// TokenLimit is how many tokens the token endpoint issues a minute
	// before it answers 429 for the rest of the minute (default
	// DefaultTokenLimit).
	TokenLimit int
	// PageSize clamps every list's limit, so that paging happens with few
	// records (default: athenaOne's, 1500 by default and at most 5000).
	PageSize int
	// Slots is how many open slots each practice starts with (default
	// DefaultSlots).
	Slots int
	// Now is the clock of record times, token expiry, feed processing and
	// the token limit (default time.Now).
	Now func() time.Time
	// Strict validates every request against the transcribed request
	// shapes (and, when found, the third-party OpenAPI in
	// ../shared/specs/athenahealth) and answers 400 to one that does not
	// match. New always turns it on; Start honours it.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
	}
	if o.TokenLimit <= 0 {
		o.TokenLimit = DefaultTokenLimit
	}
	if o.Slots <= 0 {
		o.Slots = DefaultSlots
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Request is one request the fake received.
type Request struct {
	Method    string
	Path      string
	Query     url.Values
	Body      string
	RequestID string // the X-Request-Id header
}

// Server is a running fake athenahealth: the API host of one environment
// (token endpoint and athenaOne API). Its URL replaces
// https://api.preview.platform.athenahealth.com.
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
	practices map[string]*practice
	tokens    map[string]time.Time // token -> expiry
	seeded    [2]string            // the tokens of Connection and OtherConnection
	issued    int                  // tokens the token endpoint issued
	window    tokenWindow
	nextID    int64 // patients, patient cases
	nextAppt  int64
	requests  []Request
	faults    []*pendingFault
	abandoned int
}

// New starts a fake for a test and closes it when the test ends. Every
// request is validated against the transcribed request shapes and the
// third-party OpenAPI; one that does not match fails the test with
// t.Errorf (and is answered 400). In CI (CI set) New fails the test when
// the third-party OpenAPI cannot be found (see SpecsDirEnv); elsewhere it
// warns once and validates against the transcribed shapes only.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	// In CI the third-party OpenAPI must be there; elsewhere a checkout
	// without the specs validates against the transcribed shapes only.
	s, err := start(o, t.Errorf, providertest.InCI())
	if err != nil {
		t.Fatalf("athena fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (crmhost dev). With o.Strict, requests
// that do not match the request shapes are logged to stderr and answered
// 400; the third-party OpenAPI is used when it is found.
func Start(o Options) (*Server, error) {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	return start(o, logger.Printf, false)
}

func start(o Options, report func(string, ...any), needThirdParty bool) (*Server, error) {
	o = o.withDefaults()
	s := &Server{o: o, report: report, closing: make(chan struct{}), tokens: map[string]time.Time{},
		practices: map[string]*practice{}, nextID: 1000, nextAppt: 2_200_000}
	if o.Strict {
		sp, err := loadSpecs(needThirdParty)
		if err != nil {
			return nil, err
		}
		if sp.third == nil {
			warnNoSpecs.Do(func() {
				fmt.Fprintf(os.Stderr, "WARNING: athena fake: THIRD-PARTY OPENAPI VALIDATION SKIPPED: %v; validating against the transcribed request shapes only\n", sp.thirdErr)
			})
		}
		s.specs = sp
	}
	now := o.Now()
	for id, granted := range map[string]bool{PracticeA: true, PracticeB: true, PracticeUngranted: false} {
		p := newPractice(id, granted)
		s.seedSlots(p, o.Slots, now)
		s.practices[id] = p
	}
	for i := range s.seeded {
		s.seeded[i] = s.mint(now)
	}
	s.routes()
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /oauth2/v1/token", s.handleToken)
	m.HandleFunc("GET /v1/{practiceid}/ping", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"pong": "true"})
	})
	m.HandleFunc("GET /v1/{practiceid}/patients", s.handleListPatients)
	m.HandleFunc("POST /v1/{practiceid}/patients", s.handleCreatePatient)
	m.HandleFunc("GET /v1/{practiceid}/patients/enhancedbestmatch", s.handleBestMatch)
	m.HandleFunc("GET /v1/{practiceid}/patients/{patientid}", s.handleGetPatient)
	m.HandleFunc("PUT /v1/{practiceid}/patients/{patientid}", s.handleUpdatePatient)
	m.HandleFunc("GET /v1/{practiceid}/patients/{patientid}/documents/patientcase", s.handleListCases)
	m.HandleFunc("POST /v1/{practiceid}/patients/{patientid}/documents/patientcase", s.handleCreateCase)
	m.HandleFunc("GET /v1/{practiceid}/appointments/booked", s.handleBooked)
	m.HandleFunc("GET /v1/{practiceid}/appointments/open", s.handleOpen)
	m.HandleFunc("GET /v1/{practiceid}/appointments/{appointmentid}", s.handleGetAppointment)
	m.HandleFunc("PUT /v1/{practiceid}/appointments/{appointmentid}", s.handleBook)
	m.HandleFunc("PUT /v1/{practiceid}/appointments/{appointmentid}/cancel", s.handleCancel)
	m.HandleFunc("PUT /v1/{practiceid}/appointments/{appointmentid}/reschedule", s.handleReschedule)
	for _, f := range []string{"patients", "appointments"} {
		m.HandleFunc("GET /v1/{practiceid}/"+f+"/changed", s.handleChanged(f))
		m.HandleFunc("GET /v1/{practiceid}/"+f+"/changed/subscription", s.handleSubscription(f))
		m.HandleFunc("POST /v1/{practiceid}/"+f+"/changed/subscription", s.handleSubscribe(f))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusNotFound, "The requested resource does not exist.", "")
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

// Connection returns a connection to PracticeA as the host sends it: the
// practice and department, base_url pointing at the fake, a valid token
// (without a known expiry, as an operator would paste it), the app's client
// credentials and the practice as account id.
func (s *Server) Connection() sdk.Connection { return s.connection(PracticeA, s.seeded[0]) }

// OtherConnection returns a connection to PracticeB, whose data is
// separate from PracticeA's.
func (s *Server) OtherConnection() sdk.Connection { return s.connection(PracticeB, s.seeded[1]) }

// BadConnection returns a connection to PracticeA whose token the fake
// rejects (401, as for a revoked token) and whose app client secret the
// token endpoint refuses (invalid_client).
func (s *Server) BadConnection() sdk.Connection {
	c := s.connection(PracticeA, "not-a-token-the-fake-issued")
	c.App[sdk.AppClientSecret] = "not-the-app-secret"
	return c
}

// Unissued returns a valid connection to PracticeA without a token: the
// driver must obtain one with the app credentials.
func (s *Server) Unissued() sdk.Connection {
	c := s.connection(PracticeA, "")
	c.Secret = map[string]string{}
	return c
}

func (s *Server) connection(practiceID, token string) sdk.Connection {
	return sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: s.URL, sdk.ConfigDefaultRegion: "US", "practice_id": practiceID,
			"department_id": Department, "patientcase_source": "PATIENT", "patientcase_subclass": "PATIENTCASE_CALLBACK"},
		Secret:    map[string]string{"access_token": token},
		App:       map[string]string{sdk.AppClientID: s.o.ClientID, sdk.AppClientSecret: s.o.ClientSecret},
		AccountID: practiceID,
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

// RequestCount is how many requests the fake has received.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// ServeHTTP records the request, validates it against the request shapes,
// applies any injected fault, authenticates it and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		fail(w, http.StatusBadRequest, "The request body could not be read.", "")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body),
		RequestID: r.Header.Get("X-Request-Id")})
	s.mu.Unlock()

	f, faulty := s.takeFault()
	var invalid error
	if s.specs != nil {
		if invalid = s.specs.validate(r, body); invalid != nil {
			s.report("athena fake: %s %s does not match athenaOne's documented request shape: %v", r.Method, r.URL.Path, invalid)
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

type practiceKey struct{}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, invalid error) {
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		p, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), practiceKey{}, p))
	}
	var unknown unknownOperation
	switch {
	case errors.As(invalid, &unknown):
		fail(w, http.StatusNotFound, "The requested resource does not exist.", "")
	case invalid != nil:
		fail(w, http.StatusBadRequest, "The request does not match athenaOne's documented request shape.", invalid.Error())
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// authenticate checks the bearer token and the practice of an API request
// the way athenahealth answers them: no token is the gateway's 401
// "Developer Inactive"; an unknown or expired token a 401 without a body;
// a practice that does not exist 404 "Invalid practice."; one that has not
// granted the app access 401 "Incorrect permissions.".
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*practice, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		developerInactive(w)
		return nil, false
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	s.mu.Lock()
	exp, known := s.tokens[token]
	p := s.practices[id]
	now := s.o.Now()
	s.mu.Unlock()
	switch {
	case !known || !now.Before(exp):
		invalidToken(w)
	case p == nil:
		invalidPractice(w)
	case !p.granted:
		notPermitted(w)
	default:
		return p, true
	}
	return nil, false
}

func practiceOf(r *http.Request) *practice { return r.Context().Value(practiceKey{}).(*practice) }

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
// held them (an injected Latency).
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

// limitOffset reads a list's limit and offset, limit clamped to the page
// size.
func (s *Server) limitOffset(q url.Values) (int, int) {
	limit, offset := defaultPage, 0
	if n, ok := atoi(q.Get("limit")); ok && n > 0 {
		limit = min(n, maxPage)
	}
	if s.o.PageSize > 0 {
		limit = min(limit, s.o.PageSize)
	}
	if n, ok := atoi(q.Get("offset")); ok && n > 0 {
		offset = n
	}
	return limit, offset
}

// page answers items[offset:offset+limit] under key with athenaOne's
// totalcount and relative next/previous links.
func page(w http.ResponseWriter, r *http.Request, key string, items []any, limit, offset int) {
	if items == nil {
		items = []any{}
	}
	total := len(items)
	end := min(offset+limit, total)
	if offset > total {
		offset = total
	}
	out := map[string]any{key: items[offset:end], "totalcount": total}
	link := func(off int) string {
		q := r.URL.Query()
		q.Set("offset", itoa(off))
		q.Set("limit", itoa(limit))
		return r.URL.Path + "?" + q.Encode()
	}
	if end < total {
		out["next"] = link(end)
	}
	if offset > 0 {
		out["previous"] = link(max(offset-limit, 0))
	}
	writeJSON(w, http.StatusOK, out)
}

var (
	_ drivertest.Provider     = (*Server)(nil)
	_ drivertest.TokenIssuing = (*Server)(nil)
)

// warnNoSpecs says once per process that the third-party OpenAPI is missing.
var warnNoSpecs sync.Once
