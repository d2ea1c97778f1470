package fake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"crmhost.dev/sdk/providertest"
	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecsDirEnv names the environment variable that points at the specs: a
// folder holding toast/ (like ../shared/specs) or the toast folder itself.
// Without it the fake looks for shared/specs/toast in the working
// directory and each of its parents.
const SpecsDirEnv = "CRMHOST_SPECS_DIR"

// The official Toast specs (Swagger 2.0) the fake validates against, by
// the base path each declares. They name the placeholder host
// toast-api-server (a known defect, see specs/README.md): the fake serves
// their paths below each base path on its own host.
var specFiles = map[string]string{
	"/authentication/v1": "authentication.yaml",
	"/orders/v2":         "orders.yaml",
	"/restaurants/v1":    "restaurants.yaml",
	"/partners/v1":       "partners.yaml",
}

// specSet holds one router per spec, by base path.
type specSet struct {
	routers map[string]routers.Router
	options *openapi3filter.Options
}

var (
	specMu    sync.Mutex
	specCache = map[string]*specSet{} // by directory; loaded once per process
)

// findSpecDir locates the Toast specs (see SpecsDirEnv), as
// providertest.Locate does: $CRMHOST_SPECS_DIR, shared/specs or the
// checkout's .specs in the working directory or its parents. Errors:
// Locate's (providertest.ErrNoSpecs wrapped when there are none).
func findSpecDir() (string, error) {
	return providertest.Locate("toast", specFiles["/orders/v2"])
}

// loadSpecs loads (once per directory) the specs, converts them to
// OpenAPI 3 and builds a router for each.
func loadSpecs() (*specSet, error) {
	dir, err := findSpecDir()
	if err != nil {
		return nil, err
	}
	specMu.Lock()
	defer specMu.Unlock()
	if sp := specCache[dir]; sp != nil {
		return sp, nil
	}
	sp := &specSet{routers: map[string]routers.Router{}, options: &openapi3filter.Options{
		// The fake checks bearer tokens itself, the way Toast answers them.
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		// Keep request values (client secrets) out of messages.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}}
	for base, name := range specFiles {
		doc, err := loadSwagger(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		rebase(doc, base)
		relax(doc)
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", name, err)
		}
		sp.routers[base] = r
	}
	specCache[dir] = sp
	return sp, nil
}

// loadSwagger reads a Swagger 2.0 file and converts it to OpenAPI 3.
func loadSwagger(path string) (*openapi3.T, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := openapi2.UnmarshalFromData(raw, &doc2); err != nil {
		return nil, fmt.Errorf("load %s: %w", filepath.Base(path), err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert %s to OpenAPI 3: %w", filepath.Base(path), err)
	}
	return doc, nil
}

// rebase serves the document's paths below base on any host. Known
// defect: Toast's specs name the placeholder host toast-api-server with a
// per-API base path; the fake drops the host and keeps the base path.
func rebase(doc *openapi3.T, base string) {
	doc.Servers = openapi3.Servers{{URL: base}}
}

// relax fixes, in memory, the spec defects that make the specs reject
// requests the real API accepts. The files are never edited.
func relax(doc *openapi3.T) {
	if doc.Components == nil {
		return
	}
	// Defect: ToastReference (which Order, Check, Selection, Customer and
	// every reference extend) requires guid and entityType, yet a posted
	// order has no guid (Toast assigns it) and entityType is "Response
	// only"; Toast's own POST /orders example has neither on the order.
	if ref := doc.Components.Schemas["ToastReference"]; ref != nil && ref.Value != nil {
		ref.Value.Required = nil
	}
}

// specFor picks the base path whose spec describes path.
func specFor(path string) string {
	for base := range specFiles {
		if strings.HasPrefix(path, base+"/") {
			return base
		}
	}
	return ""
}

// unknownOperation is a request for an operation no spec describes: it is
// reported, and answered as Toast answers an unknown route (404).
type unknownOperation struct{ error }

// validate checks a request against its spec. Messages name the failing
// parameter or body location but never a value.
func (sp *specSet) validate(r *http.Request, body []byte) error {
	router := sp.routers[specFor(r.URL.Path)]
	if router == nil {
		return unknownOperation{fmt.Errorf("no Toast spec describes %s", r.URL.Path)}
	}
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(req)
	if err != nil {
		return unknownOperation{fmt.Errorf("%s %s is not an operation of the spec: %v", r.Method, r.URL.Path, err)}
	}
	return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: sp.options,
	})
}
