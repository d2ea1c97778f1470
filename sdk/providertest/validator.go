package providertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// ErrUnknownOperation is wrapped by Validate for a request whose method
// and path no document describes.
var ErrUnknownOperation = errors.New("not an operation of the provider's specs")

// MaxBody bounds the request bodies Middleware reads for validation.
const MaxBody = 10 << 20

// Spec is a provider's official API documents, as a fake validates
// requests against them.
type Spec struct {
	// Provider is the provider's folder under the specs root ("hubspot").
	Provider string
	// Files are the documents, relative to the provider's folder. For each
	// request they are tried in order; the first that has the request's
	// path decides (so list a narrow document before a generic one).
	Files []string
	// Relax fixes the documents' known defects (see Relaxation).
	Relax []Relaxation
	// Dir, when set, is the provider's folder itself and no search is made
	// (tests of a fake with fixture documents).
	Dir string
}

// Validator validates requests against a Spec's documents. It is safe for
// concurrent use. A nil *Validator validates nothing: its Validate
// returns nil and its Middleware passes requests through.
type Validator struct {
	dir     string
	routers []routers.Router
	options *openapi3filter.Options
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*Validator{}
)

// Load locates s's documents, loads them, applies the relaxations and
// returns their Validator. It is loaded once per process for each folder,
// files and set of relaxations (told apart by File and Why), and shared. Errors: those of Locate (ErrNoSpecs among them), an unreadable
// or invalid document, a relaxation without a reason or whose Apply fails.
func (s Spec) Load() (*Validator, error) {
	if s.Provider == "" || len(s.Files) == 0 {
		return nil, errors.New("providertest: a Spec needs a Provider and Files")
	}
	dir := s.Dir
	if dir == "" {
		var err error
		if dir, err = Locate(s.Provider, s.Files[0]); err != nil {
			return nil, err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	key := s.Provider + "\x00" + dir + "\x00" + strings.Join(s.Files, "\x00")
	for _, r := range s.Relax {
		key += "\x00" + r.File + "\x00" + r.Why
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if v := cache[key]; v != nil {
		return v, nil
	}
	v := &Validator{dir: dir, options: &openapi3filter.Options{
		// Fakes check credentials themselves, the way their provider
		// answers them; the documents' security schemes are not enforced.
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		// Keep request values (tokens, personal data) out of messages.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}}
	for _, r := range s.Relax {
		if strings.TrimSpace(r.Why) == "" || r.Apply == nil {
			return nil, fmt.Errorf("providertest: %s: a relaxation needs Why and Apply", s.Provider)
		}
	}
	for _, name := range s.Files {
		doc, err := LoadDocument(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, fmt.Errorf("providertest: %s: %w", s.Provider, err)
		}
		for _, r := range s.Relax {
			if r.File != "" && r.File != name {
				continue
			}
			if err := r.Apply(doc); err != nil {
				return nil, fmt.Errorf("providertest: %s: relaxation of %s (%s) no longer applies: %w", s.Provider, name, r.Why, err)
			}
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("providertest: %s: route %s: %w", s.Provider, name, err)
		}
		v.routers = append(v.routers, router)
	}
	cache[key] = v
	return v, nil
}

// Require is Load for a test. When the specs are not found it fails the
// test in CI; elsewhere it logs, loudly, that this test runs without spec
// validation and how to get the specs, and returns nil (a Validator that
// validates nothing): only the validation is skipped, never the test. Any
// other error fails the test.
func (s Spec) Require(t testing.TB) *Validator {
	t.Helper()
	v, err := s.Load()
	switch {
	case err == nil:
		return v
	case errors.Is(err, ErrNoSpecs) && !InCI():
		t.Logf("WARNING: %s SPEC VALIDATION SKIPPED: %v", s.Provider, err)
		return nil
	}
	t.Fatalf("%v", err)
	return nil
}

// Need is Require for a test of the spec validation itself, which means
// nothing without the specs: when they are not found it skips t outside
// CI, saying how to get them, and fails it in CI.
func (s Spec) Need(t testing.TB) *Validator {
	t.Helper()
	v, err := s.Load()
	switch {
	case err == nil:
		return v
	case errors.Is(err, ErrNoSpecs) && !InCI():
		t.Skipf("%s specs not found, and this test checks the validation against them: %v", s.Provider, err)
		return nil
	}
	t.Fatalf("%v", err)
	return nil
}

// Dir is the folder the documents were loaded from ("" for nil).
func (v *Validator) Dir() string {
	if v == nil {
		return ""
	}
	return v.dir
}

// Validate checks r, whose body is body (r.Body is not read), against the
// first document that has r's path. Messages name the failing parameter
// or body location, never a value. Errors: ErrUnknownOperation wrapped
// when no document has the path (or the path lacks the method), else the
// validation error.
func (v *Validator) Validate(r *http.Request, body []byte) error {
	if v == nil {
		return nil
	}
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	for _, router := range v.routers {
		route, params, err := router.FindRoute(req)
		switch {
		case errors.Is(err, routers.ErrPathNotFound):
			continue
		case err != nil:
			return fmt.Errorf("%w: %s %s: %v", ErrUnknownOperation, r.Method, r.URL.Path, err)
		}
		return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: v.options,
		})
	}
	return fmt.Errorf("%w: %s %s", ErrUnknownOperation, r.Method, r.URL.Path)
}

// Middleware validates every request before the wrapped handler sees it.
// A request that does not match (ErrUnknownOperation included) is
// reported through report with its method and path (pass t.Errorf, and
// the test fails) and answered by reject, which writes the provider's own
// 400 (or 404) body; the handler never sees it. A nil reject answers a
// plain 400. The body is read up to MaxBody and handed on intact. On a
// nil Validator the middleware passes every request through.
func (v *Validator) Middleware(report func(format string, args ...any), reject func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if v == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
			if err == nil {
				err = v.Validate(r, body)
			}
			if err != nil {
				report("%s %s does not match the provider's spec: %v", r.Method, r.URL.Path, err)
				if reject == nil {
					http.Error(w, "request does not match the provider's spec", http.StatusBadRequest)
					return
				}
				reject(w, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	}
}
