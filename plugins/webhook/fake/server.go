package fake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/getkin/kin-openapi/openapi3"
)

// The accounts the fake serves, and their secrets (Standard Webhooks
// secrets: whsec_ and the base64 of 32 bytes).
const (
	AccountA      = "acct-a"
	AccountB      = "acct-b"
	DefaultSecret = "whsec_Y3JtaG9zdC1mYWtlLXJlY2VpdmVyLWFjY291bnQtYQ=="
	OtherSecret   = "whsec_Y3JtaG9zdC1mYWtlLXJlY2VpdmVyLWFjY291bnQtYg=="
	// WrongSecret is well-formed but belongs to no account.
	WrongSecret = "whsec_bm90LXRoZS1zZWNyZXQtb2YtYW55LWFjY291bnQ="
)

// Options configure a receiver fake.
type Options struct {
	// Now is the receiver's clock (time.Now): timestamps and the
	// signature tolerance.
	Now func() time.Time
	// Granularity truncates updated_at (default 1ms; 1s makes records
	// written together share a timestamp).
	Granularity time.Duration
	// PageSize caps a list_recent page (default 100).
	PageSize int
	// Tolerance is how far webhook-timestamp may be from Now (default
	// 5 minutes, the reference libraries').
	Tolerance time.Duration
	// ReadOnly declares customers with the read verbs only (lookup,
	// search, list), as a CRM whose customers come from elsewhere: tests
	// write them with Seed.
	ReadOnly bool
	// Region reads phone numbers stored without a country code (US).
	Region string
	// Strict validates every envelope against the contract, and every
	// answer the fake gives, reporting mismatches; New always sets it.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Granularity <= 0 {
		o.Granularity = time.Millisecond
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 5 * time.Minute
	}
	if o.Region == "" {
		o.Region = "US"
	}
	return o
}

// Request is one request the fake received.
type Request struct {
	Method    string
	Path      string
	Type      string // the envelope's type, when it decoded
	WebhookID string
	Timestamp string
	Signature string // the webhook-signature header
	Payload   string // the signed bytes: the body, or the GET's decoded envelope
}

// Server is a running receiver fake.
type Server struct {
	// URL is the server's root; accounts live at URL/hooks/<account>.
	URL string

	o       Options
	hs      *httptest.Server
	doc     *openapi3.T // nil unless Strict
	report  func(format string, args ...any)
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	accounts  map[string]*account
	nextID    int64
	requests  []Request
	faults    []*pendingFault
	abandoned int
}

// New starts a fake for a test, validating against the contract (a
// mismatch fails the test with t.Errorf), and closes it when the test ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	o.Strict = true
	s, err := start(o, t.Errorf)
	if err != nil {
		t.Fatalf("webhook receiver fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside tests (crmhost dev); mismatches are logged
// to stderr.
func Start(o Options) (*Server, error) {
	return start(o, log.New(os.Stderr, "", log.LstdFlags).Printf)
}

func start(o Options, report func(string, ...any)) (*Server, error) {
	o = o.withDefaults()
	s := &Server{o: o, report: report, closing: make(chan struct{}), nextID: 1000, accounts: map[string]*account{}}
	for id, secret := range map[string]string{AccountA: DefaultSecret, AccountB: OtherSecret} {
		key, err := secretKey(secret)
		if err != nil {
			return nil, err
		}
		s.accounts[id] = newAccount(id, [][]byte{key}, o.ReadOnly)
	}
	if o.Strict {
		doc, err := loadContract()
		if err != nil {
			return nil, fmt.Errorf("load the contract: %w", err)
		}
		s.doc = doc
	}
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

// Close stops the server; requests sleeping on an injected latency end.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.hs.Close()
	})
}

// Endpoint is the endpoint URL of an account.
func (s *Server) Endpoint(account string) string { return s.URL + "/hooks/" + account }

// Connection is a connection to account A as the host sends it: the
// endpoint URL, A's secret, A's account id.
func (s *Server) Connection() sdk.Connection { return s.connection(AccountA, DefaultSecret) }

// OtherConnection is a connection to account B, whose data and secret are
// its own.
func (s *Server) OtherConnection() sdk.Connection { return s.connection(AccountB, OtherSecret) }

// BadConnection is a connection to account A signed with a secret A does
// not have: the fake refuses its signatures (401 auth_error).
func (s *Server) BadConnection() sdk.Connection { return s.connection(AccountA, WrongSecret) }

func (s *Server) connection(account, secret string) sdk.Connection {
	return sdk.Connection{
		Config:    map[string]string{sdk.ConfigBaseURL: s.Endpoint(account), sdk.ConfigDefaultRegion: s.o.Region},
		Secret:    map[string]string{"signing_secret": secret},
		AccountID: account,
	}
}

// SetSecrets sets the whsec_ secrets account accepts (a receiver in the
// middle of a rotation accepts the old and the new).
func (s *Server) SetSecrets(account string, secrets ...string) error {
	keys := make([][]byte, 0, len(secrets))
	for _, sec := range secrets {
		k, err := secretKey(sec)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return fmt.Errorf("no account %q", account)
	}
	a.keys = keys
	return nil
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Abandoned counts the requests whose client went away while the fake
// held them (an injected Latency).
func (s *Server) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// ServeHTTP runs a request through what a careful receiver does: find the
// account, apply an injected fault, verify the signature, replay a
// repeated webhook-id, validate the envelope, handle it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		answer(w, http.StatusRequestEntityTooLarge, errorBody("invalid", "", "the request body is larger than %d bytes", maxBody))
		return
	}
	payload := body
	if r.Method == http.MethodGet {
		if payload, err = base64.RawURLEncoding.DecodeString(r.URL.Query().Get("envelope")); err != nil || len(payload) == 0 {
			answer(w, http.StatusBadRequest, errorBody("invalid", "", "a GET carries the envelope base64url-encoded in the envelope query parameter"))
			return
		}
	}
	req := Request{Method: r.Method, Path: r.URL.Path, WebhookID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
		Signature: r.Header.Get("webhook-signature"), Payload: string(payload)}
	var probe struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(payload, &probe) == nil {
		req.Type = probe.Type
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	acct := s.accounts[strings.TrimPrefix(r.URL.Path, "/hooks/")]
	var keys [][]byte
	if acct != nil {
		keys = acct.keys
	}
	s.mu.Unlock()
	if acct == nil || (r.Method != http.MethodPost && r.Method != http.MethodGet) {
		status, msg := http.StatusNotFound, "no endpoint here"
		if acct != nil {
			status, msg = http.StatusMethodNotAllowed, "this endpoint takes POST and GET"
		}
		answer(w, status, errorBody("", "", "%s", msg))
		return
	}

	f, faulty := s.takeFault()
	if faulty {
		if f.Kind == latencyFault && !s.sleep(r, f.Latency) {
			return
		}
		if s.serveFault(w, f) {
			return
		}
	}
	if err := verify(keys, req.WebhookID, req.Timestamp, req.Signature, payload, s.o.Now(), s.o.Tolerance); err != nil {
		answer(w, http.StatusUnauthorized, errorBody("auth_error", "", "signature verification failed: %v", err))
		return
	}
	if s.doc != nil {
		if _, err := checkEnvelope(s.doc, r.Method, payload); err != nil {
			s.report("webhook receiver fake: %s %s does not match the contract: %v", r.Method, req.Type, err)
			answer(w, http.StatusBadRequest, errorBody("invalid", "", "the envelope does not match the contract: %v", err))
			return
		}
	}
	rec := httptest.NewRecorder()
	s.handle(rec, acct, req.WebhookID, payload)
	if s.doc != nil {
		if err := checkAnswer(s.doc, req.Type, rec.Code, rec.Body.Bytes()); err != nil {
			s.report("webhook receiver fake: its own %d answer to %s does not match the contract: %v", rec.Code, req.Type, err)
		}
	}
	if faulty && f.Kind == loseFault {
		drop(w)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// sleep waits d unless the client goes away (counted in Abandoned) or the
// server closes; it reports whether the request should still be answered.
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
			conn.Close()
		}
	}
}

// answer writes a JSON answer.
func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	w.Write(b.Bytes())
}

// errorBody is the contract's error answer.
func errorBody(code, field, format string, args ...any) map[string]string {
	out := map[string]string{"message": fmt.Sprintf(format, args...)}
	if code != "" {
		out["code"] = code
	}
	if field != "" {
		out["field"] = field
	}
	return out
}
