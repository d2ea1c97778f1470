package fake

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecsDirEnv names the environment variable that points at the specs: a
// folder holding hubspot/ (like ../shared/specs) or the hubspot folder
// itself. Without it the fake looks for shared/specs/hubspot in the
// working directory and each of its parents.
const SpecsDirEnv = "CRMHOST_SPECS_DIR"

// The official HubSpot specs the fake validates against. Deals have no
// file of their own here: crm-deals-v3.json names its paths
// /crm/v3/objects/0-3…, so deals (and any other type) are validated by
// crm-objects-v3.json's /crm/v3/objects/{objectType} paths.
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

// specSet holds one router per spec.
type specSet struct {
	routers map[string]routers.Router
	options *openapi3filter.Options
}

var (
	specMu    sync.Mutex
	specCache = map[string]*specSet{} // by directory; loaded once per process
)

// findSpecDir locates the HubSpot specs (see SpecsDirEnv).
func findSpecDir() (string, error) {
	if d := os.Getenv(SpecsDirEnv); d != "" {
		for _, c := range []string{filepath.Join(d, "hubspot"), d} {
			if isSpecDir(c) {
				return c, nil
			}
		}
		return "", fmt.Errorf("%s=%s holds no HubSpot specs (want %s in it or in its hubspot folder)", SpecsDirEnv, d, specContacts)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find HubSpot specs: %w", err)
	}
	for dir := wd; ; {
		if c := filepath.Join(dir, "shared", "specs", "hubspot"); isSpecDir(c) {
			return c, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("cannot find HubSpot's OpenAPI specs: no shared/specs/hubspot in %s or its parents; set %s", wd, SpecsDirEnv)
}

func isSpecDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, specContacts))
	return err == nil
}

// loadSpecs loads (once per directory) the specs, relaxes their known
// defects and builds a router for each.
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
		// The fake checks bearer tokens itself, the way HubSpot answers
		// them; the specs' security schemes are modelling devices.
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		// Keep request values (tokens, client secrets) out of messages.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}}
	for _, name := range []string{specContacts, specTickets, specObjects, specProperties, specOAuth} {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		relax(doc)
		// The specs' server is https://api.hubapi.com; the fake serves
		// the same paths on its own host.
		doc.Servers = nil
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", name, err)
		}
		sp.routers[name] = r
	}
	doc, err := openapi3.NewLoader().LoadFromData(associationsSpec)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", specAssociations, err)
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", specAssociations, err)
	}
	sp.routers[specAssociations] = r
	specCache[dir] = sp
	return sp, nil
}

//go:embed associations-v4.json
var associationsSpec []byte

// relax fixes, in memory, the spec defects that make the specs reject
// requests the real API accepts (see specs/README.md, "Known spec
// defects"). The files are never edited.
func relax(doc *openapi3.T) {
	if doc.Components == nil {
		return
	}
	schema := func(name string) *openapi3.Schema {
		if ref := doc.Components.Schemas[name]; ref != nil {
			return ref.Value
		}
		return nil
	}
	if s := schema("PublicObjectSearchRequest"); s != nil {
		// Defect: after, filterGroups, limit, properties and sorts are all
		// marked required, yet HubSpot accepts a minimal body such as
		// {"query": "x"} or {"filterGroups": [...]}.
		s.Required = nil
		// Defect: sorts is typed string[] ("-createdate"), but HubSpot's
		// docs and API also take [{propertyName, direction}].
		if ref := s.Properties["sorts"]; ref != nil && ref.Value != nil {
			sortObject := openapi3.NewObjectSchema().
				WithProperty("propertyName", openapi3.NewStringSchema()).
				WithProperty("direction", openapi3.NewStringSchema().WithEnum("ASCENDING", "DESCENDING"))
			sortObject.Required = []string{"propertyName"}
			ref.Value.Items = openapi3.NewSchemaRef("", openapi3.NewAnyOfSchema(openapi3.NewStringSchema(), sortObject))
		}
	}
	for _, name := range []string{"SimplePublicObjectInputForCreate", "SimplePublicObjectBatchInputForCreate"} {
		if s := schema(name); s != nil {
			// Defect: associations is marked required; HubSpot creates
			// objects without it.
			s.Required = without(s.Required, "associations")
		}
	}
	if s := schema("BatchReadInputSimplePublicObjectId"); s != nil {
		// Defect: properties and propertiesWithHistory are marked
		// required; HubSpot reads a batch given only inputs (and answers
		// the default properties).
		s.Required = []string{"inputs"}
	}
	// Property values are typed string, and HubSpot answers them as
	// strings, but it accepts and stringifies JSON numbers and booleans in
	// writes ({"amount": 100}); only objects and arrays are refused.
	scalarValue := openapi3.NewAnyOfSchema(openapi3.NewStringSchema(), openapi3.NewFloat64Schema(), openapi3.NewBoolSchema())
	for _, name := range []string{"SimplePublicObjectInputForCreate", "SimplePublicObjectInput",
		"SimplePublicObjectBatchInputUpsert", "SimplePublicObjectBatchInput", "SimplePublicObjectBatchInputForCreate"} {
		if s := schema(name); s != nil {
			if ref := s.Properties["properties"]; ref != nil && ref.Value != nil {
				ref.Value.AdditionalProperties.Schema = openapi3.NewSchemaRef("", scalarValue)
			}
		}
	}
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// specFor picks the spec that describes a path.
func specFor(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(parts) >= 4 && parts[0] == "crm" && parts[1] == "v3" && parts[2] == "objects":
		switch parts[3] {
		case "contacts":
			return specContacts
		case "tickets":
			return specTickets
		}
		return specObjects
	case len(parts) >= 3 && parts[0] == "crm" && parts[1] == "v3" && parts[2] == "properties":
		return specProperties
	case len(parts) >= 2 && parts[0] == "oauth" && parts[1] == "v1":
		return specOAuth
	case len(parts) >= 4 && parts[0] == "crm" && parts[1] == "v4" && parts[2] == "objects":
		return specAssociations
	}
	return ""
}

// unknownOperation is a request for an operation no spec describes: it
// is reported, and answered as HubSpot answers an unknown route (404).
type unknownOperation struct{ error }

// validate checks a request against its spec. Messages name the failing
// parameter or body location but never a value.
func (sp *specSet) validate(r *http.Request, body []byte) error {
	router := sp.routers[specFor(r.URL.Path)]
	if router == nil {
		return unknownOperation{fmt.Errorf("no HubSpot spec describes %s", redactPath(r.URL.Path))}
	}
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(req)
	if err != nil {
		return unknownOperation{fmt.Errorf("%s %s is not an operation of the spec: %v", r.Method, redactPath(r.URL.Path), err)}
	}
	return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: sp.options,
	})
}
