package fake

import (
	"bytes"
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

// Defaults of Options.
const (
	DefaultClientID        = "3MVG9fake.crmhost.consumer.key"
	DefaultClientSecret    = "fake-consumer-secret-0123456789"
	DefaultExternalIDField = "Crmhost_Key__c"
	// LatestVersion is the newest REST API version the fake serves;
	// versions from MinVersion on are accepted.
	LatestVersion = "66.0"
	MinVersion    = 31
	// DefaultSessionTimeout is an org's default session timeout: access
	// tokens die this long after they are issued.
	DefaultSessionTimeout = 2 * time.Hour
	// DefaultDailyLimit is a Developer Edition org's daily API requests.
	DefaultDailyLimit = 15000
)

// Config keys of the connections the fake hands out (the driver's).
const (
	ConfigLoginURL    = "login_url"
	ConfigInstanceURL = "instance_url"
	ConfigAPIVersion  = "api_version"
)

// The two orgs the fake holds: A is Connection's, B OtherConnection's.
var (
	OrgA = "00D5g000001Acme" + checksum("00D5g000001Acme")
	OrgB = "00D5g000002Bolt" + checksum("00D5g000002Bolt")
)

const maxBodyBytes = 10 << 20

// Options configure a fake Salesforce.
type Options struct {
	// ClientID and ClientSecret are the connected app's consumer key and
	// secret (defaults DefaultClientID, DefaultClientSecret).
	ClientID, ClientSecret string
	// CallbackURLs are the connected app's callback URLs; the authorize
	// endpoint refuses any other redirect_uri. Empty accepts any.
	CallbackURLs []string
	// SessionTimeout is how long access tokens live (default
	// DefaultSessionTimeout). Salesforce's token response does not say.
	SessionTimeout time.Duration
	// RotateRefreshTokens makes each refresh-token grant answer a new
	// refresh token and retire the old one; presenting a retired one
	// revokes the whole token family (Salesforce's refresh token rotation).
	RotateRefreshTokens bool
	// PageSize, when set, caps a query batch below Salesforce's 200-2000
	// so tests see nextRecordsUrl paging with few records.
	PageSize int
	// SearchLag hides writes from SOSL for this long, like Salesforce's
	// asynchronous search indexing (default 0). SOQL sees writes at once.
	SearchLag time.Duration
	// DailyLimit is each org's daily API request allocation (default
	// DefaultDailyLimit); past it calls answer 403 REQUEST_LIMIT_EXCEEDED.
	DailyLimit int
	// ExternalIDField is the custom External ID (unique) text field on
	// every writable object (default DefaultExternalIDField); "-" leaves
	// it out, as in an org that was never prepared.
	ExternalIDField string
	// DuplicateRules turns on the standard duplicate rules: a Contact or
	// Lead with the email of an existing one answers DUPLICATES_DETECTED.
	DuplicateRules bool
	// InstanceURL replaces instance_url in token responses (default the
	// fake's URL): tests of a driver refusing a host that is not
	// Salesforce's.
	InstanceURL string
	// OmitTokenFields leaves these fields out of token responses.
	OmitTokenFields []string
	// SigningSecret signs token responses instead of ClientSecret: tests of
	// a driver that must refuse an answer whose signature does not match.
	SigningSecret string
	// Now is the clock for timestamps, token expiry, the delete log and
	// search lag (default time.Now).
	Now func() time.Time
	// Strict validates every request against Salesforce's official Postman
	// collection and answers 400 to one that does not match. New turns it
	// on; Start honours it.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = DefaultSessionTimeout
	}
	if o.DailyLimit <= 0 {
		o.DailyLimit = DefaultDailyLimit
	}
	switch o.ExternalIDField {
	case "":
		o.ExternalIDField = DefaultExternalIDField
	case "-":
		o.ExternalIDField = ""
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

// Server is a running fake Salesforce: login host and instance in one.
// Its URL replaces https://login.salesforce.com and the instance URL.
type Server struct {
	URL string

	o       Options
	hs      *httptest.Server
	spec    *collection // nil unless Strict
	report  func(format string, args ...any)
	closing chan struct{}
	once    sync.Once

	mu            sync.Mutex
	orgs          map[string]*org // by org id
	lastWrite     time.Time
	requests      []Request
	faults        []*pendingFault
	abandoned     int
	codes         map[string]*authCode
	access        map[string]*accessToken
	refresh       map[string]*refreshToken
	revoked       map[string]bool // token families
	issued        int
	deny          bool
	locators      map[string]*locator
	connA         sdk.Connection
	connB         sdk.Connection
	notifications int
	badRefresh    string
}

// New starts a fake for a test and closes it when the test ends. Every
// request is validated against Salesforce's Postman collection; one that
// does not match fails the test with t.Errorf (and is answered 400). When
// the collection cannot be found New fails the test in CI, and elsewhere
// logs loudly that only the validation is skipped.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s, err := start(o, t.Errorf, func(err error) error {
		if os.Getenv("CI") != "" {
			return err
		}
		t.Logf("salesforce fake: %v; VALIDATION AGAINST SALESFORCE'S POSTMAN COLLECTION IS SKIPPED", err)
		return nil
	})
	if err != nil {
		t.Fatalf("salesforce fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (crmhost dev). Requests that do not
// match the collection, when o.Strict is set, are logged to stderr and
// answered 400. It returns an error when o.Strict is set and the
// collection cannot be loaded.
func Start(o Options) (*Server, error) {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	return start(o, logger.Printf, func(err error) error { return err })
}

func start(o Options, report func(string, ...any), missing func(error) error) (*Server, error) {
	o = o.withDefaults()
	s := &Server{o: o, report: report, closing: make(chan struct{}), orgs: map[string]*org{},
		codes: map[string]*authCode{}, access: map[string]*accessToken{}, refresh: map[string]*refreshToken{},
		revoked: map[string]bool{}, locators: map[string]*locator{}}
	if o.Strict {
		c, err := loadCollection()
		if err != nil {
			if err = missing(err); err != nil {
				return nil, err
			}
		}
		s.spec = c
	}
	ext := o.ExternalIDField
	a := newOrg(OrgA, "Acme Robotics", "0055g000001Ada0"+checksum("0055g000001Ada0"), "ada@acme.example", "5g000",
		append(standardObjects(ext), customObject("Vehicle__c", "Vehicle", "Vehicles", "a01", ext,
			text("Make__c", "Make", 80), text("VIN__c", "VIN", 17))))
	b := newOrg(OrgB, "Bolt Motors", "0055g000002Bob0"+checksum("0055g000002Bob0"), "bob@bolt.example", "8x000",
		append(standardObjects(ext), customObject("Pet__c", "Pet", "Pets", "a02", ext, text("Species__c", "Species", 40))))
	s.orgs[a.id], s.orgs[b.id] = a, b
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	s.connA = s.connection(a)
	s.connB = s.connection(b)
	s.badRefresh = a.id[:15] + "!" + "5Aep861" + randomHex(20)
	return s, nil
}

// connection issues a token pair for a user of g, as a completed OAuth
// flow would have, and returns the connection a host would send.
func (s *Server) connection(g *org) sdk.Connection {
	s.mu.Lock()
	at, rt := s.issue(g, "")
	s.mu.Unlock()
	return sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: s.URL, ConfigLoginURL: s.URL, ConfigInstanceURL: s.URL,
			ConfigAPIVersion: LatestVersion, sdk.ConfigDefaultRegion: "US"},
		Secret:    map[string]string{"access_token": at, "refresh_token": rt},
		App:       s.App(),
		AccountID: g.id,
	}
}

// App returns the connected app's credentials, as an operator stores them
// for the driver.
func (s *Server) App() map[string]string {
	return map[string]string{"client_id": s.o.ClientID, "client_secret": s.o.ClientSecret}
}

// Close stops the server; requests sleeping on an injected latency end.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.Close()
	})
}

// Connection returns a connection with a live token pair for org A.
func (s *Server) Connection() sdk.Connection { return cloneConn(s.connA) }

// OtherConnection returns a connection with a live token pair for org B,
// whose records are its own.
func (s *Server) OtherConnection() sdk.Connection { return cloneConn(s.connB) }

// BadConnection returns a connection to the fake whose access and refresh
// tokens it rejects (401 INVALID_SESSION_ID; invalid_grant).
func (s *Server) BadConnection() sdk.Connection {
	c := cloneConn(s.connA)
	c.Secret = map[string]string{"access_token": OrgA[:15] + "!AQ4AQbadbadbadbadbadbadbadbadbad", "refresh_token": s.badRefresh}
	return c
}

func cloneConn(c sdk.Connection) sdk.Connection {
	c.Config, c.Secret, c.App = maps.Clone(c.Config), maps.Clone(c.Secret), maps.Clone(c.App)
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

// Records returns the live records of an object in an org (OrgA, OrgB),
// ordered by id.
func (s *Server) Records(orgID, object string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.orgs[orgID]
	if g == nil {
		return nil
	}
	o, ok := g.object(object)
	if !ok {
		return nil
	}
	var rows []Record
	for _, st := range g.live(o, false) {
		rows = append(rows, st.rec.clone())
	}
	sortRows(o, rows, nil)
	return rows
}

// Abandoned counts the requests whose client went away before the fake
// answered.
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// ServeHTTP records the request, validates it against the collection,
// applies any injected fault and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeErrors(w, newError(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "The request body could not be read"))
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
	s.mu.Unlock()

	f, faulty := s.takeFault()
	if s.spec != nil {
		if err := s.spec.validate(r, body); err != nil {
			s.report("salesforce fake: %s %s does not match Salesforce's Postman collection: %v", r.Method, redactPath(r.URL.Path), err)
			writeErrors(w, newError(http.StatusBadRequest, "INVALID_REQUEST", "The request does not match Salesforce's API: %v", err))
			return
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
		s.route(httptest.NewRecorder(), r, body)
		drop(w)
		return
	}
	s.route(w, r, body)
}

// route dispatches to the OAuth endpoints or the REST API.
func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	p := r.URL.Path
	switch {
	case p == "/services/oauth2/authorize" && r.Method == http.MethodGet:
		s.handleAuthorize(w, r)
	case p == "/services/oauth2/token" && r.Method == http.MethodPost:
		s.handleToken(w, r)
	case p == "/services/oauth2/revoke" && r.Method == http.MethodPost:
		s.handleRevoke(w, r)
	case p == "/services/oauth2/userinfo" && r.Method == http.MethodGet:
		s.handleUserInfo(w, r)
	case p == "/services/data" || p == "/services/data/":
		s.handleVersions(w, r)
	case strings.HasPrefix(p, "/services/data/v"):
		s.handleData(w, r, body)
	default:
		writeErrors(w, notFoundError())
	}
}

// sleep waits d unless the client goes away or the server closes first;
// it reports whether the request should still be answered, and counts a
// client that went away.
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

// redactPath hides the values an external-id path or a query locator
// carries when a path is reported.
func redactPath(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) > 7 {
		for i := 7; i < len(parts); i++ {
			parts[i] = "…"
		}
	}
	return strings.Join(parts, "/")
}

// stamp returns the time of a write: now to the millisecond, never before
// the previous write. Writes in the same millisecond share it, as on
// Salesforce. Callers hold s.mu.
func (s *Server) stamp() time.Time {
	t := s.o.Now().UTC().Truncate(time.Millisecond)
	if t.Before(s.lastWrite) {
		t = s.lastWrite
	}
	s.lastWrite = t
	return t
}

// The fake is an Authorizing and WebhookSending provider; it is not a
// TokenIssuing one: the driver never obtains tokens on its own (the host
// refreshes them, serialised across replicas).
var (
	_ drivertest.Provider       = (*Server)(nil)
	_ drivertest.Authorizing    = (*Server)(nil)
	_ drivertest.WebhookSending = (*Server)(nil)
)
