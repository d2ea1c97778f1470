package fake

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"crmhost.dev/sdk/providertest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecsDirEnv names the environment variable that points at the specs: a
// folder holding hubspot/ (like ../shared/specs) or the hubspot folder
// itself. Without it the fake looks in shared/specs, then in .specs (filled
// by `make specs`), in the working directory and each of its parents; see
// crmhost.dev/sdk/providertest.
const SpecsDirEnv = providertest.SpecsDirEnv

// The official HubSpot specs the fake validates against, tried in this
// order (the first with a request's path decides). Deals have no file of
// their own here: crm-deals-v3.json names its paths /crm/v3/objects/0-3…,
// so deals (and any other type) are validated by crm-objects-v3.json's
// /crm/v3/objects/{objectType} paths, after contacts and tickets have had
// their own.
const (
	specContacts   = "crm-contacts-v3.json"
	specTickets    = "crm-tickets-v3.json"
	specObjects    = "crm-objects-v3.json"
	specProperties = "crm-properties-v3.json"
	specOAuth      = "oauth-v1.json"
	// specAssociations is the fake's own fixture (associations-v4.json,
	// embedded): shared/specs has no Associations v4 spec.
	specAssociations = "associations-v4.json"
)

// hubspotSpec is what the fake validates against, with the relaxations of
// the specs' defects that make them reject requests the real API accepts
// (see specs/README.md, "Known spec defects"). The files are never edited.
var hubspotSpec = providertest.Spec{
	Provider: "hubspot",
	Files:    []string{specContacts, specTickets, specObjects, specProperties, specOAuth},
	Relax:    relaxations(specContacts, specTickets, specObjects),
}

// relaxations are the defects shared by the record specs (files).
func relaxations(files ...string) []providertest.Relaxation {
	const (
		search = "PublicObjectSearchRequest marks after, filterGroups, limit, properties and sorts required, yet HubSpot accepts a minimal body such as {\"query\": \"x\"} or {\"filterGroups\": [...]}"
		sorts  = "PublicObjectSearchRequest types sorts string[] (\"-createdate\"), but HubSpot's docs and API also take [{propertyName, direction}]"
		assoc  = "associations is marked required; HubSpot creates objects without it"
		batch  = "BatchReadInputSimplePublicObjectId marks properties and propertiesWithHistory required; HubSpot reads a batch given only inputs (and answers the default properties)"
		scalar = "property values are typed string, and HubSpot answers them as strings, but it accepts and stringifies JSON numbers and booleans in writes ({\"amount\": 100}); only objects and arrays are refused"
	)
	var out []providertest.Relaxation
	for _, f := range files {
		out = append(out,
			providertest.Unrequire(f, "PublicObjectSearchRequest", search),
			providertest.Relaxation{File: f, Why: sorts, Apply: searchSorts},
			providertest.Unrequire(f, "SimplePublicObjectInputForCreate", assoc, "associations"),
			providertest.Unrequire(f, "SimplePublicObjectBatchInputForCreate", assoc, "associations"),
			providertest.Unrequire(f, "BatchReadInputSimplePublicObjectId", batch, "properties", "propertiesWithHistory"),
			providertest.Relaxation{File: f, Why: scalar, Apply: scalarPropertyValues},
		)
	}
	return out
}

func searchSorts(doc *openapi3.T) error {
	sorts, err := providertest.Property(doc, "PublicObjectSearchRequest", "sorts")
	if err != nil {
		return err
	}
	sortObject := openapi3.NewObjectSchema().
		WithProperty("propertyName", openapi3.NewStringSchema()).
		WithProperty("direction", openapi3.NewStringSchema().WithEnum("ASCENDING", "DESCENDING"))
	sortObject.Required = []string{"propertyName"}
	sorts.Items = openapi3.NewSchemaRef("", openapi3.NewAnyOfSchema(openapi3.NewStringSchema(), sortObject))
	return nil
}

func scalarPropertyValues(doc *openapi3.T) error {
	scalar := openapi3.NewAnyOfSchema(openapi3.NewStringSchema(), openapi3.NewFloat64Schema(), openapi3.NewBoolSchema())
	for _, name := range []string{"SimplePublicObjectInputForCreate", "SimplePublicObjectInput",
		"SimplePublicObjectBatchInputUpsert", "SimplePublicObjectBatchInput", "SimplePublicObjectBatchInputForCreate"} {
		props, err := providertest.Property(doc, name, "properties")
		if err != nil {
			return err
		}
		props.AdditionalProperties.Schema = openapi3.NewSchemaRef("", scalar)
	}
	return nil
}

// specSet validates requests against HubSpot's specs; a nil validator
// (specs absent outside CI) validates nothing. Associations v4 requests
// are validated against the embedded fixture, always.
type specSet struct {
	v *providertest.Validator
}

//go:embed associations-v4.json
var associationsSpec []byte

// associations routes the Associations v4 fixture (loaded once).
var associations = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(associationsSpec)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", specAssociations, err)
	}
	doc.Servers = nil
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", specAssociations, err)
	}
	return r, nil
})

// associationOptions are the fixture's validation options: credentials
// are the fake's to check, and request values stay out of messages.
var associationOptions = &openapi3filter.Options{
	AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
	SkipSettingDefaults:     true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
}

var warnOnce sync.Once

// loadSpecs loads the specs (once per process). When they cannot be found
// and CI is unset, validation is skipped, announced on stderr with the
// command that fetches them; in CI, or for a CRMHOST_SPECS_DIR without
// them, it is an error.
func loadSpecs() (*specSet, error) {
	v, err := hubspotSpec.Load()
	if errors.Is(err, providertest.ErrNoSpecs) && !providertest.InCI() {
		warnOnce.Do(func() {
			fmt.Fprintf(os.Stderr, "WARNING: hubspot fake: SPEC VALIDATION SKIPPED: %v\n", err)
		})
		return &specSet{}, nil
	}
	if err != nil {
		return nil, err
	}
	return &specSet{v: v}, nil
}

// RequireSpecs is for tests of the spec validation itself: without
// HubSpot's specs it skips the test outside CI (saying how to get them)
// and fails it in CI.
func RequireSpecs(t testing.TB) {
	t.Helper()
	hubspotSpec.Need(t)
}

// unknownOperation is a request for an operation no spec describes: it
// is reported, and answered as HubSpot answers an unknown route (404).
type unknownOperation struct{ error }

// validate checks a request against its spec. Messages name the failing
// parameter or body location but never a value.
func (sp *specSet) validate(r *http.Request, body []byte) error {
	if strings.HasPrefix(r.URL.Path, "/crm/v4/") {
		router, err := associations()
		if err != nil {
			return err
		}
		req := r.Clone(context.WithoutCancel(r.Context()))
		req.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := router.FindRoute(req)
		if err != nil {
			return unknownOperation{fmt.Errorf("%s %s is not an operation of the spec: %v", r.Method, redactPath(r.URL.Path), err)}
		}
		return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: associationOptions,
		})
	}
	err := sp.v.Validate(r, body)
	if errors.Is(err, providertest.ErrUnknownOperation) {
		return unknownOperation{fmt.Errorf("%s %s is not an operation of HubSpot's specs", r.Method, redactPath(r.URL.Path))}
	}
	return err
}
