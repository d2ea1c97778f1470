package fake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a fake Sample CRM.
type Options struct {
	// Granularity truncates the records' timestamps (default 1ms; 1s makes
	// records share timestamps, as many APIs' do).
	Granularity time.Duration
	// PageCap clamps every page size the API answers (its limit, per_page),
	// below what a client asks for, as APIs with a server-side maximum do
	// (default 0: the documented maximums, 100 and 50).
	PageCap int
	// TokenLifetime is how long issued access tokens live (default 1h).
	TokenLifetime time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Strict validates every request against the Sample CRM's OpenAPI
	// document and answers 400 to one that does not match. New always
	// turns it on.
	Strict bool
	// Report receives spec mismatches (New: the test's Errorf; Start: the
	// standard logger).
	Report func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Granularity <= 0 {
		o.Granularity = time.Millisecond
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
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
	Query  string
	Header http.Header
	Body   string
}

// Server is a running Sample CRM with two accounts (A and B), each with
// its own API key, personal access token, user and OAuth client.
type Server struct {
	// URL is the API's base URL (http://127.0.0.1:port).
	URL string

	o       Options
	hs      *httptest.Server
	mux     *http.ServeMux
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	accounts  []*account
	tokens    map[string]issued
	issued    int
	nextID    int
	last      time.Time
	requests  []Request
	faults    []*pendingFault
	abandoned int
}

type issued struct {
	acct    *account
	expires time.Time
}

// New starts a fake for a test, validating every request against the
// OpenAPI document (a mismatch fails the test), and closes it when the
// test ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	if o.Report == nil {
		o.Report = t.Errorf
	}
	s, err := Start(o)
	if err != nil {
		t.Fatalf("sample CRM fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (dev mode); mismatches are logged.
// It fails only when o.Strict is set and the document cannot be loaded.
func Start(o Options) (*Server, error) {
	o = o.withDefaults()
	if o.Report == nil {
		o.Report = log.New(os.Stderr, "", log.LstdFlags).Printf
	}
	if o.Strict {
		if _, err := router(); err != nil {
			return nil, err
		}
	}
	s := &Server{o: o, closing: make(chan struct{}), tokens: map[string]issued{}, nextID: 1000,
		accounts: []*account{newAccount("A"), newAccount("B")}}
	s.routes()
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

// Close stops the server; requests held by an injected latency end.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.Close()
	})
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(OpenAPI)
	})
	m.HandleFunc("POST /oauth/token", s.handleToken)
	m.HandleFunc("GET /v1/me", s.api(s.handleMe))
	m.HandleFunc("GET /v1/contacts", s.api(s.listContacts))
	m.HandleFunc("POST /v1/contacts", s.api(s.create(contacts)))
	m.HandleFunc("GET /v1/contacts/search", s.api(s.searchContacts))
	m.HandleFunc("GET /v1/contacts/deleted", s.api(s.deletedContacts))
	m.HandleFunc("GET /v1/contacts/{id}", s.api(s.get(contacts)))
	m.HandleFunc("PATCH /v1/contacts/{id}", s.api(s.update(contacts)))
	m.HandleFunc("DELETE /v1/contacts/{id}", s.api(s.deleteContact))
	m.HandleFunc("GET /v1/leads", s.api(s.listLeads))
	m.HandleFunc("PUT /v1/leads/by-ref/{ref}", s.api(s.upsertLead))
	m.HandleFunc("GET /v1/leads/{id}", s.api(s.get(leads)))
	m.HandleFunc("PATCH /v1/leads/{id}", s.api(s.update(leads)))
	m.HandleFunc("DELETE /v1/leads/{id}", s.api(s.deleteLead))
	m.HandleFunc("GET /v1/notes", s.api(s.listNotes))
	m.HandleFunc("POST /v1/notes", s.api(s.create(notes)))
	m.HandleFunc("GET /v1/notes/{id}", s.api(s.get(notes)))
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint", "")
	})
	s.mux = m
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ServeHTTP records the request, validates it against the OpenAPI
// document, applies an injected fault (API requests only: not the token
// endpoint or the document) and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the request body is larger than 1 MiB", "")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if s.o.Strict {
		if err := validate(r, body); err != nil {
			var unknown unknownOperation
			if !errors.As(err, &unknown) {
				s.o.Report("sample CRM fake: %s %s does not match the OpenAPI document: %v", r.Method, r.URL.Path, err)
				writeError(w, http.StatusBadRequest, "bad_request", "the request does not match the API: "+oneLine(err.Error()), "")
				return
			}
		}
	}
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		if f, ok := s.takeFault(); ok {
			if s.serveFault(w, r, f) {
				return
			}
		}
	}
	s.mux.ServeHTTP(w, r)
}

// api wraps a handler with authentication: it gets the caller's account.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, a *account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, status, code, msg := s.authenticate(r)
		if a == nil {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="samplecrm", error="invalid_token"`)
			}
			writeError(w, status, code, msg, "")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		h(w, r, a)
	}
}

// authenticate finds the account behind the request's credentials: an
// X-Api-Key header, an api_key query parameter, a bearer token (a
// personal access token or an issued one) or basic auth.
func (s *Server) authenticate(r *http.Request) (*account, int, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	user, pass, basic := r.BasicAuth()
	bearer, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	for _, a := range s.accounts {
		switch {
		case key != "" && key == a.apiKey, basic && user == a.user && pass == a.pass, isBearer && bearer == a.pat:
			return a, 0, "", ""
		}
	}
	if isBearer {
		if t, ok := s.tokens[bearer]; ok {
			if s.o.Now().After(t.expires) {
				return nil, http.StatusUnauthorized, "token_expired", "the access token expired; get a new one"
			}
			return t.acct, 0, "", ""
		}
	}
	if key == "" && !basic && !isBearer {
		return nil, http.StatusUnauthorized, "unauthorized", "no credentials: send an X-Api-Key header, a bearer token or basic auth"
	}
	return nil, http.StatusUnauthorized, "unauthorized", "the credentials are not valid"
}

// handleToken is the OAuth 2.0 client-credentials grant (RFC 6749 §4.4),
// with client authentication by basic auth or in the form.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "the body is not a form"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, secret = unescape(id), unescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "only client_credentials is supported"})
		return
	}
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		if sc != "crm.read" && sc != "crm.write" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_scope", "error_description": "unknown scope " + sc})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if id != "" && id == a.clientID && secret == a.clientSecret {
			tok := "at_" + randomHex(16)
			s.tokens[tok] = issued{acct: a, expires: s.o.Now().Add(s.o.TokenLifetime)}
			s.issued++
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
				"expires_in": int(s.o.TokenLifetime / time.Second), "scope": "crm.read crm.write"})
			return
		}
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="samplecrm"`)
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "unknown client or wrong secret"})
}

// TokensIssued counts the access tokens issued so far.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// ExpireTokens makes every issued token expired, as if time had passed.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = time.Time{}
		s.tokens[k] = t
	}
}

func (s *Server) handleMe(w http.ResponseWriter, _ *http.Request, a *account) {
	writeJSON(w, http.StatusOK, map[string]any{"account": map[string]any{"id": a.id, "name": a.name}})
}

// stamp is the time of a write: now, truncated to the granularity.
func (s *Server) stamp() time.Time {
	return s.o.Now().UTC().Truncate(s.o.Granularity)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers the Sample CRM's error body.
func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	e := map[string]any{"code": code, "message": msg}
	if field != "" {
		e["field"] = field
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
