package genericrest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"crmhost.dev/sdk"
	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// Generate writes a starting connector definition (YAML) for the API an
// OpenAPI 3 or Swagger 2.0 document describes: base URL and auth from the
// document, a test request, and an object for every collection that has
// an item path (GET /things and GET /things/{id}), with the requests the
// document has for it (list, lookups by id, email and phone, search,
// create, update, delete), its records path and pagination, and default
// mappings for fields with well-known names. It is a start, not an
// answer: review every object (the header comment lists what to check).
// openapiURL, when set, becomes the definition's openapi_url. The result
// always compiles. Errors: CodeInvalid naming "openapi" for a document
// that does not parse or has no usable collection.
func Generate(doc []byte, openapiURL string) ([]byte, error) {
	api, err := LoadOpenAPI(doc)
	if err != nil {
		return nil, sdk.Invalid("openapi", "%s", err.Error())
	}
	def := Definition{Version: 1, Objects: map[string]Object{}, OpenAPI: openapiURL}
	if api.Info != nil {
		def.Name = strings.TrimSpace(api.Info.Title)
	}
	def.BaseURL = "https://api.example.com"
	if len(api.Servers) > 0 && strings.HasPrefix(api.Servers[0].URL, "http") && !strings.Contains(api.Servers[0].URL, "{") {
		def.BaseURL = strings.TrimRight(api.Servers[0].URL, "/")
	}
	def.Auth = generateAuth(api)
	paths := api.Paths.Map()
	names := sortedKeys(paths)
	def.Test = Test{Request: Request{Path: testPath(names, paths)}}
	firstCollection := ""
	for _, p := range names {
		item := paths[p]
		if item.Get == nil || strings.Contains(p, "{") {
			continue
		}
		itemPath := itemPathOf(p, paths)
		if itemPath == "" {
			continue
		}
		name := sanitizeName(p[strings.LastIndexByte(p, '/')+1:])
		if name == "" {
			continue
		}
		if _, dup := def.Objects[name]; dup {
			continue
		}
		if o, ok := generateObject(name, p, itemPath, item, paths[itemPath]); ok {
			def.Objects[name] = o
			if firstCollection == "" && !hasRequiredParams(item.Get) {
				firstCollection = p
			}
		}
	}
	if len(def.Objects) == 0 {
		return nil, sdk.Invalid("openapi", "has no collection with an item path (GET /things and GET /things/{id}) to make an object of")
	}
	if def.Test.Path == "" {
		if firstCollection == "" {
			return nil, sdk.Invalid("openapi", "has no GET without required parameters to test a connection with")
		}
		def.Test.Path = firstCollection
	}
	if _, err := compileDefinition(def); err != nil {
		return nil, fmt.Errorf("genericrest: the generated definition does not compile (a generator bug): %w", err)
	}
	return toYAML(def, api)
}

// generateAuth picks the document's most capable scheme a definition can
// use: client credentials, bearer, an API key, basic.
func generateAuth(api *openapi3.T) Auth {
	if api.Components == nil {
		return Auth{Type: AuthNone}
	}
	var found []Auth
	for _, name := range sortedKeys(api.Components.SecuritySchemes) {
		ref := api.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		s := ref.Value
		switch {
		case s.Type == "oauth2" && s.Flows != nil && s.Flows.ClientCredentials != nil && s.Flows.ClientCredentials.TokenURL != "":
			a := Auth{Type: AuthClientCredentials, TokenURL: s.Flows.ClientCredentials.TokenURL}
			a.Scopes = sortedKeys(s.Flows.ClientCredentials.Scopes)
			found = append(found, a)
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
			found = append(found, Auth{Type: AuthBearer})
		case s.Type == "apiKey" && (s.In == "header" || s.In == "query"):
			found = append(found, Auth{Type: AuthAPIKey, In: s.In, Name: s.Name})
		case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
			found = append(found, Auth{Type: AuthBasic})
		}
	}
	rank := map[string]int{AuthClientCredentials: 0, AuthBearer: 1, AuthAPIKey: 2, AuthBasic: 3}
	slices.SortStableFunc(found, func(a, b Auth) int { return rank[a.Type] - rank[b.Type] })
	if len(found) == 0 {
		return Auth{Type: AuthNone}
	}
	a := found[0]
	if a.TokenURL != "" && !strings.HasPrefix(a.TokenURL, "/") && !strings.HasPrefix(a.TokenURL, "http") {
		a.TokenURL = "/" + a.TokenURL
	}
	return a
}

var testNames = regexp.MustCompile(`(?i)/(me|whoami|account|user|ping|health|status)$`)

// testPath is a GET without parameters for TestConnection: /me and the
// like, else "" (the caller picks a collection).
func testPath(names []string, paths map[string]*openapi3.PathItem) string {
	for _, p := range names {
		if paths[p].Get != nil && !strings.Contains(p, "{") && testNames.MatchString(p) {
			return p
		}
	}
	return ""
}

// itemPathOf finds p/{param} among the paths.
func itemPathOf(p string, paths map[string]*openapi3.PathItem) string {
	for _, q := range sortedKeys(paths) {
		rest, ok := strings.CutPrefix(q, p+"/")
		if ok && strings.HasPrefix(rest, "{") && strings.HasSuffix(rest, "}") && !strings.Contains(rest, "/") {
			return q
		}
	}
	return ""
}

var nameChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

func sanitizeName(s string) string {
	s = nameChars.ReplaceAllString(s, "_")
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') || len(s) > 64 {
		return ""
	}
	return s
}

// canonicalOf guesses the canonical object of a collection name.
func canonicalOf(name string) string {
	switch strings.ToLower(name) {
	case "contacts", "customers", "people", "persons", "clients", "patients", "guests":
		return sdk.ObjectCustomer
	case "leads", "prospects":
		return sdk.ObjectLead
	case "deals", "opportunities":
		return sdk.ObjectDeal
	case "tickets", "cases":
		return sdk.ObjectCase
	case "appointments", "bookings", "reservations":
		return sdk.ObjectBooking
	case "notes", "activities", "messages", "conversations":
		return sdk.ObjectConversation
	}
	return ""
}

// wellKnown maps provider field names to canonical short keys.
var wellKnown = map[string]string{
	"first_name": "first_name", "firstname": "first_name", "firstName": "first_name", "given_name": "first_name",
	"last_name": "last_name", "lastname": "last_name", "lastName": "last_name", "family_name": "last_name",
	"name": "name", "full_name": "name", "fullName": "name", "title": "name",
	"email": "email", "email_address": "email", "emailAddress": "email",
	"phone": "phone", "phone_number": "phone", "phoneNumber": "phone", "mobile": "phone",
	"company": "company", "company_name": "company", "organization": "company",
	"status": "status", "stage": "stage", "amount": "amount", "body": "body", "subject": "subject",
}

var (
	updatedNames = []string{"updated_at", "updatedAt", "modified_at", "modifiedAt", "last_modified", "updated"}
	sinceParams  = []string{"updated_since", "since", "modified_since", "updated_after", "updatedSince", "modifiedSince"}
	searchParams = []string{"q", "query", "search", "term"}
)

func generateObject(name, p, itemPath string, coll, item *openapi3.PathItem) (Object, bool) {
	o := Object{Canonical: canonicalOf(name), Label: strings.ReplaceAll(name, "_", " ")}
	itemParam := itemPath[strings.LastIndexByte(itemPath, '{')+1 : len(itemPath)-1]
	byID := strings.TrimSuffix(itemPath, "{"+itemParam+"}") + "{id}"
	schema, ref := itemSchema(item)
	if ref != "" {
		o.Schema = ref
	}
	if schema != nil {
		props, _ := flatten(schema, 0)
		for _, n := range updatedNames {
			if _, ok := props[n]; ok {
				o.Record.UpdatedAt = "$." + n
				break
			}
		}
		if _, ok := props["id"]; !ok {
			for _, n := range []string{"uuid", "ID", "_id"} {
				if _, ok := props[n]; ok {
					o.Record.ID = "$." + n
				}
			}
		}
		if o.Canonical != "" {
			o.Fields = map[string]string{}
			for _, f := range sortedKeys(props) {
				if short, ok := wellKnown[f]; ok && !props[f].ReadOnly {
					o.Fields[o.Canonical+"."+short] = f
				}
			}
		}
	}
	if item.Get != nil {
		o.Lookup = &Lookup{ID: &Read{Request: Request{Path: byID}}}
	}
	params := queryParams(coll.Get)
	records, page := recordsAndPaging(coll.Get, params)
	list := func(q map[string]string) *Read {
		r := &Read{Request: Request{Path: p, Query: q}, Records: records, Pagination: page}
		switch page.Style {
		case PageOffset:
			r.Query[pick(params, "offset", "skip", "start")] = "offset"
			r.Query[pick(params, "limit", "count", "per_page", "page_size", "size")] = "page_size"
		case PagePage:
			r.Query[pick(params, "page", "page_number", "pageNumber")] = "page"
			if s := pick(params, "per_page", "page_size", "pageSize", "limit", "size"); s != "" {
				r.Query[s] = "page_size"
			}
		case PageCursor:
			r.Query[pick(params, "cursor", "after", "page_token", "pageToken", "starting_after", "next")] = "cursor"
		}
		delete(r.Query, "")
		if page.Style == PageNone {
			r.Pagination = nil
		}
		return r
	}
	if f := o.Fields; f != nil && o.Lookup != nil {
		if slices.Contains(params, "email") && f[o.Canonical+".email"] != "" {
			o.Lookup.Email = list(map[string]string{"email": "email"})
		}
		if slices.Contains(params, "phone") && f[o.Canonical+".phone"] != "" {
			o.Lookup.Phone = list(map[string]string{"phone": "phone"})
		}
	}
	if s := pick(params, searchParams...); s != "" {
		o.Search = list(map[string]string{s: "query"})
	}
	if s := pick(params, sinceParams...); s != "" && o.Record.UpdatedAt != "" {
		o.List = &List{Read: *list(map[string]string{s: "since"})}
	}
	if coll.Post != nil {
		c := &Create{Request: Request{Path: p}, Idempotency: Idempotency{Mode: IdemNone}}
		for _, prm := range coll.Post.Parameters {
			if prm.Value != nil && prm.Value.In == "header" && strings.EqualFold(prm.Value.Name, "Idempotency-Key") {
				c.Headers = map[string]string{prm.Value.Name: "idempotency_key"}
				c.Idempotency.Mode = IdemRequest
			}
		}
		o.Create = c
	}
	switch {
	case item.Patch != nil:
		o.Update = &Write{Request: Request{Path: byID}}
	case item.Put != nil:
		o.Update = &Write{Request: Request{Method: http.MethodPut, Path: byID}}
	}
	if item.Delete != nil {
		o.Delete = &Delete{Request: Request{Path: byID}, Hard: true}
	}
	if o.Lookup != nil && o.Lookup.Phone == nil && o.Lookup.Email == nil && o.Canonical != sdk.ObjectCustomer && o.Canonical != sdk.ObjectLead {
		o.Lookup = nil // reading one record by id is not a customer lookup
	}
	return o, o.Lookup != nil || o.Search != nil || o.Create != nil || o.Update != nil || o.List != nil || o.Delete != nil
}

// itemSchema is the JSON schema of a GET item answer, and its component
// name when it is a reference.
func itemSchema(item *openapi3.PathItem) (*openapi3.Schema, string) {
	if item.Get == nil || item.Get.Responses == nil {
		return nil, ""
	}
	r := item.Get.Responses.Status(http.StatusOK)
	if r == nil || r.Value == nil {
		return nil, ""
	}
	mt := r.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, ""
	}
	return mt.Schema.Value, strings.TrimPrefix(mt.Schema.Ref, "#/components/schemas/")
}

func hasRequiredParams(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.Required && p.Value.In != "path" {
			return true
		}
	}
	return false
}

func queryParams(op *openapi3.Operation) []string {
	var out []string
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == "query" {
			out = append(out, p.Value.Name)
		}
	}
	return out
}

func pick(params []string, names ...string) string {
	for _, n := range names {
		if slices.Contains(params, n) {
			return n
		}
	}
	return ""
}

// recordsAndPaging reads a collection answer's shape: a list ($[*]), or
// an object whose list property holds the records, and how it pages.
func recordsAndPaging(op *openapi3.Operation, params []string) (string, *Pagination) {
	records, page := "$[*]", &Pagination{Style: PageNone}
	var body *openapi3.Schema
	var headers openapi3.Headers
	if r := op.Responses.Status(http.StatusOK); r != nil && r.Value != nil {
		headers = r.Value.Headers
		if mt := r.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
			body = mt.Schema.Value
		}
	}
	var props map[string]*openapi3.Schema
	if body != nil && body.Type != nil && body.Type.Is("object") {
		props, _ = flatten(body, 0)
		for _, n := range sortedKeys(props) {
			if t := props[n].Type; t != nil && t.Is("array") {
				records = "$." + n
				break
			}
		}
	}
	prop := func(names ...string) string {
		for _, n := range names {
			if _, ok := props[n]; ok {
				return "$." + n
			}
		}
		return ""
	}
	switch {
	case headers["Link"] != nil:
		page.Style = PageLink
	case pick(params, "cursor", "after", "page_token", "pageToken", "starting_after") != "" && prop("next_cursor", "nextCursor", "next", "cursor", "next_page_token", "nextPageToken") != "":
		page.Style, page.Next = PageCursor, prop("next_cursor", "nextCursor", "next", "cursor", "next_page_token", "nextPageToken")
	case pick(params, "offset", "skip", "start") != "" && pick(params, "limit", "count", "per_page", "page_size", "size") != "":
		page.Style, page.Total = PageOffset, prop("total", "total_count", "totalCount", "count")
	case pick(params, "page", "page_number", "pageNumber") != "":
		page.Style, page.Total = PagePage, prop("total_pages", "totalPages", "pages", "page_count")
	}
	return records, page
}

// toYAML renders def as block-style YAML in the definition's field order,
// under a header saying what to review.
func toYAML(def Definition, api *openapi3.T) ([]byte, error) {
	js, err := json.Marshal(def)
	if err != nil {
		return nil, err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(js, &node); err != nil {
		return nil, err
	}
	var unflow func(n *yaml.Node)
	unflow = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			n.Style = 0
			if strings.ContainsAny(n.Value, ":#{}[],&*!|>'\"%@`") || n.Value == "" {
				n.Style = yaml.SingleQuotedStyle
			}
		}
		for _, c := range n.Content {
			unflow(c)
		}
	}
	unflow(&node)
	var b bytes.Buffer
	title := "the API"
	if api.Info != nil && api.Info.Title != "" {
		title = api.Info.Title + " " + api.Info.Version
	}
	fmt.Fprintf(&b, `# A starting connector definition for %s, generated from its OpenAPI
# document by crm-driver-genericrest generate. Review before use:
#   - base_url and auth (the credentials go in the connection, not here);
#   - each object's canonical name, field mappings and record paths
#     (record.id, record.updated_at) against a real answer;
#   - list requests must answer records changed at or after since, oldest
#     first (else set order: unordered); pagination page_size must not
#     exceed the API's maximum unless a total is given;
#   - create idempotency (mode none refuses creates with an idempotency
#     key) and whether delete archives (hard: false) or deletes for good;
#   - then: crm-driver-genericrest validate, and a dry run of each verb.
`, title)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, err
	}
	_ = enc.Close()
	return b.Bytes(), nil
}
