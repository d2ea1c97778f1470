package genericrest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// docTTL is how long a fetched OpenAPI document is reused.
const docTTL = 10 * time.Minute

// docCache keeps fetched OpenAPI documents briefly, keyed by everything
// that decided the fetch (URL, egress allowlist, credentials), so no call
// reads a document it could not have fetched itself.
type docCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cachedDoc
}

type cachedDoc struct {
	doc *openapi3.T
	at  time.Time
}

const maxDocs = 32

// DescribeObject reads the object's fields from the API's OpenAPI
// document (the definition's openapi_url, fetched through the provider
// toolkit's egress guard, with the connection's credentials when it is
// below the base URL): the properties of the object's schema (the
// definition's schema, else the 200 answer of its lookup-by-id request),
// with type (or format), required, read-only and enum options. It sends
// the definition's test request first, so bad credentials are
// auth_error even where the document is public. Errors: CodeUnsupported
// when the definition names no document or schema; CodeInvalid naming
// definition.openapi_url for a document that does not parse or lacks the
// schema; CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DescribeObject(ctx context.Context, conn sdk.Connection, name string) (sdk.ObjectSchema, error) {
	s, o, err := d.openObject(conn, name)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	if s.c.openapi == "" {
		return sdk.ObjectSchema{}, sdk.Errorf(sdk.CodeUnsupported, "the connector definition names no openapi_url to read %s's fields from", name)
	}
	if _, err := s.send(ctx, nil, s.c.test, s.vars(nil)); err != nil {
		return sdk.ObjectSchema{}, err
	}
	doc, err := s.openAPI(ctx)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	sch, where, err := objectSchema(doc, o)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	out := sdk.ObjectSchema{Object: name}
	props, required := flatten(sch, 0)
	for _, p := range sortedKeys(props) {
		ps := props[p]
		f := sdk.Field{Name: p, Type: typeOf(ps), Required: slices.Contains(required, p), ReadOnly: ps.ReadOnly,
			Label: ps.Title}
		for _, e := range ps.Enum {
			if str, ok, _ := scalarString("", celValue(e)); ok {
				f.Options = append(f.Options, str)
			}
		}
		out.Fields = append(out.Fields, f)
	}
	if len(out.Fields) == 0 {
		return sdk.ObjectSchema{}, sdk.Invalid("definition.openapi_url", "describes %s (%s) without properties", name, where)
	}
	return out, nil
}

// objectSchema finds o's schema: the definition's component name, else
// the JSON schema of the 200 answer of the OpenAPI operation its lookup by
// id calls.
func objectSchema(doc *openapi3.T, o *object) (*openapi3.Schema, string, error) {
	name := o.schemaName()
	if name != "" {
		if doc.Components != nil {
			if ref := doc.Components.Schemas[name]; ref != nil && ref.Value != nil {
				return ref.Value, "schema " + name, nil
			}
		}
		return nil, "", sdk.Invalid("definition.objects."+o.name+".schema", "names %q, which the OpenAPI document's components do not have", name)
	}
	if o.byID != nil && doc.Paths != nil {
		for p, item := range doc.Paths.Map() {
			if item.Get == nil || !samePath(p, o.byID.req.path) {
				continue
			}
			if r := item.Get.Responses.Status(http.StatusOK); r != nil && r.Value != nil {
				if mt := r.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					return mt.Schema.Value, "GET " + p, nil
				}
			}
		}
	}
	return nil, "", sdk.Errorf(sdk.CodeUnsupported, "the connector definition names no schema for %s (schema: the OpenAPI component describing a record), and no OpenAPI operation matches its lookup by id", o.name)
}

func (o *object) schemaName() string { return o.schema }

// samePath reports whether an OpenAPI path template ("/v1/contacts/{contactId}")
// matches a definition path template ("/v1/contacts/{id}"): the same
// literal segments, placeholders where the other has placeholders.
func samePath(openapiPath string, parts []pathPart) bool {
	var b strings.Builder
	for _, p := range parts {
		if p.e != nil {
			b.WriteString("{}")
		} else {
			b.WriteString(p.lit)
		}
	}
	a := strings.Split(strings.Trim(openapiPath, "/"), "/")
	c := strings.Split(strings.Trim(b.String(), "/"), "/")
	if len(a) != len(c) {
		return false
	}
	for i := range a {
		pa, pc := strings.HasPrefix(a[i], "{"), strings.HasPrefix(c[i], "{")
		if pa != pc || (!pa && a[i] != c[i]) {
			return false
		}
	}
	return true
}

// flatten merges a schema's properties with those of its allOf parts.
func flatten(s *openapi3.Schema, depth int) (map[string]*openapi3.Schema, []string) {
	props := map[string]*openapi3.Schema{}
	required := slices.Clone(s.Required)
	if depth > 8 {
		return props, required
	}
	for _, part := range s.AllOf {
		if part.Value == nil {
			continue
		}
		p, r := flatten(part.Value, depth+1)
		for k, v := range p {
			props[k] = v
		}
		required = append(required, r...)
	}
	for k, v := range s.Properties {
		if v != nil && v.Value != nil {
			props[k] = v.Value
		}
	}
	return props, required
}

func typeOf(s *openapi3.Schema) string {
	switch {
	case s.Format != "":
		return s.Format
	case s.Type != nil && len(*s.Type) > 0:
		return (*s.Type)[0]
	case len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0:
		return "object"
	}
	return "any"
}

// openAPI fetches (or reuses) the definition's OpenAPI document.
func (s *session) openAPI(ctx context.Context) (*openapi3.T, error) {
	req, sameOrigin, err := s.docRequest()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%v|%v", req.BaseURL, req.Path, req.Query.Encode(), sdk.EgressAllow(ctx), sameOrigin)
	if sameOrigin {
		for _, k := range sortedKeys(s.conn.Secret) {
			fmt.Fprintf(h, "|%d:%s=%s", len(k), k, s.conn.Secret[k])
		}
	}
	var key [32]byte
	h.Sum(key[:0])
	d := s.d
	d.docs.mu.Lock()
	if e, ok := d.docs.entries[key]; ok && d.now().Sub(e.at) < docTTL {
		d.docs.mu.Unlock()
		return e.doc, nil
	}
	d.docs.mu.Unlock()

	req.Header = http.Header{"Accept": {"application/json, application/yaml;q=0.9, */*;q=0.5"}}
	if sameOrigin {
		if err := s.authorize(ctx, &req); err != nil {
			return nil, err
		}
	}
	req.Secrets = provider.SecretsOf(s.conn, s.token)
	resp, err := s.http.Do(ctx, req)
	if err != nil {
		if strings.HasPrefix(s.c.openapi, "/") {
			return nil, s.baseField(err)
		}
		return nil, fieldFor(err, "definition.openapi_url")
	}
	if !resp.OK() {
		e := provider.Classify(s.c.name, resp)
		if e.Code == sdk.CodeNotFound || e.Code == sdk.CodeInvalid {
			return nil, sdk.Invalid("definition.openapi_url", "could not be fetched: %s", e.Message)
		}
		return nil, e
	}
	doc, err := LoadOpenAPI(resp.Body)
	if err != nil {
		return nil, sdk.Invalid("definition.openapi_url", "%s", err.Error())
	}
	d.docs.mu.Lock()
	if d.docs.entries == nil || len(d.docs.entries) >= maxDocs {
		d.docs.entries = map[[32]byte]cachedDoc{}
	}
	d.docs.entries[key] = cachedDoc{doc: doc, at: d.now()}
	d.docs.mu.Unlock()
	return doc, nil
}

// docRequest addresses the OpenAPI document, saying whether it is below
// the base URL (so the connection's credentials may go with it).
func (s *session) docRequest() (provider.Request, bool, error) {
	if strings.HasPrefix(s.c.openapi, "/") {
		return provider.Request{BaseURL: s.base, Path: s.c.openapi}, true, nil
	}
	u, err := url.Parse(s.c.openapi)
	if err != nil {
		return provider.Request{}, false, sdk.Invalid("definition.openapi_url", "is not a URL")
	}
	b, _ := url.Parse(s.base)
	same := b != nil && strings.EqualFold(b.Host, u.Host) && b.Scheme == u.Scheme
	return provider.Request{BaseURL: u.Scheme + "://" + u.Host, Path: u.EscapedPath(), Query: u.Query()}, same, nil
}

// fieldFor renames an egress or base-URL error to the definition field
// whose URL it was about.
func fieldFor(err error, field string) error {
	if e := sdk.AsError(err); e != nil && e.Field == "config."+sdk.ConfigBaseURL {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

// LoadOpenAPI parses an OpenAPI 3 document, or a Swagger 2.0 one
// (converted), in JSON or YAML. External references are not followed.
func LoadOpenAPI(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	var probe struct {
		Swagger string `json:"swagger" yaml:"swagger"`
	}
	if err := unmarshalYAMLorJSON(data, &probe); err == nil && strings.HasPrefix(probe.Swagger, "2") {
		var v2 openapi2.T
		if err := unmarshalYAMLorJSON(data, &v2); err != nil {
			return nil, fmt.Errorf("is not a readable Swagger 2.0 document: %s", oneLine(err.Error()))
		}
		doc, err := openapi2conv.ToV3(&v2)
		if err != nil {
			return nil, fmt.Errorf("is a Swagger 2.0 document that cannot be converted: %s", oneLine(err.Error()))
		}
		return doc, nil
	}
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("is not a readable OpenAPI document: %s", oneLine(err.Error()))
	}
	return doc, nil
}
