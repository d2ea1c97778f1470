package fake

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specYAML is Tekmetric's API v1 request shapes, transcribed from the
// official documentation (Tekmetric publishes no OpenAPI).
//
//go:embed tekmetric-api-v1.yaml
var specYAML []byte

// spec validates requests against specYAML.
type spec struct {
	router  routers.Router
	options *openapi3filter.Options
}

var (
	specOnce   sync.Once
	loadedSpec *spec
	specErr    error
)

// loadSpec parses the embedded document once per process.
func loadSpec() (*spec, error) {
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(specYAML)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			specErr = fmt.Errorf("the transcribed Tekmetric request shapes do not load: %w", err)
			return
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("route the transcribed Tekmetric request shapes: %w", err)
			return
		}
		loadedSpec = &spec{router: r, options: &openapi3filter.Options{
			// The fake checks tokens itself, the way Tekmetric answers them.
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults: true,
			// Keep request values (tokens, personal data) out of messages.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		}}
	})
	return loadedSpec, specErr
}

// unknownOperation is a request for an operation the docs do not
// describe: reported, and answered 404 as an unknown route.
type unknownOperation struct{ error }

// validate checks a request against its documented operation: path,
// method, headers, query parameters (including any the docs do not list
// for the operation) and body. Messages name the failing parameter or
// body location but never a value.
func (sp *spec) validate(r *http.Request, body []byte) error {
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		return unknownOperation{fmt.Errorf("%s %s is not an operation of Tekmetric's documented API: %v", r.Method, r.URL.Path, err)}
	}
	var known []string
	for _, p := range route.Operation.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			known = append(known, p.Value.Name)
		}
	}
	var unknown []string
	for name := range r.URL.Query() {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("query parameter(s) %s are not documented for %s %s (documented: %s)",
			strings.Join(unknown, ", "), r.Method, route.Path, strings.Join(known, ", "))
	}
	return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: sp.options,
	})
}
