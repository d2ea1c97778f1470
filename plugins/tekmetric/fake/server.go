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
)

// The fake's partner app and shops.
const (
	// DefaultClientID and DefaultClientSecret are the partner app's client
	// credentials.
	DefaultClientID     = "crmhost-partner"
	DefaultClientSecret = "fake-partner-secret-0123456789"
	// ShopA and ShopB have authorized the partner app; ShopOther exists
	// but has not.
	ShopA     = 101
	ShopB     = 202
	ShopOther = 303
	// DefaultPageCap is Tekmetric's largest page.
	DefaultPageCap = 100
	// DefaultRatePerMinute is Tekmetric's production rate limit.
	DefaultRatePerMinute = 600
)

const maxBodyBytes = 1 << 20

// Options configure a fake Tekmetric.
type Options struct {
	// PageCap is the largest page the fake answers; a larger size is
	// silently capped to it, as Tekmetric caps at 100 (the default).
	PageCap int
	// RatePerMinute is the partner app's request budget per minute (default
	// 600, Tekmetric's production limit; the sandbox's is 300); negative
	// turns the limit off.
	RatePerMinute int
	// Granularity is the resolution of the fake's timestamps (default 1ms,
	// as Tekmetric's create answers show; Second reproduces its lists).
	Granularity time.Duration
	// RawPhoneSearch makes the customer search match a phone query against
	// the number as stored, character for character, instead of by its
	// digits (Tekmetric's matching is not documented; the driver must find
	// customers either way).
	RawPhoneSearch bool
	// Now is the clock for timestamps and the rate-limit window (default
	// time.Now).
	Now func() time.Time
	// Strict validates every request against the transcribed request
	// shapes (tekmetric-api-v1.yaml) and answers 400 to one that does not
	// match. New always turns it on; Start honours it.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.PageCap <= 0 {
		o.PageCap = DefaultPageCap
	}
	if o.RatePerMinute == 0 {
		o.RatePerMinute = DefaultRatePerMinute
	}
	if o.Granularity <= 0 {
		o.Granularity = time.Millisecond
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

// Server is a running fake Tekmetric. Its URL replaces
// https://shop.tekmetric.com.
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
	clients   map[string]*client // client id ->
	tokens    map[string]*token  // access token ->
	issued    int
	shops     map[int64]*shop
	customers map[int64]*customer
	orders    map[int64]*repairOrder
	appts     map[int64]*appointment
	nextID    int64
	requests  []Request
	faults    []*pendingFault
	abandoned int
	window    rateWindow
}

// New starts a fake for a test and closes it when the test ends. Every
// request is validated against the transcribed request shapes; one that
// does not match fails the test with t.Errorf (and is answered 400).
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s, err := start(o, t.Errorf)
	if err != nil {
		t.Fatalf("tekmetric fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (crmhost dev). Requests that do not
// match the documented shapes, when o.Strict is set, are logged to stderr
// and answered 400.
func Start(o Options) (*Server, error) {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	return start(o, logger.Printf)
}

func start(o Options, report func(string, ...any)) (*Server, error) {
	o = o.withDefaults()
	s := &Server{o: o, report: report, closing: make(chan struct{}),
		clients: map[string]*client{}, tokens: map[string]*token{}, shops: map[int64]*shop{},
		customers: map[int64]*customer{}, orders: map[int64]*repairOrder{}, appts: map[int64]*appointment{},
		nextID: 35680}
	if o.Strict {
		sp, err := loadSpec()
		if err != nil {
			return nil, err
		}
		s.spec = sp
	}
	s.seedAccounts()
	s.routes()
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/v1/oauth/token", s.handleToken)
	m.HandleFunc("GET /api/v1/shops", s.authed(s.handleShops))
	m.HandleFunc("GET /api/v1/shops/{id}", s.authed(s.handleShop))
	m.HandleFunc("DELETE /api/v1/shops/{id}/scope", s.authed(s.handleDisconnect))
	m.HandleFunc("GET /api/v1/customers", s.authed(s.handleListCustomers))
	m.HandleFunc("POST /api/v1/customers", s.authed(s.handleCreateCustomer))
	m.HandleFunc("GET /api/v1/customers/{id}", s.authed(s.handleGetCustomer))
	m.HandleFunc("PATCH /api/v1/customers/{id}", s.authed(s.handleUpdateCustomer))
	m.HandleFunc("GET /api/v1/repair-orders", s.authed(s.handleListOrders))
	m.HandleFunc("GET /api/v1/repair-orders/{id}", s.authed(s.handleGetOrder))
	m.HandleFunc("PATCH /api/v1/repair-orders/{id}", s.authed(s.handleUpdateOrder))
	m.HandleFunc("GET /api/v1/appointments", s.authed(s.handleListAppointments))
	m.HandleFunc("POST /api/v1/appointments", s.authed(s.handleCreateAppointment))
	m.HandleFunc("GET /api/v1/appointments/{id}", s.authed(s.handleGetAppointment))
	m.HandleFunc("PATCH /api/v1/appointments/{id}", s.authed(s.handleUpdateAppointment))
	m.HandleFunc("DELETE /api/v1/appointments/{id}", s.authed(s.handleDeleteAppointment))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "No endpoint "+r.Method+" "+r.URL.Path)
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

// Connection returns a connection to shop A with the partner app's
// current token (a new one if it was revoked) and app credentials.
func (s *Server) Connection() sdk.Connection { return s.connection(ShopA, s.currentToken(), true) }

// OtherConnection returns a connection to shop B, which has authorized
// the same partner app: the same token reaches both shops, and nothing of
// one is visible through the other's connection when the driver keeps to
// its shop.
func (s *Server) OtherConnection() sdk.Connection { return s.connection(ShopB, s.currentToken(), true) }

// BadConnection returns a connection to shop A whose token Tekmetric
// rejects (401, empty body) and whose client secret it refuses
// (invalid_client), so no new token can be obtained either.
func (s *Server) BadConnection() sdk.Connection {
	c := s.connection(ShopA, "00000000-dead-beef-0000-000000000000", true)
	c.App[appSecretKey] = "wrong-partner-secret"
	return c
}

// Unissued returns a valid connection to shop A without a token: the
// driver must obtain one with the app credentials.
func (s *Server) Unissued() sdk.Connection { return s.connection(ShopA, "", true) }

// TokensIssued counts the tokens the token endpoint has answered.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Abandoned counts the requests whose client went away before the fake
// answered them.
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// App credential keys, as the driver declares them.
const (
	appIDKey     = "client_id"
	appSecretKey = "client_secret"
)

func (s *Server) connection(shopID int64, tok string, app bool) sdk.Connection {
	shopStr := fmt.Sprint(shopID)
	c := sdk.Connection{
		Config:    map[string]string{sdk.ConfigBaseURL: s.URL, "shop_id": shopStr, sdk.ConfigDefaultRegion: "US"},
		Secret:    map[string]string{},
		AccountID: shopStr,
	}
	if tok != "" {
		c.Secret["access_token"] = tok
	}
	if app {
		c.App = map[string]string{appIDKey: DefaultClientID, appSecretKey: DefaultClientSecret}
	}
	return c
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Query, r.Header = maps.Clone(r.Query), r.Header.Clone()
		out[i] = r
	}
	return out
}

// ServeHTTP records the request, validates it against the documented
// shapes, applies any injected fault and the rate limit, and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, http.StatusBadRequest, "The request body could not be read")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
	s.mu.Unlock()

	f, faulty := s.takeFault(r)
	if faulty && f.Kind == drivertest.Latency && !s.sleep(r, f.Latency) {
		return
	}
	if s.spec != nil {
		if invalid := s.spec.validate(r, body); invalid != nil {
			s.report("tekmetric fake: %s %s does not match Tekmetric's documented request shape: %v", r.Method, r.URL.Path, invalid)
			var unknown unknownOperation
			switch {
			case errors.As(invalid, &unknown):
				writeError(w, http.StatusNotFound, "No endpoint "+r.Method+" "+r.URL.Path)
			case r.URL.Path == tokenPath:
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": invalid.Error()})
			default:
				writeError(w, http.StatusBadRequest, "Bad request: "+invalid.Error())
			}
			return
		}
	}
	if faulty && s.serveFault(w, r, f) {
		return
	}
	if retry, limited := s.spend(); limited {
		w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds()+0.999)))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if faulty && f.Kind == drivertest.LoseResponse {
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		drop(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// sleep waits d unless the client goes away (counted as abandoned) or the
// server closes first; it reports whether the request should be answered.
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

// stamp is the time of a write, at the fake's granularity. Callers hold
// s.mu.
func (s *Server) stamp() time.Time {
	return s.o.Now().UTC().Truncate(s.o.Granularity)
}

// newID returns the next record id (ids are unique across shops, as
// Tekmetric's are). Callers hold s.mu.
func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// shopParam parses the shop query parameter (0 when absent).
func shopParam(r *http.Request) (int64, bool) {
	v := strings.TrimSpace(r.URL.Query().Get("shop"))
	if v == "" {
		return 0, true
	}
	var n int64
	_, err := fmt.Sscan(v, &n)
	return n, err == nil
}

var (
	_ drivertest.Provider     = (*Server)(nil)
	_ drivertest.TokenIssuing = (*Server)(nil)
	_ drivertest.Seeding      = (*Server)(nil)
)
