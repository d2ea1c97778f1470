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

// The fake's restaurants: the partner client reaches both; the standard
// client only the first.
const (
	RestaurantA = "6b8c6f0e-5b2a-4b8e-9f3e-1a2b3c4d5e6f"
	RestaurantB = "0d3f9a7c-2e41-4c5b-8a6d-7e8f9a0b1c2d"
)

// Defaults of Options.
const (
	DefaultClientID         = "fake-toast-partner-client"
	DefaultClientSecret     = "fake-toast-partner-secret"
	DefaultStandardClientID = "fake-toast-standard-client"
	DefaultStandardSecret   = "fake-toast-standard-secret"
	DefaultWebhookSecret    = "fake-toast-webhook-secret"
	// DefaultTokenTTL is Toast's token lifetime (expiresIn 86400).
	DefaultTokenTTL = 24 * time.Hour
	// DefaultPageSize is ordersBulk's largest page.
	DefaultPageSize = 100
)

// Scopes the fake's partner client holds unless Options.Scopes says
// otherwise. Without guest.pi:read Toast leaves guests' phone and email
// out of orders.
var DefaultScopes = []string{"orders:read", "guest.pi:read", "restaurants:read", "orders.orders:write"}

// standardScopes are a restaurant's standard API access: read-only.
var standardScopes = []string{"orders:read", "guest.pi:read", "restaurants:read"}

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// Options configure a fake Toast.
type Options struct {
	// ClientID and ClientSecret are the partner client's credentials,
	// reaching both restaurants (defaults DefaultClientID,
	// DefaultClientSecret).
	ClientID, ClientSecret string
	// Scopes are the partner client's scopes (default DefaultScopes).
	Scopes []string
	// WebhookSecret signs webhook deliveries (default
	// DefaultWebhookSecret).
	WebhookSecret string
	// TokenTTL is how long issued tokens live (default DefaultTokenTTL).
	TokenTTL time.Duration
	// PageSize clamps ordersBulk's pageSize, so small tests page (default
	// and at most 100, Toast's cap).
	PageSize int
	// BulkRateLimit enforces that many ordersBulk requests a second per
	// restaurant, answering 429 past it as Toast does (0: not enforced).
	BulkRateLimit int
	// Now is the clock for timestamps, token expiry and rate windows
	// (default time.Now).
	Now func() time.Time
	// Strict validates every request against Toast's official specs and
	// answers 400 to one that does not match. New always turns it on;
	// Start honours it.
	Strict bool
	// NoExternalIDReads makes GET /orders/v2/orders/{id} find orders by
	// GUID only (the spec names the parameter a GUID; its ExternalReference
	// says an order can be read by externalId): tests the driver's other
	// way to find the order a lost create placed.
	NoExternalIDReads bool
	// Demo seeds a few orders with guests (dev mode), among them Ada
	// Lovelace, +1 415 555 0100, ada@example.com.
	Demo bool
}

func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.Scopes == nil {
		o.Scopes = DefaultScopes
	}
	if o.WebhookSecret == "" {
		o.WebhookSecret = DefaultWebhookSecret
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.PageSize <= 0 || o.PageSize > DefaultPageSize {
		o.PageSize = DefaultPageSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Request is one request the fake received.
type Request struct {
	Method     string
	Path       string
	Query      url.Values
	Restaurant string
	Body       string
}

// Server is a running fake Toast. Its URL replaces
// https://ws-api.toasttab.com.
type Server struct {
	URL string

	o       Options
	hs      *httptest.Server
	mux     *http.ServeMux
	specs   *specSet // nil unless Strict
	report  func(format string, args ...any)
	closing chan struct{}
	once    sync.Once

	mu          sync.Mutex
	clients     map[string]*apiClient // by client id
	tokens      map[string]issued     // access token -> client and expiry
	issuedCount int
	restaurants map[string]*restaurantData
	requests    []Request
	faults      []*pendingFault
	abandoned   int
	bulkWindows map[string]*rateWindow // restaurant -> ordersBulk window
	display     int                    // display numbers handed out
	pre         map[string]string      // restaurant -> token Connection hands out
}

// New starts a fake for a test and closes it when the test ends. Every
// request is validated against Toast's specs; a request that does not
// match fails the test with t.Errorf (and is answered 400). New fails the
// test at once when the specs cannot be found.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s, err := start(o, t.Errorf)
	if err != nil {
		t.Fatalf("toast fake: %v", err)
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
		clients: map[string]*apiClient{
			o.ClientID:              {id: o.ClientID, secret: o.ClientSecret, scopes: o.Scopes, restaurants: []string{RestaurantA, RestaurantB}},
			DefaultStandardClientID: {id: DefaultStandardClientID, secret: DefaultStandardSecret, scopes: standardScopes, restaurants: []string{RestaurantA}},
		},
		tokens: map[string]issued{},
		restaurants: map[string]*restaurantData{
			RestaurantA: {guid: RestaurantA, name: "Crmhost Fake Bistro", orders: map[string]*Order{}},
			RestaurantB: {guid: RestaurantB, name: "Crmhost Fake Diner", orders: map[string]*Order{}},
		},
		bulkWindows: map[string]*rateWindow{},
		pre:         map[string]string{},
	}
	if o.Strict {
		sp, err := loadSpecs()
		switch {
		case errors.Is(err, providertest.ErrNoSpecs) && !providertest.InCI():
			// Outside CI a checkout without the specs still runs: only
			// the validation is skipped, and said so loudly.
			warnNoSpecs.Do(func() { fmt.Fprintf(os.Stderr, "WARNING: toast fake: SPEC VALIDATION SKIPPED: %v\n", err) })
		case err != nil:
			return nil, err
		default:
			s.specs = sp
		}
	}
	s.routes()
	if o.Demo {
		s.seedDemo()
	}
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /authentication/v1/authentication/login", s.handleLogin)
	m.HandleFunc("GET /restaurants/v1/restaurants/{guid}", s.authed(s.handleRestaurant))
	m.HandleFunc("GET /orders/v2/ordersBulk", s.authed(s.handleOrdersBulk))
	m.HandleFunc("GET /orders/v2/orders/{guid}", s.authed(s.handleOrder))
	m.HandleFunc("POST /orders/v2/orders", s.authed(s.handlePostOrder))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newError(http.StatusNotFound, codeNotFound, "No resource at %s %s", r.Method, r.URL.Path))
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

// Connection returns a connection to restaurant A as the host sends it:
// base_url pointing at the fake, the restaurant GUID, a token the fake
// issued to the partner client (as a host keeps it), the partner client
// and webhook secret as app credentials, and the restaurant as account id.
func (s *Server) Connection() sdk.Connection { return s.partnerConnection(RestaurantA, true) }

// OtherConnection returns a connection to restaurant B, whose orders and
// guests are separate from A's.
func (s *Server) OtherConnection() sdk.Connection { return s.partnerConnection(RestaurantB, true) }

// Unissued returns a valid connection to restaurant A without a token:
// the driver has to log in.
func (s *Server) Unissued() sdk.Connection { return s.partnerConnection(RestaurantA, false) }

// BadConnection returns a connection to restaurant A whose token the fake
// does not know and whose partner secret it refuses (401 both).
func (s *Server) BadConnection() sdk.Connection {
	c := s.partnerConnection(RestaurantA, false)
	c.Secret = map[string]string{"access_token": "fake-toast-revoked-token-0000"}
	c.App["client_secret"] = "fake-toast-wrong-secret"
	return c
}

// StandardConnection returns a connection to restaurant A with the
// restaurant's own standard-API-access credentials in the connection
// (client_id in config, client_secret in the secret) and no app
// credentials: what a tenant types into the connect form.
func (s *Server) StandardConnection() sdk.Connection {
	return sdk.Connection{
		Config:    map[string]string{sdk.ConfigBaseURL: s.URL, sdk.ConfigDefaultRegion: "US", "restaurant_guid": RestaurantA, "client_id": DefaultStandardClientID},
		Secret:    map[string]string{"client_secret": DefaultStandardSecret},
		AccountID: RestaurantA,
	}
}

func (s *Server) partnerConnection(guid string, withToken bool) sdk.Connection {
	c := sdk.Connection{
		Config:    map[string]string{sdk.ConfigBaseURL: s.URL, sdk.ConfigDefaultRegion: "US", "restaurant_guid": guid},
		Secret:    map[string]string{},
		App:       map[string]string{"client_id": s.o.ClientID, "client_secret": s.o.ClientSecret, "webhook_secret": s.o.WebhookSecret},
		AccountID: guid,
	}
	if withToken {
		tok, exp := s.preissued(guid)
		c.Secret["access_token"] = tok
		c.Secret["token_expires_at"] = exp.UTC().Format(time.RFC3339)
	}
	return c
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

// ServeHTTP records the request, validates it against the specs, applies
// any injected fault and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, badRequest("The request body could not be read"))
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Restaurant: r.Header.Get(headerRestaurant), Body: redactBody(r.URL.Path, body)})
	s.mu.Unlock()

	f, faulty := s.takeFault()
	var invalid error
	if s.specs != nil {
		if invalid = s.specs.validate(r, body); invalid != nil {
			s.report("toast fake: %s %s does not match Toast's OpenAPI spec: %v", r.Method, r.URL.Path, invalid)
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
	if invalid != nil {
		var unknown unknownOperation
		if errors.As(invalid, &unknown) {
			writeError(w, newError(http.StatusNotFound, codeNotFound, "No resource at %s %s", r.Method, r.URL.Path))
		} else {
			writeError(w, badRequest("The request does not match the API: %v", invalid))
		}
		return
	}
	if faulty && f.Kind == drivertest.LoseResponse {
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		drop(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// redactBody keeps client secrets out of the request log.
func redactBody(path string, body []byte) string {
	if strings.HasSuffix(path, "/authentication/login") {
		return "[login credentials]"
	}
	return string(body)
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

var (
	_ drivertest.Provider       = (*Server)(nil)
	_ drivertest.TokenIssuing   = (*Server)(nil)
	_ drivertest.Seeding        = (*Server)(nil)
	_ drivertest.WebhookSending = (*Server)(nil)
)

// warnNoSpecs says once per process that the specs are missing.
var warnNoSpecs sync.Once
