package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"crmhost.dev/sdk/providertest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecsDirEnv names the environment variable that points at the specs: a
// folder holding zoho/ (like ../shared/specs) or the zoho folder itself.
// Without it the fake looks for shared/specs/zoho in the working
// directory and each of its parents.
const SpecsDirEnv = "CRMHOST_SPECS_DIR"

// specFiles are Zoho's official CRM v8 documents the fake validates
// against, tried in this order: the first whose paths hold a request's
// path decides. record.json comes last: its /crm/v8/{module_api_name}
// paths would otherwise claim /crm/v8/org, /crm/v8/coql and the rest.
var specFiles = []string{"org.json", "users.json", "coql.json", "notes.json", "fields.json", "modules.json",
	"recycle_bin.json", "notifications.json", "record.json"}

// patch fixes a document defect that stops it from loading at all, in
// the raw JSON before it is loaded.
type patch struct {
	file  string
	why   string
	apply func(doc map[string]any) error
}

var patches = []patch{
	{"notes.json", "GET /crm/v8/Notes/{id} references #/components/parameters/If-Modified-Since, which notes.json does not define: defined here as record.json defines it (an optional date-time header)",
		func(doc map[string]any) error {
			comps, _ := doc["components"].(map[string]any)
			params, _ := comps["parameters"].(map[string]any)
			if params == nil {
				return errors.New("no components.parameters")
			}
			if _, ok := params["If-Modified-Since"]; ok {
				return errors.New("If-Modified-Since is defined now")
			}
			params["If-Modified-Since"] = map[string]any{"name": "If-Modified-Since", "in": "header", "required": false,
				"schema": map[string]any{"type": "string", "format": "date-time"}}
			return nil
		}},
}

// load reads one document, applying its patches.
func load(dir, name string) (*openapi3.T, error) {
	path := filepath.Join(dir, name)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, p := range patches {
		if p.file != name {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, err
		}
		if err := p.apply(doc); err != nil {
			return nil, fmt.Errorf("patch of %s (%s) no longer applies: %w", name, p.why, err)
		}
		if raw, err = json.Marshal(doc); err != nil {
			return nil, err
		}
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return loader.LoadFromDataWithPath(raw, &url.URL{Path: filepath.ToSlash(abs)})
}

// relaxation fixes one known defect of a document in memory (see
// specs/README.md, "Known spec defects"); the files are never edited.
type relaxation struct {
	file  string
	why   string
	apply func(doc *openapi3.T) error
}

var relaxations = []relaxation{
	{"notifications.json", "Notification.notify_url has the pattern www[.][a-z]{5}zoho[.]com, which rejects every real notification URL",
		func(doc *openapi3.T) error {
			p, err := property(doc, "Notification", "notify_url")
			if err == nil {
				p.Pattern = ""
			}
			return err
		}},
	{"notifications.json", "Notification.channel_id is typed object, but Zoho's channel ids are longs (1000000068001) and its own examples send numbers",
		func(doc *openapi3.T) error {
			s, err := schema(doc, "Notification")
			if err == nil {
				s.Properties["channel_id"] = openapi3.NewSchemaRef("", openapi3.NewOneOfSchema(openapi3.NewInt64Schema(), openapi3.NewStringSchema()))
			}
			return err
		}},
	{"notes.json", "Note marks every field required (id, Owner, $attachments, Created_Time…), the shape of a read; a note to create carries only Note_Title, Note_Content and Parent_Id",
		func(doc *openapi3.T) error {
			s, err := schema(doc, "Note")
			if err == nil {
				s.Required = nil
			}
			return err
		}},
	{"notes.json", "GET /crm/v8/Notes shares the ids parameter of the bulk DELETE, required there; listing notes needs no ids (Zoho's Get Notes lists them all, paged)",
		func(doc *openapi3.T) error {
			item := doc.Paths.Value("/crm/v8/Notes")
			if item == nil || item.Get == nil {
				return errors.New("no GET /crm/v8/Notes")
			}
			for i, p := range item.Get.Parameters {
				if p.Value != nil && p.Value.Name == "ids" && p.Value.Required {
					optional := *p.Value
					optional.Required = false
					item.Get.Parameters[i] = &openapi3.ParameterRef{Value: &optional}
					return nil
				}
			}
			return errors.New("GET /crm/v8/Notes has no required ids")
		}},
	{"notes.json", "Parent_Id.module is modules.json's Minified_Module, which requires api_name and id; Zoho's own note examples name the parent's module by api_name alone",
		func(doc *openapi3.T) error {
			p, err := property(doc, "Parent_Id", "module")
			if err == nil {
				if !slices.Contains(p.Required, "id") {
					return errors.New("Parent_Id.module.id is not required")
				}
				p.Required = slices.DeleteFunc(slices.Clone(p.Required), func(s string) bool { return s == "id" })
			}
			return err
		}},
}

func schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	if doc.Components != nil {
		if ref := doc.Components.Schemas[name]; ref != nil && ref.Value != nil {
			return ref.Value, nil
		}
	}
	return nil, fmt.Errorf("no component schema %q", name)
}

func property(doc *openapi3.T, name, prop string) (*openapi3.Schema, error) {
	s, err := schema(doc, name)
	if err != nil {
		return nil, err
	}
	if ref := s.Properties[prop]; ref != nil && ref.Value != nil {
		return ref.Value, nil
	}
	return nil, fmt.Errorf("schema %q has no property %q", name, prop)
}

// specSet holds one router per document, in specFiles order.
type specSet struct {
	routers []routers.Router
	options *openapi3filter.Options
}

var (
	specMu    sync.Mutex
	specCache = map[string]*specSet{}
)

// findSpecDir locates Zoho's specs (see SpecsDirEnv), as
// providertest.Locate does: $CRMHOST_SPECS_DIR, shared/specs or the
// checkout's .specs in the working directory or its parents. Errors:
// Locate's (providertest.ErrNoSpecs wrapped when there are none).
func findSpecDir() (string, error) {
	return providertest.Locate("zoho", "record.json")
}

// loadSpecs loads (once per directory) the documents, relaxes their
// defects, and routes them. Zoho's server is https://zohoapis.com (no www,
// no data centre): the fake serves the same paths on its own host, so the
// servers are dropped.
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
	sp := &specSet{options: &openapi3filter.Options{
		// The fake checks Zoho-oauthtoken itself, the way Zoho answers;
		// the documents declare no per-operation security anyway.
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		// Keep request values (tokens, personal data) out of messages.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}}
	for _, name := range specFiles {
		doc, err := load(dir, name)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		for _, r := range relaxations {
			if r.file == name {
				if err := r.apply(doc); err != nil {
					return nil, fmt.Errorf("relaxation of %s (%s) no longer applies: %w", name, r.why, err)
				}
			}
		}
		doc.Servers = nil
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", name, err)
		}
		sp.routers = append(sp.routers, router)
	}
	specCache[dir] = sp
	return sp, nil
}

// errUnknownOperation is a request no document describes.
var errUnknownOperation = errors.New("not an operation of Zoho's specs")

// validate checks r (whose body is body) against the first document that
// has its path. Messages name the failing parameter or body location,
// never a value.
func (sp *specSet) validate(r *http.Request, body []byte) error {
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	for _, router := range sp.routers {
		route, params, err := router.FindRoute(req)
		switch {
		case errors.Is(err, routers.ErrPathNotFound):
			continue
		case err != nil:
			return fmt.Errorf("%w: %s %s: %v", errUnknownOperation, r.Method, r.URL.Path, err)
		}
		return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: sp.options,
		})
	}
	return fmt.Errorf("%w: %s %s", errUnknownOperation, r.Method, r.URL.Path)
}
