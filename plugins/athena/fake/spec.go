package fake

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"crmhost.dev/sdk/providertest"
)

// shapesYAML is athenaOne's request shapes for the operations the fake
// serves, transcribed from PROVIDERS.md, athenahealth's documentation and
// the fixtures (athenahealth publishes no OpenAPI for athenaOne v1).
//
//go:embed athenaone-v1.yaml
var shapesYAML []byte

// SpecsDirEnv names the environment variable that points at the specs: a
// folder holding athenahealth/ (like ../shared/specs) or the athenahealth
// folder itself. Without it the fake looks for shared/specs/athenahealth
// in the working directory and each of its parents.
const SpecsDirEnv = "CRMHOST_SPECS_DIR"

// thirdPartyFile is api-evangelist's OpenAPI of a few athenaOne
// operations, in the specs' athenahealth folder.
const thirdPartyFile = "athenaone-rest.thirdparty-openapi.yml"

// apiPrefix is the part of an athenaOne path the third-party OpenAPI keeps
// in its server URL.
const apiPrefix = "/v1/{practiceid}"

// specSet validates requests: against the transcribed shapes always, and
// against the third-party OpenAPI for the operations it describes.
type specSet struct {
	router   routers.Router
	third    *openapi3.T // nil when not found (thirdErr says why)
	thirdErr error
	options  *openapi3filter.Options
}

var (
	specMu    sync.Mutex
	specCache = map[string]*specSet{} // by the third-party spec's folder
)

// loadSpecs loads (once per process and folder) the transcribed shapes and
// the third-party OpenAPI, which is required when need is set.
func loadSpecs(need bool) (*specSet, error) {
	dir, derr := findSpecDir()
	if derr != nil && need {
		return nil, derr
	}
	specMu.Lock()
	defer specMu.Unlock()
	if sp := specCache[dir]; sp != nil {
		return sp, nil
	}
	doc, err := openapi3.NewLoader().LoadFromData(shapesYAML)
	if err == nil {
		err = doc.Validate(context.Background())
	}
	if err != nil {
		return nil, fmt.Errorf("the transcribed athenaOne request shapes do not load: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the transcribed athenaOne request shapes: %w", err)
	}
	sp := &specSet{router: router, thirdErr: derr, options: &openapi3filter.Options{
		// The fake checks tokens itself, the way athenahealth answers them.
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		// Keep request values (tokens, personal data) out of messages.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}}
	if derr == nil {
		if sp.third, err = loadThirdParty(filepath.Join(dir, thirdPartyFile)); err != nil {
			if need {
				return nil, err
			}
			sp.thirdErr = err
		}
	}
	specCache[dir] = sp
	return sp, nil
}

// findSpecDir locates the athenahealth specs folder the way the sdk's
// providertest does (CRMHOST_SPECS_DIR, then shared/specs or .specs in the
// working directory and its parents). Without one the error wraps
// providertest.ErrNoSpecs.
func findSpecDir() (string, error) {
	return providertest.Locate("athenahealth", thirdPartyFile)
}

func isSpecDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, thirdPartyFile))
	return err == nil
}

// loadThirdParty loads the third-party OpenAPI and relaxes its defects.
func loadThirdParty(path string) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := relax(doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	doc.Servers = nil
	return doc, nil
}

// relax fixes, in memory, the third-party OpenAPI's defects that make it
// refuse requests athenaOne accepts (the file is never edited). Each
// relaxation fails when it no longer finds what it relaxes, so it cannot
// outlive the defect silently.
func relax(doc *openapi3.T) error {
	// Defect: dates are typed format: date (YYYY-MM-DD); athenaOne takes
	// and answers MM/DD/YYYY (PROVIDERS.md, the fixtures), which the
	// transcribed shapes check instead.
	for _, name := range []string{"Patient", "PatientCreate"} {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil || ref.Value.Properties["dob"] == nil {
			return fmt.Errorf("relax: schema %s has no dob property", name)
		}
		ref.Value.Properties["dob"].Value.Format = ""
	}
	item := doc.Paths.Value("/patients")
	if item == nil || item.Get == nil {
		return errors.New("relax: no GET /patients")
	}
	found := false
	for _, p := range item.Get.Parameters {
		if p.Value != nil && p.Value.Name == "dob" && p.Value.Schema != nil {
			p.Value.Schema.Value.Format, found = "", true
		}
	}
	if !found {
		return errors.New("relax: GET /patients has no dob parameter")
	}
	return nil
}

// unknownOperation is a request for an operation the shapes do not
// describe: reported, and answered 404 as an unknown route.
type unknownOperation struct{ error }

// validate checks a request against its transcribed shape (path, method,
// headers, query parameters, refusing any the shape does not list, and the
// form body) and, when the third-party OpenAPI describes the operation,
// against it too. Messages name the failing parameter or body location but
// never a value.
func (sp *specSet) validate(r *http.Request, body []byte) error {
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		return unknownOperation{fmt.Errorf("%s %s is not an operation of athenaOne's documented API: %v", r.Method, r.URL.Path, err)}
	}
	if err := unknownQuery(route.Operation, r); err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, route.Path, err)
	}
	if err := unknownFormFields(route.Operation, r, body); err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, route.Path, err)
	}
	err = openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: sp.options,
	})
	if err != nil || sp.third == nil {
		return err
	}
	tpl, ok := strings.CutPrefix(route.Path, apiPrefix)
	item := sp.third.Paths.Value(tpl)
	if !ok || item == nil || item.GetOperation(r.Method) == nil {
		return nil
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	third := &routers.Route{Spec: sp.third, Path: tpl, PathItem: item, Method: r.Method, Operation: item.GetOperation(r.Method)}
	p := maps.Clone(params)
	delete(p, "practiceid")
	if err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: p, Route: third, Options: sp.options,
	}); err != nil {
		return fmt.Errorf("the third-party OpenAPI (%s): %w", thirdPartyFile, err)
	}
	return nil
}

// unknownQuery refuses query parameters the operation does not list.
func unknownQuery(op *openapi3.Operation, r *http.Request) error {
	var known []string
	for _, p := range op.Parameters {
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
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("query parameter(s) %s are not documented for this operation (documented: %s)",
		strings.Join(unknown, ", "), strings.Join(known, ", "))
}

// unknownFormFields refuses form fields a form body's schema does not
// list when it allows no others (kin-openapi's form decoder reads only the
// listed properties, so it cannot see them).
func unknownFormFields(op *openapi3.Operation, r *http.Request, body []byte) error {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/x-www-form-urlencoded")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	sch := mt.Schema.Value
	if sch.AdditionalProperties.Has == nil || *sch.AdditionalProperties.Has {
		return nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return fmt.Errorf("the form body does not parse: %v", err)
	}
	var unknown []string
	for name := range form {
		if _, ok := sch.Properties[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("form field(s) %s are not documented for this operation", strings.Join(unknown, ", "))
}
