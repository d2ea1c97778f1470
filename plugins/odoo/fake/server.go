package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// The fake server's databases and users. Account A is DefaultDatabase
// with DefaultLogin and DefaultAPIKey; account B, OtherDatabase, is a
// second database of the same server with its own user and key.
const (
	DefaultVersion  = "17.0"
	DefaultDatabase = "crmhost"
	DefaultLogin    = "bot@crmhost.example"
	DefaultAPIKey   = "4f0d6a0e1c3b2a59687766554433221100ffeedd"
	OtherDatabase   = "crmhost-other"
	OtherLogin      = "bot@other.example"
	OtherAPIKey     = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
	// BadAPIKey is a well-formed API key that no user has.
	BadAPIKey = "0000000000000000000000000000000000000000"
)

const maxBodyBytes = 10 << 20

// Options configure a fake Odoo server.
type Options struct {
	// Version is the server's version: "16.0", "17.0" (default),
	// "18.0", "saas~18.2" or "19.0". From saas~18.2 partners and leads
	// have no mobile field; from 19.0 the server also speaks JSON-2.
	Version string
	// NoPhoneValidation leaves partners without phone_validation's
	// phone_sanitized and phone_mobile_search fields (a database without
	// the CRM, SMS or phone_validation modules).
	NoPhoneValidation bool
	// NoCRM leaves the CRM app uninstalled: no crm.lead, no crm.stage.
	NoCRM bool
	// PartnerFirstname installs OCA's partner_firstname: partners get
	// firstname and lastname fields.
	PartnerFirstname bool
	// Forbidden models answer AccessError to the bot users.
	Forbidden []string
	// Now is the clock of write_date and create_date, which Odoo keeps to
	// the second (default time.Now).
	Now func() time.Time
	// Strict reports every request that does not match the documented
	// shape of Odoo's JSON-RPC and JSON-2 protocols (see protocol.go)
	// besides answering it as Odoo does. New always turns it on.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Request is one request the fake received. Protocol is "jsonrpc",
// "json2" or "http"; Service and Method name the JSON-RPC call
// ("object", "execute_kw"); Model and ModelMethod the model method it
// runs ("res.partner", "search_read").
type Request struct {
	Protocol    string
	Path        string
	Database    string
	Service     string
	Method      string
	Model       string
	ModelMethod string
	Body        string
}

// Server is a running fake Odoo server with two databases.
type Server struct {
	URL string

	o       Options
	v       version
	hs      *httptest.Server
	report  func(format string, args ...any)
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	dbs       map[string]*database
	requests  []Request
	faults    []*pendingFault
	abandoned int
	issued    int // successful authenticate calls
}

// New starts a fake for a test and closes it when the test ends. Every
// request that does not match the documented shape of the protocols
// fails the test (t.Errorf) besides being answered as Odoo answers it.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s := start(o, t.Errorf)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (crmhost dev, on 127.0.0.1). With
// o.Strict, requests that do not match the protocols' shape are logged to
// stderr.
func Start(o Options) (*Server, error) {
	logger := log.New(os.Stderr, "", log.LstdFlags)
	return start(o, logger.Printf), nil
}

func start(o Options, report func(string, ...any)) *Server {
	o = o.withDefaults()
	s := &Server{o: o, v: parseVersion(o.Version), report: report, closing: make(chan struct{}), dbs: map[string]*database{}}
	now := func() time.Time { return o.Now().UTC().Truncate(time.Second) }
	a := newDatabase(DefaultDatabase, o, now)
	a.addUser(DefaultLogin, "crmhost bot", DefaultAPIKey)
	b := newDatabase(OtherDatabase, o, now)
	b.addUser("admin@other.example", "Administrator", "")
	b.addUser(OtherLogin, "crmhost bot (other)", OtherAPIKey)
	s.dbs[a.name], s.dbs[b.name] = a, b
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s
}

// Close stops the server; requests sleeping on an injected latency end.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.Close()
	})
}

// Connection returns the credentials of account A: the server's URL,
// database, login and API key.
func (s *Server) Connection() sdk.Connection {
	return s.connection(DefaultDatabase, DefaultLogin, DefaultAPIKey)
}

// OtherConnection returns the credentials of account B, a second database
// of the same server: nothing written through one is visible through the
// other.
func (s *Server) OtherConnection() sdk.Connection {
	return s.connection(OtherDatabase, OtherLogin, OtherAPIKey)
}

// BadConnection returns account A's login with an API key Odoo rejects.
func (s *Server) BadConnection() sdk.Connection {
	return s.connection(DefaultDatabase, DefaultLogin, BadAPIKey)
}

// UnknownDatabase returns account A's credentials for a database the
// server does not have.
func (s *Server) UnknownDatabase() sdk.Connection {
	return s.connection("no-such-db", DefaultLogin, DefaultAPIKey)
}

func (s *Server) connection(db, login, key string) sdk.Connection {
	return sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: s.URL, sdk.ConfigDefaultRegion: "US", "database": db, "username": login},
		Secret: map[string]string{"api_key": key},
	}
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Calls counts the model method calls received (over either protocol),
// by "model.method" ("res.partner.search_read").
func (s *Server) Calls() map[string]int {
	out := map[string]int{}
	for _, r := range s.Requests() {
		if r.ModelMethod != "" {
			out[r.Model+"."+r.ModelMethod]++
		}
	}
	return out
}

// TokensIssued counts successful JSON-RPC authenticate calls: the uid
// sessions the fake handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Abandoned counts requests whose client went away before the fake
// answered.
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// ServeHTTP records and routes a request, after any injected fault.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		http.Error(w, "413 Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	req := s.describe(r, body)
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	f, faulty := s.takeFault(req)
	if faulty {
		if f.Kind == drivertest.Latency && !s.sleep(r, f.Latency) {
			return
		}
		if s.serveFault(w, req, f) {
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

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	switch {
	case r.URL.Path == "/jsonrpc":
		if r.Method != http.MethodPost {
			s.reportf("%s /jsonrpc: JSON-RPC takes POST", r.Method)
			notFound(w)
			return
		}
		s.serveJSONRPC(w, r, body)
	case strings.HasPrefix(r.URL.Path, "/json/2/") && s.v.json2():
		s.serveJSON2(w, r, body)
	case r.URL.Path == "/web/version" && s.v.json2() && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"version_info": s.v.info(), "version": s.v.serie})
	default:
		notFound(w)
	}
}

// describe extracts what Requests reports of a request.
func (s *Server) describe(r *http.Request, body []byte) Request {
	req := Request{Protocol: "http", Path: r.URL.Path, Body: string(body)}
	switch {
	case r.URL.Path == "/jsonrpc":
		req.Protocol = "jsonrpc"
		var env struct {
			Params struct {
				Service string `json:"service"`
				Method  string `json:"method"`
				Args    []any  `json:"args"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &env) == nil {
			p := env.Params
			req.Service, req.Method = p.Service, p.Method
			if len(p.Args) > 0 {
				req.Database, _ = p.Args[0].(string)
			}
			if p.Method == "execute_kw" || p.Method == "execute" {
				if len(p.Args) >= 5 {
					req.Model, _ = p.Args[3].(string)
					req.ModelMethod, _ = p.Args[4].(string)
				}
				if len(p.Args) >= 3 {
					req.Body = strings.ReplaceAll(req.Body, jsonString(p.Args[2]), `"[redacted]"`)
				}
			} else if p.Method == "authenticate" || p.Method == "login" {
				if len(p.Args) >= 3 {
					req.Body = strings.ReplaceAll(req.Body, jsonString(p.Args[2]), `"[redacted]"`)
				}
			}
		}
	case strings.HasPrefix(r.URL.Path, "/json/2/"):
		req.Protocol = "json2"
		req.Database = r.Header.Get("X-Odoo-Database")
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/json/2/"), "/")
		if len(parts) == 2 {
			req.Model, req.ModelMethod = parts[0], parts[1]
		}
	}
	return req
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) reportf(format string, args ...any) {
	if s.o.Strict {
		s.report("odoo fake: request does not match Odoo's documented shape: "+format, args...)
	}
}

// sleep waits d unless the client goes away (counted as abandoned) or the
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

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// notFound is werkzeug's 404 page, which Odoo serves for unknown routes
// (and for JSON-2 on servers older than 19, or databases it does not
// have).
func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n")
}

var _ drivertest.Provider = (*Server)(nil)
