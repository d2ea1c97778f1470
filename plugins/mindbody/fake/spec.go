package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecsDirEnv names the environment variable that points at the specs: a
// folder holding mindbody/ (like ../shared/specs) or the mindbody folder
// itself. Without it the fake looks for shared/specs/mindbody in the
// working directory and each of its parents.
const SpecsDirEnv = "CRMHOST_SPECS_DIR"

// ErrNoSpec is wrapped by the error of a fake that must validate requests
// but finds no spec (and CRMHOST_SPECS_DIR is unset).
var ErrNoSpec = errors.New("mindbody spec not found")

// specFile is Mindbody's official Public API v6 Swagger 2.0 document.
const specFile = "public-api-v6.swagger.json"

// spec validates requests against the Swagger document, converted to
// OpenAPI 3 by kin-openapi.
type spec struct {
	router  routers.Router
	options *openapi3filter.Options
}

var (
	specMu    sync.Mutex
	specCache = map[string]*spec{} // by file; loaded once per process
)

// findSpec locates the Swagger document (see SpecsDirEnv).
func findSpec() (string, error) {
	if d := os.Getenv(SpecsDirEnv); d != "" {
		for _, c := range []string{filepath.Join(d, "mindbody", specFile), filepath.Join(d, specFile)} {
			if fileExists(c) {
				return c, nil
			}
		}
		return "", fmt.Errorf("%s=%s holds no Mindbody spec (want %s in it or in its mindbody folder)", SpecsDirEnv, d, specFile)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the Mindbody spec: %w", err)
	}
	for dir := wd; ; {
		if c := filepath.Join(dir, "shared", "specs", "mindbody", specFile); fileExists(c) {
			return c, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("%w: no shared/specs/mindbody/%s in %s or its parents; set %s", ErrNoSpec, specFile, wd, SpecsDirEnv)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// loadSpec loads (once per file) the Swagger document, converts it to
// OpenAPI 3 and builds its router.
func loadSpec() (*spec, error) {
	path, err := findSpec()
	if err != nil {
		return nil, err
	}
	specMu.Lock()
	defer specMu.Unlock()
	if sp := specCache[path]; sp != nil {
		return sp, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := doc2.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert %s to OpenAPI 3: %w", path, err)
	}
	// The spec's server is https://api.mindbodyonline.com; the fake
	// serves the same paths (/public/v6/...) on its own host.
	doc.Servers = nil
	relaxDateTimes(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	sp := &spec{router: router, options: &openapi3filter.Options{
		// The fake checks the API key and staff token itself, the way
		// Mindbody answers them; the spec's API-Key scheme is not enforced.
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		// Keep request values (passwords, tokens, personal data) out of
		// messages.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}}
	specCache[path] = sp
	return sp, nil
}

// localDateTime is what Mindbody accepts where the spec says date-time:
// a date, or a date and time with or without seconds, fraction and
// offset.
const localDateTime = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$`

// relaxDateTimes fixes, in memory, a defect of the spec (the file is never
// edited): it types every date and time as an RFC 3339 date-time, which
// needs an offset, but Mindbody reads appointment and class times
// (StartDateTime, EndDateTime) as the site's local time written without
// one ("2026-03-03T10:00:00", as its own answers write them), and dates
// such as request.startDate as plain dates. Each date-time format becomes
// a pattern that accepts those forms too.
func relaxDateTimes(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if s.Format == "date-time" {
			s.Format, s.Pattern = "", localDateTime
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range list {
				walk(x)
			}
		}
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema)
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil {
					walk(p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
}

// unknownOperation is a request for an operation the spec does not
// describe: it is reported, and answered as Mindbody answers an unknown
// route (404).
type unknownOperation struct{ error }

// validate checks a request against its operation in the spec, after
// rewriting its query names the way Mindbody reads them: case-insensitive,
// with or without the "request." prefix. Messages name the failing
// parameter or body location, never a value.
func (sp *spec) validate(r *http.Request, body []byte) error {
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		return unknownOperation{fmt.Errorf("%s %s is not an operation of Mindbody's spec: %v", r.Method, r.URL.Path, err)}
	}
	req.URL.RawQuery = canonicalQuery(r.URL.Query(), route.Operation.Parameters).Encode()
	err = openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: sp.options,
	})
	var re *openapi3filter.RequestError
	if errors.As(err, &re) && re.Parameter != nil {
		reason := re.Reason
		if reason == "" {
			reason = "does not match its declared type"
		}
		return fmt.Errorf("parameter %s (in %s): %s", re.Parameter.Name, re.Parameter.In, reason)
	}
	return err
}

// canonicalQuery renames query parameters to the names the operation
// declares ("request.clientIDs"), matching case-insensitively and with
// or without the "request." prefix. Unknown names are kept as they are.
func canonicalQuery(q url.Values, params openapi3.Parameters) url.Values {
	names := map[string]string{}
	for _, p := range params {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			names[queryKey(p.Value.Name)] = p.Value.Name
		}
	}
	out := url.Values{}
	for k, vs := range q {
		name := k
		if n, ok := names[queryKey(k)]; ok {
			name = n
		}
		out[name] = append(out[name], vs...)
	}
	return out
}

// queryKey is how Mindbody matches a query name: without the "request."
// prefix, case-insensitively.
func queryKey(name string) string {
	name = strings.ToLower(name)
	return strings.TrimPrefix(name, "request.")
}
