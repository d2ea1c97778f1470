package http_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/host/ratelimit"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// loadOpenAPI loads and validates the embedded document. Each caller gets
// its own copy: a loaded document caches compiled schemas, so tests running
// in parallel do not share one.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(hosthttp.OpenAPI())
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation(), openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableSchemaFormatValidation(), openapi3.EnableSchemaDefaultsValidation()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// ginPath rewrites a gin route pattern as an OpenAPI path template:
// /tenants/:tenant_id -> /tenants/{tenant_id}, /files/*path -> /files/{path}.
func ginPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// documentedOperations lists the document's operations as "METHOD path".
func documentedOperations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIRoutes: the document describes exactly the router's routes,
// no more and no fewer.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	e := newEnv(t)
	srv, ok := e.srv.Config.Handler.(*hosthttp.Server)
	if !ok {
		t.Fatalf("the env serves a %T, not a *http.Server", e.srv.Config.Handler)
	}
	var routes []string
	for _, r := range srv.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if path == "/docs" || path == "/console" || strings.HasPrefix(path, "/console/") {
			continue // the operator console's HTML, not the JSON API the document describes
		}
		routes = append(routes, method+" "+ginPath(path))
	}
	slices.Sort(routes)
	routes = slices.Compact(routes)
	if diff := cmp.Diff(routes, documentedOperations(doc)); diff != "" {
		t.Errorf("router routes (-) vs documented operations (+):\n%s", diff)
	}
}

// TestOpenAPIDocument checks what kin-openapi's validation does not: the
// version, unique operation ids, the problem+json shape of every error, the
// X-Request-ID header on every response, a 401 on every authenticated
// operation, and that GET /openapi.json serves the embedded bytes.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", name)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", name, other, op.OperationID)
			}
			ids[op.OperationID] = name
			secured := op.Security != nil && len(*op.Security) > 0
			if secured && op.Responses.Status(nethttp.StatusUnauthorized) == nil {
				t.Errorf("%s is authenticated but documents no 401", name)
			}
			if !secured && (op.Security == nil || strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/v1/")) {
				t.Errorf("%s must state its security (only health routes are open)", name)
			}
			var scoped, limited bool
			if secured {
				for _, req := range *op.Security {
					for scheme, scopes := range req {
						scoped = scoped || len(scopes) > 0
						limited = limited || scheme == "agentToken" || scheme == "apiKey"
					}
				}
			}
			if scoped && op.Responses.Status(nethttp.StatusForbidden) == nil {
				t.Errorf("%s needs a scope but documents no 403", name)
			}
			if limited {
				if op.Responses.Status(nethttp.StatusTooManyRequests) == nil {
					t.Errorf("%s is rate limited but documents no 429", name)
				}
				for code, ref := range op.Responses.Map() {
					if code < "300" && (ref.Value.Headers["RateLimit-Policy"] == nil || ref.Value.Headers["RateLimit"] == nil) {
						t.Errorf("%s %s: a rate-limited success must document RateLimit-Policy and RateLimit", name, code)
					}
				}
			}
			for code, ref := range op.Responses.Map() {
				r := ref.Value
				if r.Headers["X-Request-ID"] == nil || !r.Headers["X-Request-ID"].Value.Required {
					t.Errorf("%s %s: X-Request-ID is not a required header", name, code)
				}
				// readyz's 503 is its report, not a problem; the OAuth
				// callback answers a person's browser, so its errors are pages.
				if code < "400" || op.OperationID == "readyz" || op.OperationID == "oauthCallback" {
					continue
				}
				mt := r.Content.Get("application/problem+json")
				if len(r.Content) != 1 || mt == nil || mt.Schema.Ref != "#/components/schemas/Problem" {
					t.Errorf("%s %s: an error must be application/problem+json with the Problem schema", name, code)
				}
				if code == "429" && (r.Headers["Retry-After"] == nil || !r.Headers["Retry-After"].Value.Required) {
					t.Errorf("%s 429 lacks a required Retry-After header", name)
				}
			}
		}
	}
	// The host never names a CRM provider, its document neither.
	raw := strings.ToLower(string(hosthttp.OpenAPI()))
	for _, p := range []string{"hubspot", "salesforce", "zoho", "mindbody", "athena", "tekmetric", "odoo", "toast", "opentable"} {
		if strings.Contains(raw, p) {
			t.Errorf("openapi.json names the provider %q", p)
		}
	}

	e := newEnv(t)
	c := validate(t, e)
	r := e.do(nethttp.MethodGet, "/openapi.json", "", nil)
	wantStatus(t, r, nethttp.StatusOK)
	if !bytes.Equal(r.body, hosthttp.OpenAPI()) {
		t.Error("GET /openapi.json does not serve the embedded document")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET /openapi.json Content-Type %q", ct)
	}
	c.wantSeen(t, "openapi", 200)
}

// Contract expectations a request can carry in the X-Contract-Expect
// header; the validating transport strips it before sending.
const (
	expectHeader = "X-Contract-Expect"
	// expectInvalidRequest: the request breaks the document on purpose
	// (bad input, a wrong credential): the validator must reject it, and
	// the response must still match the document.
	expectInvalidRequest = "invalid-request"
	// expectNoRoute: the path or method is not an operation; the answer
	// must be a problem+json with the Problem schema.
	expectNoRoute = "no-route"
)

// contract validates every request an env's client sends, and the
// response to it, against the OpenAPI document with kin-openapi
// (openapi3filter over a gorillamux router), and records which statuses
// each operation answered.
type contract struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	base   nethttp.RoundTripper

	mu        sync.Mutex
	seen      map[string]map[int]int // operationId -> status -> count
	keyScopes map[string][]string    // API keys issued under the contract -> scopes
}

// validate installs a contract on e's client: from now on every request
// the env sends (e.do, e.op, e.tool, e.connected...) is checked.
func validate(t *testing.T, e *env) *contract {
	t.Helper()
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	client := e.srv.Client()
	c := &contract{t: t, doc: doc, router: router, base: client.Transport, seen: map[string]map[int]int{}, keyScopes: map[string][]string{}}
	client.Transport = c
	return c
}

// jwtShape is a compact JWS: three base64url parts.
var jwtShape = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)

// authenticate checks a request's credential against one security
// requirement of its operation: the credential kinds are told apart by
// their shape, and the requirement's scopes (the document lists them, as
// OpenAPI 3.1 allows for any scheme) are checked against the agent
// token's claims, or against the scopes an API key was issued with (the
// contract saw it being issued). A request presenting the wrong kind of
// credential, or lacking the scope, breaks the document as it must fail at
// the host.
func (c *contract) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") || strings.TrimSpace(h[7:]) == "" {
		return errors.New("no bearer credential")
	}
	tok := strings.TrimSpace(h[7:])
	var granted []string
	switch in.SecuritySchemeName {
	case "agentToken":
		if !jwtShape.MatchString(tok) {
			return errors.New("the credential is not a JWT")
		}
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		if err != nil {
			return err
		}
		var cl hosthttp.AgentClaims
		if err := json.Unmarshal(payload, &cl); err != nil {
			return err
		}
		granted = append(strings.Fields(cl.Scope), cl.Scopes...)
	case "apiKey":
		if !strings.HasPrefix(tok, "crmk_") {
			return errors.New("the credential is not an API key")
		}
		c.mu.Lock()
		scopes, known := c.keyScopes[tok]
		c.mu.Unlock()
		if !known {
			return nil // a made-up or foreign key: only its shape can be judged
		}
		granted = scopes
	case "operatorToken":
		if !strings.HasPrefix(tok, "crmo_") {
			return errors.New("the credential is not an operator token")
		}
	case "metricsToken":
		if tok != metricsToken {
			return errors.New("the credential is not the metrics token")
		}
	default:
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	for _, want := range in.Scopes {
		if !slices.Contains(granted, want) {
			return fmt.Errorf("the credential lacks the %s scope", want)
		}
	}
	return nil
}

// RoundTrip validates req, sends it, and validates the response.
func (c *contract) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	expect := req.Header.Get(expectHeader)
	req = req.Clone(req.Context())
	req.Header.Del(expectHeader)
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	name := req.Method + " " + req.URL.RequestURI()

	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, routeErr := c.router.FindRoute(vreq)
	var in *openapi3filter.RequestValidationInput
	switch {
	case routeErr != nil && expect != expectNoRoute:
		c.t.Errorf("contract: %s is not a documented operation: %v", name, routeErr)
	case routeErr == nil && expect == expectNoRoute:
		c.t.Errorf("contract: %s was expected to match no operation, but matches %s", name, route.Operation.OperationID)
	case routeErr == nil:
		in = &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: c.authenticate, MultiError: true}}
		err := openapi3filter.ValidateRequest(req.Context(), in)
		switch {
		case expect == expectInvalidRequest && err == nil:
			c.t.Errorf("contract: %s %s breaks the document on purpose, yet the document accepts it", name, body)
		case expect != expectInvalidRequest && err != nil:
			c.t.Errorf("contract: request %s %s does not match the document: %v", name, body, err)
		}
	}

	res, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(raw))

	if in == nil {
		c.checkBareProblem(name, res, raw)
		return res, nil
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(raw)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		c.t.Errorf("contract: response to %s (%d %s) does not match the document: %v", name, res.StatusCode, raw, err)
	}
	c.mu.Lock()
	id := route.Operation.OperationID
	if id == "createAPIKey" && res.StatusCode == nethttp.StatusCreated {
		var k struct {
			Key    string   `json:"key"`
			Scopes []string `json:"scopes"`
		}
		if json.Unmarshal(raw, &k) == nil {
			c.keyScopes[k.Key] = k.Scopes
		}
	}
	if c.seen[id] == nil {
		c.seen[id] = map[int]int{}
	}
	c.seen[id][res.StatusCode]++
	c.mu.Unlock()
	return res, nil
}

// checkBareProblem checks an answer to a request that matches no
// operation: a problem+json with the Problem schema and X-Request-ID.
func (c *contract) checkBareProblem(name string, res *nethttp.Response, raw []byte) {
	if res.StatusCode < 400 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || res.Header.Get("X-Request-ID") == "" {
		c.t.Errorf("contract: %s answered %d %q without X-Request-ID or problem+json", name, res.StatusCode, res.Header.Get("Content-Type"))
		return
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		c.t.Errorf("contract: %s: problem body %s: %v", name, raw, err)
		return
	}
	if err := c.doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		c.t.Errorf("contract: %s: %s does not match the Problem schema: %v", name, raw, err)
	}
}

// wantSeen fails unless operation id answered status at least once.
func (c *contract) wantSeen(t *testing.T, id string, status int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[id][status] == 0 {
		t.Errorf("%s never answered %d under validation (seen %v)", id, status, c.seen[id])
	}
}

// wantCoverage fails unless every documented operation was validated with
// at least one success and, when it documents errors, one error.
func (c *contract) wantCoverage(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			var ok, bad, documentedErr bool
			for status := range c.seen[op.OperationID] {
				ok = ok || status < 400
				bad = bad || status >= 400
			}
			for code := range op.Responses.Map() {
				documentedErr = documentedErr || code >= "400"
			}
			if !ok {
				t.Errorf("%s %s (%s): no success response was validated", method, path, op.OperationID)
			}
			if documentedErr && !bad {
				t.Errorf("%s %s (%s): no error response was validated", method, path, op.OperationID)
			}
		}
	}
}

// expect returns the X-Contract-Expect header pair for e.do's hdr.
func expect(what string) []string { return []string{expectHeader, what} }

// issueKey issues an API key for tenant with scopes through the operator
// route and returns its text and id.
func (e *env) issueKey(tenant string, scopes ...string) (key, id string) {
	e.t.Helper()
	r := e.op(nethttp.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": scopes})
	wantStatus(e.t, r, nethttp.StatusCreated)
	var out struct{ ID, Key string }
	r.decode(e.t, &out)
	return out.Key, out.ID
}

// TestOpenAPILiveResponses drives every documented operation to at least
// one success and one error under the contract: each request and each
// response (status, headers, body) is validated against the document.
func TestOpenAPILiveResponses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := validate(t, e)
	bad := expect(expectInvalidRequest)
	GET, POST, PUT, DELETE := nethttp.MethodGet, nethttp.MethodPost, nethttp.MethodPut, nethttp.MethodDelete

	// Health, metrics, the document; paths and methods that are no
	// operation.
	wantStatus(t, e.do(GET, "/healthz", "", nil), 200)
	wantStatus(t, e.do(GET, "/readyz", "", nil), 200)
	wantStatus(t, e.do(GET, "/metrics", metricsToken, nil), 200)
	wantProblem(t, e.do(GET, "/metrics", "", nil, bad...), 401, "unauthenticated", "")
	wantStatus(t, e.do(GET, "/openapi.json", "", nil), 200)
	wantProblem(t, e.do(GET, "/api/nope", "", nil, expect(expectNoRoute)...), 404, "not_found", "")
	wantProblem(t, e.do(GET, "/api/tools/crm_lookup_customer", "", nil, expect(expectNoRoute)...), 405, "method_not_allowed", "method")

	// Drivers.
	wantStatus(t, e.op(GET, "/drivers", nil), 200)
	wantProblem(t, e.do(GET, "/api/operator/drivers", "", nil, bad...), 401, "unauthenticated", "")
	wantStatus(t, e.op(POST, "/drivers", map[string]any{"file": filepath.Base(memBinary), "slug": "mem"}), 201)
	wantProblem(t, e.op(POST, "/drivers", map[string]any{"file": "../" + filepath.Base(memBinary)}), 400, "invalid", "file")
	wantProblem(t, e.do(POST, "/api/operator/drivers", operatorToken, map[string]any{"file": filepath.Base(memBinary), "sha256": "xyz"}, bad...), 400, "invalid", "sha256")
	if _, err := e.store.RegisterDriver(t.Context(), host.DriverEntry{Slug: "mem2", Command: filepath.Base(memBinary), SHA256: memSHA}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.op(GET, "/health", nil), 200)
	wantProblem(t, e.do(GET, "/api/operator/health", "", nil, bad...), 401, "unauthenticated", "")
	wantStatus(t, e.op(GET, "/audit?action=driver.register", nil), 200)
	wantProblem(t, e.do(GET, "/api/operator/audit?limit=0", operatorToken, nil, bad...), 400, "invalid", "limit")
	wantStatus(t, e.op(GET, "/drivers/mem", nil), 200)
	wantProblem(t, e.op(GET, "/drivers/nosuch", nil), 404, "not_found", "")
	wantStatus(t, e.op(DELETE, "/drivers/mem2", nil), 204)
	wantProblem(t, e.op(DELETE, "/drivers/mem2", nil), 404, "not_found", "")

	// Tenants and connections.
	tenant, token := e.connected("Acme", "acme")
	unconnected := e.createTenant("Unconnected")
	wantProblem(t, e.do(POST, "/api/operator/tenants", operatorToken, map[string]string{"name": ""}, bad...), 400, "invalid", "name")
	wantStatus(t, e.op(GET, "/tenants", nil), 200)
	wantProblem(t, e.do(GET, "/api/operator/tenants", token, nil, bad...), 401, "unauthenticated", "")
	wantStatus(t, e.op(GET, "/tenants/"+tenant, nil), 200)
	wantProblem(t, e.op(GET, "/tenants/ten_nosuch", nil), 404, "not_found", "")
	gone := e.createTenant("Gone")
	wantStatus(t, e.op(DELETE, "/tenants/"+gone, nil), 204)
	wantProblem(t, e.op(DELETE, "/tenants/"+gone, nil), 404, "not_found", "")
	wantProblem(t, e.op(PUT, "/tenants/"+tenant+"/connection", map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme", "api_key": "good-key", "colour": "red"}}),
		400, "invalid", "credentials.colour")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/connection", nil), 200)
	wantProblem(t, e.op(GET, "/tenants/ten_nosuch/connection", nil), 404, "not_found", "")
	wantStatus(t, e.op(POST, "/tenants/"+tenant+"/connection/test", nil), 200)
	wantProblem(t, e.op(POST, "/tenants/"+unconnected+"/connection/test", nil), 409, "not_connected", "")

	// Mappings, live fields, audit.
	mappings := "/tenants/" + tenant + "/mappings"
	wantStatus(t, e.op(GET, mappings, nil), 200)
	wantProblem(t, e.op(GET, "/tenants/"+unconnected+"/mappings", nil), 409, "not_connected", "")
	wantStatus(t, e.op(PUT, mappings+"/read/customer.nickname", map[string]string{"target": "notes"}), 200)
	wantProblem(t, e.do(PUT, "/api/operator"+mappings+"/colour/customer.nickname", operatorToken, map[string]string{"target": "notes"}, bad...), 400, "invalid", "kind")
	wantStatus(t, e.op(DELETE, mappings+"/read/customer.nickname", nil), 204)
	wantProblem(t, e.op(DELETE, mappings+"/read/customer.nickname", nil), 404, "not_found", "")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/fields/customer", nil), 200)
	wantProblem(t, e.op(GET, "/tenants/"+tenant+"/fields/widgets", nil), 400, "invalid", "object")
	r := e.op(GET, "/tenants/"+tenant+"/audit?limit=2", nil)
	wantStatus(t, r, 200)
	if r.object(t)["next_before"] == nil {
		t.Errorf("a full audit page has no next_before: %s", r.body)
	}
	wantProblem(t, e.do(GET, "/api/operator/tenants/"+tenant+"/audit?limit=0", operatorToken, nil, bad...), 400, "invalid", "limit")

	// API keys.
	key, _ := e.issueKey(tenant, "crm:read", "crm:write", "leads:write")
	readKey, _ := e.issueKey(tenant, "crm:read")
	_, spare := e.issueKey(tenant, "crm:read")
	wantProblem(t, e.do(POST, "/api/operator/tenants/"+tenant+"/api-keys", operatorToken, map[string]any{"scopes": []string{"admin"}}, bad...), 400, "invalid", "scopes")
	wantProblem(t, e.op(POST, "/tenants/ten_nosuch/api-keys", map[string]any{"scopes": []string{"crm:read"}}), 404, "not_found", "")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/api-keys", nil), 200)
	wantProblem(t, e.op(GET, "/tenants/ten_nosuch/api-keys", nil), 404, "not_found", "")
	wantStatus(t, e.op(DELETE, "/tenants/"+tenant+"/api-keys/"+spare, nil), 204)
	wantProblem(t, e.op(DELETE, "/tenants/"+tenant+"/api-keys/key_nosuch", nil), 404, "not_found", "")

	// Tools.
	readOnly := sign(t, jwt.SigningMethodHS256, hsSecret, claims(tenant, hosthttp.ScopeRead))
	ada := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "email": "ada@example.com"}}
	r = e.tool("crm_create_record", token, ada, "Idempotency-Key", "live-1")
	wantStatus(t, r, 200)
	id := r.object(t)["external_id"].(string)
	r = e.tool("crm_create_record", token, ada, "Idempotency-Key", "live-1")
	wantStatus(t, r, 200)
	if r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed create lacks Idempotent-Replayed: %v", r.header)
	}
	wantProblem(t, e.tool("crm_create_record", token, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Bob"}}, "Idempotency-Key", "live-1"),
		422, "idempotency_key_reused", "")
	wantProblem(t, e.tool("crm_create_record", readOnly, ada, bad...), 403, "forbidden", "")
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "ada@example.com"}), 200)
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"}), 200)
	wantProblem(t, e.tool("crm_lookup_customer", token, map[string]string{}, bad...), 400, "invalid", "phone")
	wantProblem(t, e.tool("crm_lookup_customer", token, `{"email": "ada@example.com"}`, append([]string{"Content-Type", "text/plain"}, bad...)...), 415, "unsupported_media_type", "Content-Type")
	r = e.tool("crm_lookup_customer", token, map[string]string{"email": memdriver.RateLimitEmail})
	if p := wantProblem(t, r, 429, "rate_limited", ""); p.RetryAfter != int(memdriver.RateLimitRetryAfter/time.Second) || r.header.Get("Retry-After") != strconv.Itoa(p.RetryAfter) {
		t.Errorf("provider 429: retry_after %d, Retry-After %q", p.RetryAfter, r.header.Get("Retry-After"))
	}
	wantStatus(t, e.tool("crm_search_records", token, map[string]any{"object": "customer", "query": "ada"}), 200)
	wantProblem(t, e.tool("crm_search_records", token, map[string]any{"object": "widget", "query": "x"}), 400, "invalid", "object")
	wantStatus(t, e.tool("crm_list_recent", token, map[string]any{"object": "customer", "since": "2020-01-02T03:04:05Z"}), 200)
	wantProblem(t, e.tool("crm_list_recent", token, map[string]any{"object": "customer", "since": "yesterday"}, bad...), 400, "invalid", "since")
	wantStatus(t, e.tool("crm_update_record", token, map[string]any{"object": "customer", "external_id": id, "fields": map[string]any{"last_name": "Lovelace"}}), 200)
	wantProblem(t, e.tool("crm_update_record", token, map[string]any{"object": "customer", "external_id": "p-999999", "fields": map[string]any{"last_name": "X"}}), 404, "not_found", "")
	wantProblem(t, e.tool("crm_update_record", "", map[string]any{"object": "customer", "external_id": id, "fields": map[string]any{}}, bad...), 401, "unauthenticated", "")
	wantProblem(t, e.tool("crm_lookup_customer", agentToken(t, unconnected), map[string]string{"email": "a@example.com"}), 409, "not_connected", "")
	big := map[string]any{"object": "customer", "fields": map[string]any{"notes": strings.Repeat("x", 70<<10)}}
	wantProblem(t, e.tool("crm_create_record", token, big), 413, "too_large", "body")
	rejected := e.createTenant("Rejected")
	wantStatus(t, e.connect(rejected, map[string]string{"account": "rejected", "api_key": "wrong"}), 200)
	wantProblem(t, e.tool("crm_lookup_customer", agentToken(t, rejected), map[string]string{"email": "a@example.com"}), 502, "auth_error", "")

	// The public API; the tenant's CRM takes leads as people.
	e.mapLeads(tenant)
	v1 := func(method, path, k string, body any, hdr ...string) resp {
		t.Helper()
		return e.do(method, "/v1"+path, k, body, hdr...)
	}
	r = v1(POST, "/crm/create-record", key, ada, "Idempotency-Key", "live-v1")
	wantStatus(t, r, 200)
	r = v1(POST, "/crm/create-record", key, ada, "Idempotency-Key", "live-v1")
	if wantStatus(t, r, 200); r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed public create lacks Idempotent-Replayed: %v", r.header)
	}
	wantProblem(t, v1(POST, "/crm/create-record", key, ada, append([]string{"Idempotency-Key", strings.Repeat("k", 256)}, bad...)...), 400, "invalid", "idempotency_key")
	wantProblem(t, v1(POST, "/crm/create-record", readKey, ada, bad...), 403, "forbidden", "scope")
	wantProblem(t, v1(POST, "/crm/create-record", token, ada, bad...), 401, "unauthenticated", "")
	wantStatus(t, v1(POST, "/crm/lookup-customer", readKey, map[string]string{"email": "ada@example.com"}), 200)
	wantProblem(t, v1(POST, "/crm/lookup-customer", readKey, map[string]string{}, bad...), 400, "invalid", "phone")
	wantStatus(t, v1(POST, "/crm/search-records", readKey, map[string]any{"object": "customer", "query": "ada"}), 200)
	wantProblem(t, v1(POST, "/crm/search-records", "", map[string]any{"object": "customer", "query": "ada"}, bad...), 401, "unauthenticated", "")
	wantStatus(t, v1(POST, "/crm/list-recent", readKey, map[string]any{"object": "customer", "since": "2020-01-02T03:04:05Z"}), 200)
	wantProblem(t, v1(POST, "/crm/list-recent", readKey, map[string]any{"object": "customer", "since": "yesterday"}, bad...), 400, "invalid", "since")
	wantStatus(t, v1(POST, "/crm/update-record", key, map[string]any{"object": "customer", "external_id": id, "fields": map[string]any{"last_name": "Byron"}}), 200)
	wantProblem(t, v1(POST, "/crm/update-record", readKey, map[string]any{"object": "customer", "external_id": id, "fields": map[string]any{}}, bad...), 403, "forbidden", "scope")
	lead := map[string]any{"fields": map[string]any{"first_name": "Grace", "email": "grace@example.com"}}
	r = v1(POST, "/leads", key, lead, "Idempotency-Key", "lead-1")
	wantStatus(t, r, 202)
	leadID, _ := r.object(t)["id"].(string)
	wantProblem(t, v1(POST, "/leads", key, map[string]any{"fields": map[string]any{}}, bad...), 400, "invalid", "fields")
	wantStatus(t, v1(GET, "/leads/"+leadID, readKey, nil), 200)
	wantProblem(t, v1(GET, "/leads/lead_nosuch", key, nil), 404, "not_found", "")

	// The background job writes the lead; its answer then names the record.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = v1(GET, "/leads/"+leadID, key, nil)
		wantStatus(t, r, 200)
		if st := r.object(t)["status"]; st != "pending" || time.Now().After(deadline) {
			if st != "written" {
				t.Errorf("lead = %s, want written", r.body)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Mirrored classes, then the operator's sync state, rows, redrive,
	// incidents and erasures.
	mkey, _ := e.issueKey(tenant, "conversations:write", "customers:write", "cases:write")
	rowID := func(r resp) string {
		t.Helper()
		wantStatus(t, r, 202)
		return r.object(t)["row"].(map[string]any)["id"].(string)
	}
	cusID := rowID(v1(POST, "/customers", mkey, map[string]any{"fields": map[string]any{"first_name": "Ada"}}))
	wantProblem(t, v1(POST, "/customers", mkey, map[string]any{"fields": map[string]any{}}), 400, "invalid", "fields")
	wantStatus(t, v1(GET, "/customers/"+cusID, readKey, nil), 200)
	wantProblem(t, v1(GET, "/customers/cus_nosuch", mkey, nil), 404, "not_found", "")
	caseID := rowID(v1(POST, "/cases", mkey, map[string]any{"fields": map[string]any{"subject": "Broken"}, "customer": map[string]any{"id": cusID}}))
	wantProblem(t, v1(POST, "/cases", mkey, map[string]any{"fields": map[string]any{"subject": "x"}, "customer": map[string]any{"id": "cus_nosuch"}}), 400, "invalid", "customer.id")
	wantStatus(t, v1(GET, "/cases/"+caseID, mkey, nil), 200)
	wantProblem(t, v1(GET, "/cases/"+cusID, mkey, nil), 404, "not_found", "")
	convID := rowID(v1(POST, "/conversations", mkey, map[string]any{"channel": "voice", "customer": map[string]any{"id": cusID},
		"messages": []map[string]any{{"role": "caller", "text": "Hello"}}}))
	wantProblem(t, v1(POST, "/conversations", mkey, map[string]any{"fields": map[string]any{"a": 1}}), 400, "invalid", "fields")
	wantStatus(t, v1(GET, "/conversations/"+convID, mkey, nil), 200)
	wantProblem(t, v1(GET, "/conversations/conv_nosuch", mkey, nil), 404, "not_found", "")
	wantStatus(t, v1(POST, "/conversations/"+convID+"/messages", mkey, map[string]any{"messages": []map[string]any{{"role": "agent", "text": "Hi"}}}), 202)
	wantProblem(t, v1(POST, "/conversations/conv_nosuch/messages", mkey, map[string]any{"messages": []map[string]any{{"role": "agent", "text": "Hi"}}}), 404, "not_found", "")
	wantStatus(t, v1(GET, "/conversations/"+convID+"/messages?limit=10", mkey, nil), 200)
	wantProblem(t, v1(GET, "/conversations/conv_nosuch/messages", mkey, nil), 404, "not_found", "")
	wantStatus(t, e.op(GET, "/incidents?state=all", nil), 200)
	wantProblem(t, e.do(GET, "/api/operator/incidents?state=closed", operatorToken, nil, bad...), 400, "invalid", "state")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/mirror", nil), 200)
	wantProblem(t, e.op(GET, "/tenants/ten_nosuch/mirror", nil), 404, "not_found", "")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/mirror/rows?class=customer&limit=5", nil), 200)
	wantProblem(t, e.do(GET, "/api/operator/tenants/"+tenant+"/mirror/rows?class=fax", operatorToken, nil, bad...), 400, "invalid", "class")
	wantStatus(t, e.op(POST, "/tenants/"+tenant+"/mirror/redrive", map[string]any{"class": "case"}), 200)
	wantProblem(t, e.op(POST, "/tenants/"+tenant+"/mirror/redrive", map[string]any{"row_id": cusID}), 409, "conflict", "")
	r = e.op(POST, "/tenants/"+tenant+"/forget", map[string]any{"email": "nobody@example.com"})
	wantStatus(t, r, 202)
	eraID, _ := r.object(t)["id"].(string)
	wantProblem(t, e.op(POST, "/tenants/"+tenant+"/forget", map[string]any{}), 400, "invalid", "phone")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/erasures/"+eraID, nil), 200)
	wantProblem(t, e.op(GET, "/tenants/"+tenant+"/erasures/era_nosuch", nil), 404, "not_found", "")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/erasures?limit=10", nil), 200)
	wantProblem(t, e.op(GET, "/tenants/"+tenant+"/erasures?before=era_nosuch", nil), 400, "invalid", "before")

	// OAuth sign-in: start (and a refusal), callback (and a refusal).
	oauthTenant := e.createTenant("OAuth")
	wantStatus(t, e.op(PUT, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{"client_id": "mem-client"}}), 200)
	wantProblem(t, e.op(POST, "/tenants/"+oauthTenant+"/connection/oauth", map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme"}}),
		400, "invalid", "config.region")
	q := e.startMemOAuth(t, oauthTenant, map[string]string{"account": "acme", "region": "eu"})
	if r := e.do(GET, "/oauth/callback?state=forged&code=x", "", nil); r.status != 400 {
		t.Errorf("forged callback = %d", r.status)
	}
	if r := e.do(GET, "/oauth/callback?state="+url.QueryEscape(q.Get("state"))+"&code="+memdriver.AuthCode, "", nil); r.status != 200 {
		t.Errorf("callback = %d %s", r.status, r.body)
	}

	// Connection edits, objects, app credentials, inbound webhooks.
	PATCH := nethttp.MethodPatch
	wantStatus(t, e.op(PATCH, "/tenants/"+tenant+"/connection", map[string]any{"credentials": map[string]string{"region": "eu"}}), 200)
	wantProblem(t, e.op(PATCH, "/tenants/"+tenant+"/connection", map[string]any{"credentials": map[string]string{"region": "mars"}}), 400, "invalid", "credentials.region")
	wantStatus(t, e.op(GET, "/tenants/"+tenant+"/connection/objects", nil), 200)
	wantProblem(t, e.op(GET, "/tenants/ten_nosuch/connection/objects", nil), 404, "not_found", "")
	wantStatus(t, e.op(POST, "/tenants/"+tenant+"/connection/objects", nil), 200)
	wantProblem(t, e.op(POST, "/tenants/"+unconnected+"/connection/objects", nil), 409, "not_connected", "")
	wantProblem(t, e.op(PUT, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{"colour": "red"}}), 400, "invalid", "values.colour")
	wantStatus(t, e.op(PUT, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{"partner_key": "live-partner-key"}}), 200)
	wantStatus(t, e.op(GET, "/drivers/mem/app-credentials", nil), 200)
	wantProblem(t, e.op(GET, "/drivers/nosuch/app-credentials", nil), 404, "not_found", "")
	hook := memDelivery(t, "live-partner-key", "acme")
	wantStatus(t, e.do(POST, "/webhooks/mem", "", hook.body, memdriver.SignatureHeader, hook.sig), 200)
	wantProblem(t, e.do(POST, "/webhooks/mem", "", hook.body, memdriver.SignatureHeader, "00"), 401, "unauthenticated", "")
	wantStatus(t, e.do(PUT, "/webhooks/mem", "", hook.body, memdriver.SignatureHeader, hook.sig), 200)
	wantProblem(t, e.do(PUT, "/webhooks/nosuch", "", hook.body), 404, "not_found", "")
	wantStatus(t, e.do(GET, "/webhooks/mem?challenge=abc", "", nil), 200)
	wantProblem(t, e.do(GET, "/webhooks/nosuch?challenge=abc", "", nil), 404, "not_found", "")
	wantStatus(t, e.do(nethttp.MethodHead, "/webhooks/mem?challenge=abc", "", nil), 200)
	if r := e.do(nethttp.MethodHead, "/webhooks/nosuch", "", nil); r.status != 404 {
		t.Errorf("HEAD of an unknown provider's webhook = %d, want 404", r.status)
	}
	wantStatus(t, e.op(DELETE, "/drivers/mem/app-credentials", nil), 204)
	wantProblem(t, e.op(DELETE, "/drivers/mem/app-credentials", nil), 404, "not_found", "")
	exerciseOutbound(t, e, tenant)

	// A driver that dies costs the call a 503; then (jobs stopped first)
	// the store goes away and the host is no longer ready. Both last: they
	// break the env.
	wantProblem(t, e.tool("crm_lookup_customer", token, map[string]string{"email": memdriver.ExitEmail}), 503, "driver_unavailable", "")
	if err := e.jobs.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.closeStore.Do(func() { e.store.Close() })
	wantStatus(t, e.do(GET, "/readyz", "", nil), 503)

	c.wantCoverage(t)
}

// TestOpenAPIRateLimited validates the rate-limited routes of a host that
// limits requests: the RateLimit-Policy and RateLimit headers on their
// answers, and the 429 with Retry-After once a limit is spent, for the
// per-(tenant, tool) and the per-API-key policies.
func TestOpenAPIRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) {
		o.limits = hosthttp.RateLimits{Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{}),
			APIKey: ratelimit.Limit{Rate: 3, Period: time.Minute}, Tool: ratelimit.Limit{Rate: 2, Period: time.Minute}}
	})
	c := validate(t, e)
	tenant, token := e.connected("Acme", "acme")
	e.mapLeads(tenant)
	key, _ := e.issueKey(tenant, "crm:read", "crm:write", "leads:write")
	lookup := map[string]string{"email": "nobody@example.com"}

	limited := func(r resp, policies ...string) {
		t.Helper()
		for _, p := range policies {
			if !strings.Contains(r.header.Get("RateLimit-Policy"), `"`+p+`"`) || !strings.Contains(r.header.Get("RateLimit"), `"`+p+`"`) {
				t.Errorf("%d answer lacks the %s policy: RateLimit-Policy %q, RateLimit %q", r.status, p, r.header.Get("RateLimit-Policy"), r.header.Get("RateLimit"))
			}
		}
	}
	for range 2 {
		limited(e.tool("crm_lookup_customer", token, lookup), hosthttp.PolicyTool)
	}
	r := e.tool("crm_lookup_customer", token, lookup)
	wantProblem(t, r, nethttp.StatusTooManyRequests, "rate_limited", "")
	limited(r, hosthttp.PolicyTool)

	ada := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}}
	limited(e.do(nethttp.MethodPost, "/v1/crm/create-record", key, ada), hosthttp.PolicyAPIKey, hosthttp.PolicyTool)
	r = e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Grace"}})
	wantStatus(t, r, nethttp.StatusAccepted)
	limited(r, hosthttp.PolicyAPIKey)
	id, _ := r.object(t)["id"].(string)
	limited(e.do(nethttp.MethodGet, "/v1/leads/"+id, key, nil), hosthttp.PolicyAPIKey)
	for _, call := range []func() resp{
		func() resp { return e.do(nethttp.MethodGet, "/v1/leads/"+id, key, nil) },
		func() resp {
			return e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Grace"}})
		},
		func() resp { return e.do(nethttp.MethodPost, "/v1/crm/create-record", key, ada) },
	} {
		r := call()
		p := wantProblem(t, r, nethttp.StatusTooManyRequests, "rate_limited", "")
		limited(r, hosthttp.PolicyAPIKey)
		if p.RetryAfter < 1 || r.header.Get("Retry-After") != strconv.Itoa(p.RetryAfter) {
			t.Errorf("429 retry_after %d, Retry-After %q", p.RetryAfter, r.header.Get("Retry-After"))
		}
	}
	for _, id := range []string{"crm_lookup_customer", "publicCreateRecord", "submitLead", "getLead"} {
		c.wantSeen(t, id, nethttp.StatusTooManyRequests)
	}
}

// Pages (the OAuth callback's) are checked as text: kin-openapi decodes
// no HTML.
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", func(body io.Reader, _ nethttp.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	})
}
