package genericrest

import (
	"crypto/sha256"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Config keys and limits of a connection.
const (
	// ConfigDefinition is the config key holding the connector definition.
	ConfigDefinition = "definition"
	// MaxDefinitionBytes bounds a definition. (The host's connect form
	// takes at most 8192 characters per field: see the README.)
	MaxDefinitionBytes = 64 << 10
	fieldDefinition    = "definition"
)

// connector is a compiled definition: every template and path compiled,
// defaults filled in. It is immutable and shared by every call of every
// connection with the same definition.
type connector struct {
	def      Definition
	name     string
	baseURL  string // the definition's; a connection's config base_url wins
	openapi  string
	auth     Auth
	headers  []namedExpr
	test     *request
	account  *jpath
	errors   *errorMap
	objects  map[string]*object
	names    []string
	infos    []sdk.ObjectInfo
	tokenKey string // client-credentials token endpoint, relative or absolute
}

// object is one compiled object.
type object struct {
	name        string
	info        sdk.ObjectInfo
	id          *jpath
	updatedAt   *jpath
	fields      *jpath
	timeFormat  string
	url         *expr
	byPhone     *read
	byEmail     *read
	byID        *read
	phoneFields []string
	emailFields []string
	search      *read
	create      *creator
	update      *request
	list        *lister
	delete      *deleter
	erase       *deleter
	errors      *errorMap
	mapped      []string // provider fields of the default mapping
	schema      string   // OpenAPI component name
}

type read struct {
	req     *request
	records *jpath
	page    pager
}

type creator struct {
	req  *request
	id   *jpath
	mode string
	find *read
}

type lister struct {
	read
	unordered bool
	deleted   *deletedFeed
}

type deletedFeed struct {
	read
	id, at     *jpath
	timeFormat string
}

type deleter struct {
	req  *request
	hard bool
}

// cache holds compiled definitions by their SHA-256, so a verb validates
// its connection's definition at the cost of one hash.
type cache struct {
	mu      sync.Mutex
	entries map[[32]byte]cached
}

type cached struct {
	c   *connector
	err error
}

// maxCached bounds the cache; it is emptied when full.
const maxCached = 512

func (k *cache) get(raw string) (*connector, error) {
	sum := sha256.Sum256([]byte(raw))
	k.mu.Lock()
	e, ok := k.entries[sum]
	k.mu.Unlock()
	if ok {
		return e.c, e.err
	}
	c, err := Compile([]byte(raw))
	if e := sdk.AsError(err); err != nil && e.Code != sdk.CodeInvalid {
		return nil, err // not the definition's fault: do not remember it
	}
	k.mu.Lock()
	if k.entries == nil || len(k.entries) >= maxCached {
		k.entries = map[[32]byte]cached{}
	}
	k.entries[sum] = cached{c, err}
	k.mu.Unlock()
	return c, err
}

// Compile parses a connector definition and compiles every template and
// JSONPath in it. Errors: CodeInvalid naming the failing part, e.g.
// "definition.objects.contacts.create.body".
func Compile(raw []byte) (*connector, error) {
	def, err := ParseDefinition(raw)
	if err != nil {
		return nil, err
	}
	return compileDefinition(def)
}

func compileDefinition(def Definition) (*connector, error) {
	c := &connector{def: def, name: def.Name, objects: map[string]*object{}}
	if c.name == "" {
		c.name = "the API"
	}
	if _, err := provider.ParseBaseURL(def.BaseURL); err != nil {
		return nil, sdk.Invalid("definition.base_url", "%s", sdk.AsError(err).Message)
	}
	c.baseURL = def.BaseURL
	if def.OpenAPI != "" {
		if err := checkURLOrPath(def.OpenAPI); err != nil {
			return nil, sdk.Invalid("definition.openapi_url", "%s", err.Error())
		}
		c.openapi = def.OpenAPI
	}
	var err error
	if c.auth, err = compileAuth(def.Auth); err != nil {
		return nil, err
	}
	if c.headers, err = compileNamed(scopeGlobal, "definition.headers", def.Headers); err != nil {
		return nil, err
	}
	if c.test, err = compileRequest(scopeGlobal, "definition.test", def.Test.Request, http.MethodGet); err != nil {
		return nil, err
	}
	if def.Test.AccountID != "" {
		if c.account, err = compilePath("definition.test.account_id", def.Test.AccountID); err != nil {
			return nil, err
		}
	}
	if c.errors, err = compileErrors("definition.errors", def.Errors, nil); err != nil {
		return nil, err
	}
	c.names = sortedKeys(def.Objects)
	for _, name := range c.names {
		o, err := compileObject(c, name, def.Objects[name])
		if err != nil {
			return nil, err
		}
		c.objects[name] = o
		c.infos = append(c.infos, o.info)
	}
	return c, nil
}

// checkURLOrPath accepts an absolute http(s) URL without userinfo or
// fragment, or a path below the base URL.
func checkURLOrPath(s string) error {
	if strings.HasPrefix(s, "/") {
		if _, err := provider.JoinURL("https://example.invalid", s, nil); err != nil {
			return errorString("is not a valid path: " + sdk.AsError(err).Message)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errorString("must be an absolute http(s) URL without user information or fragment, or a path below base_url starting with /")
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func compileAuth(a Auth) (Auth, error) {
	const f = "definition.auth"
	notFor := func(name, set string) error {
		return sdk.Invalid(f+"."+name, "applies only to auth type %s, not %s", set, a.Type)
	}
	if a.Type != AuthAPIKey {
		switch {
		case a.In != "":
			return a, notFor("in", AuthAPIKey)
		case a.Name != "":
			return a, notFor("name", AuthAPIKey)
		case a.Prefix != "":
			return a, notFor("prefix", AuthAPIKey)
		}
	}
	if a.Type != AuthClientCredentials {
		switch {
		case a.TokenURL != "":
			return a, notFor("token_url", AuthClientCredentials)
		case len(a.Scopes) > 0:
			return a, notFor("scopes", AuthClientCredentials)
		case a.ClientAuth != "":
			return a, notFor("client_auth", AuthClientCredentials)
		}
	}
	switch a.Type {
	case AuthAPIKey:
		if a.In == "" {
			a.In = "header"
		}
		if a.Name == "" {
			a.Name = map[string]string{"header": "X-Api-Key", "query": "api_key"}[a.In]
		}
	case AuthClientCredentials:
		if err := checkURLOrPath(a.TokenURL); err != nil {
			return a, sdk.Invalid(f+".token_url", "%s", err.Error())
		}
		if a.ClientAuth == "" {
			a.ClientAuth = "basic"
		}
	}
	return a, nil
}

// verbField names a verb's place in the definition.
func verbField(object, verb string) string { return "definition.objects." + object + "." + verb }

func compileObject(c *connector, name string, o Object) (*object, error) {
	base := "definition.objects." + name
	out := &object{name: name, timeFormat: o.Record.TimeFormat, schema: o.Schema}
	canon := o.Canonical
	if canon == "" {
		canon = name
	}
	for _, key := range sortedKeys(o.Fields) {
		if obj, _, _ := strings.Cut(key, "."); obj != canon {
			return nil, sdk.Invalid(base+".fields."+key, "maps a key of %q, but this object is %q: keys start with %q", obj, canon, canon+".")
		}
		out.mapped = append(out.mapped, o.Fields[key])
	}
	slices.Sort(out.mapped)
	out.mapped = slices.Compact(out.mapped)
	var err error
	paths := []struct {
		dst      **jpath
		src, def string
		field    string
	}{
		{&out.id, o.Record.ID, "$.id", base + ".record.id"},
		{&out.updatedAt, o.Record.UpdatedAt, "$.updated_at", base + ".record.updated_at"},
		{&out.fields, o.Record.Fields, "$", base + ".record.fields"},
	}
	for _, p := range paths {
		src := p.src
		if src == "" {
			src = p.def
		}
		if *p.dst, err = compilePath(p.field, src); err != nil {
			return nil, err
		}
	}
	if out.timeFormat == "" {
		out.timeFormat = "rfc3339"
	}
	if o.Record.URL != "" {
		if out.url, err = compileExpr(scopeRecord, base+".record.url", o.Record.URL); err != nil {
			return nil, err
		}
	}
	if out.errors, err = compileErrors(base+".errors", o.Errors, c.errors); err != nil {
		return nil, err
	}
	if err := compileLookup(out, base+".lookup", o); err != nil {
		return nil, err
	}
	if o.Search != nil {
		if out.search, err = compileRead(scopeSearch, verbField(name, "search"), *o.Search, true); err != nil {
			return nil, err
		}
	}
	if o.Create != nil {
		if out.create, err = compileCreate(name, *o.Create); err != nil {
			return nil, err
		}
	}
	if o.Update != nil {
		f := verbField(name, "update")
		r := o.Update.Request
		if r.Body == "" && r.Method != http.MethodDelete && r.Method != http.MethodGet {
			r.Body = "fields"
		}
		if out.update, err = compileRequest(scopeUpdate, f, r, http.MethodPatch); err != nil {
			return nil, err
		}
		if err := needsRef(f+".path", out.update, "id", true); err != nil {
			return nil, err
		}
	}
	if o.List != nil {
		if out.list, err = compileList(name, *o.List); err != nil {
			return nil, err
		}
	}
	for _, d := range []struct {
		dst  **deleter
		spec *Delete
		verb string
	}{{&out.delete, o.Delete, "delete"}, {&out.erase, o.Erase, "erase"}} {
		if d.spec == nil {
			continue
		}
		f := verbField(name, d.verb)
		r, err := compileRequest(scopeDelete, f, d.spec.Request, http.MethodDelete)
		if err != nil {
			return nil, err
		}
		if err := needsRef(f+".path", r, "id", true); err != nil {
			return nil, err
		}
		*d.dst = &deleter{req: r, hard: d.spec.Hard}
	}
	if out.erase != nil && !out.erase.hard {
		return nil, sdk.Invalid(verbField(name, "erase")+".hard", "must be true: an erase deletes for good (declare an archiving request as delete)")
	}
	out.info = objectInfo(name, o, out)
	if len(out.info.Verbs) == 0 {
		return nil, sdk.Invalid(base, "declares no request (lookup, search, create, update, list, delete or erase)")
	}
	return out, nil
}

func compileLookup(out *object, f string, o Object) error {
	l := o.Lookup
	if l == nil {
		return nil
	}
	var err error
	if l.Phone != nil {
		if out.byPhone, err = compileRead(scopeLookup, f+".phone", *l.Phone, true); err != nil {
			return err
		}
		if err := needsRef(f+".phone", out.byPhone.req, "phone", false); err != nil {
			if err = needsRef(f+".phone", out.byPhone.req, "phone_national", false); err != nil {
				return err
			}
		}
	}
	if l.Email != nil {
		if out.byEmail, err = compileRead(scopeLookup, f+".email", *l.Email, true); err != nil {
			return err
		}
		if err := needsRef(f+".email", out.byEmail.req, "email", false); err != nil {
			return err
		}
	}
	if l.ID != nil {
		r := *l.ID
		if r.Records == "" {
			r.Records = "$"
		}
		if out.byID, err = compileRead(scopeLookup, f+".id", r, false); err != nil {
			return err
		}
		if err := needsRef(f+".id", out.byID.req, "id", false); err != nil {
			return err
		}
	}
	out.phoneFields, out.emailFields = l.PhoneFields, l.EmailFields
	for _, key := range sortedKeys(o.Fields) {
		_, short, _ := strings.Cut(key, ".")
		switch {
		case len(l.PhoneFields) == 0 && (short == "phone" || strings.HasSuffix(short, "_phone")):
			out.phoneFields = append(out.phoneFields, o.Fields[key])
		case len(l.EmailFields) == 0 && (short == "email" || strings.HasSuffix(short, "_email")):
			out.emailFields = append(out.emailFields, o.Fields[key])
		}
	}
	if out.byPhone != nil && len(out.phoneFields) == 0 {
		return sdk.Invalid(f+".phone_fields", "is needed: no field is mapped from a canonical phone key, so the driver cannot tell which record field holds the phone it compares")
	}
	if out.byEmail != nil && len(out.emailFields) == 0 {
		return sdk.Invalid(f+".email_fields", "is needed: no field is mapped from a canonical email key, so the driver cannot tell which record field holds the email it compares")
	}
	return nil
}

// compileRead compiles a read; records is required unless the caller set
// a default.
func compileRead(sc scope, f string, r Read, needRecords bool) (*read, error) {
	out := &read{}
	var err error
	if out.req, err = compileRequest(sc, f, r.Request, http.MethodGet); err != nil {
		return nil, err
	}
	if r.Records == "" {
		if needRecords {
			return nil, sdk.Invalid(f+".records", "is required: the JSONPath to the records in the answer (e.g. $.data[*])")
		}
		r.Records = "$"
	}
	if out.records, err = compilePath(f+".records", r.Records); err != nil {
		return nil, err
	}
	if out.page, err = compilePager(f+".pagination", r.Pagination, out.req); err != nil {
		return nil, err
	}
	return out, nil
}

func compileCreate(name string, cr Create) (*creator, error) {
	f := verbField(name, "create")
	r := cr.Request
	if r.Body == "" {
		r.Body = "fields"
	}
	out := &creator{mode: cr.Idempotency.Mode}
	var err error
	if out.req, err = compileRequest(scopeCreate, f, r, http.MethodPost); err != nil {
		return nil, err
	}
	if cr.ID != "" {
		if out.id, err = compilePath(f+".id", cr.ID); err != nil {
			return nil, err
		}
	}
	if out.mode != IdemNone && !refers(out.req, "idempotency_key") {
		return nil, sdk.Invalid(f+".idempotency", "is %q but the create request never uses idempotency_key: send it (an Idempotency-Key header, an upsert path or an external-id field), or declare mode none", out.mode)
	}
	if out.mode == IdemFind {
		if out.find, err = compileRead(scopeFind, f+".idempotency.find", *cr.Idempotency.Find, true); err != nil {
			return nil, err
		}
		if err := needsRef(f+".idempotency.find", out.find.req, "idempotency_key", false); err != nil {
			return nil, err
		}
	} else if cr.Idempotency.Find != nil {
		return nil, sdk.Invalid(f+".idempotency.find", "applies only to mode find")
	}
	return out, nil
}

func compileList(name string, l List) (*lister, error) {
	f := verbField(name, "list")
	rd, err := compileRead(scopeList, f, l.Read, true)
	if err != nil {
		return nil, err
	}
	out := &lister{read: *rd, unordered: l.Order == OrderUnordered}
	if d := l.Deleted; d != nil {
		df := f + ".deleted"
		dr, err := compileRead(scopeDeleted, df, d.Read, true)
		if err != nil {
			return nil, err
		}
		out.deleted = &deletedFeed{read: *dr, timeFormat: d.TimeFormat}
		id := d.ID
		if id == "" {
			id = "$.id"
		}
		if out.deleted.id, err = compilePath(df+".id", id); err != nil {
			return nil, err
		}
		if out.deleted.at, err = compilePath(df+".deleted_at", d.DeletedAt); err != nil {
			return nil, err
		}
		if out.deleted.timeFormat == "" {
			out.deleted.timeFormat = "rfc3339"
		}
	}
	return out, nil
}

// refers reports whether any template of r uses the variable name.
func refers(r *request, name string) bool {
	for _, p := range r.path {
		if p.e != nil && p.e.refs[name] {
			return true
		}
	}
	for _, n := range append(slices.Clone(r.query), r.headers...) {
		if n.e.refs[name] {
			return true
		}
	}
	return r.body != nil && r.body.refs[name]
}

// needsRef fails unless r uses name (in its path only, when pathOnly).
func needsRef(f string, r *request, name string, pathOnly bool) error {
	if pathOnly {
		for _, p := range r.path {
			if p.e != nil && p.e.refs[name] {
				return nil
			}
		}
		return sdk.Invalid(f, "never uses %s: every call would reach the same record", name)
	}
	if !refers(r, name) {
		return sdk.Invalid(f, "never uses %s, so every call would send the same request", name)
	}
	return nil
}

// verbNames are the definition's words for the sdk's record verbs.
var verbNames = map[string]string{
	sdk.VerbLookupCustomer: "lookup", sdk.VerbSearchRecords: "search", sdk.VerbCreateRecord: "create",
	sdk.VerbUpdateRecord: "update", sdk.VerbListRecent: "list", sdk.VerbDeleteRecord: "delete", sdk.VerbEraseRecord: "erase",
}

// objectInfo is what ListObjects says of o: the verbs its definition
// declares, and for every other verb why it is unsupported.
func objectInfo(name string, o Object, c *object) sdk.ObjectInfo {
	has := map[string]bool{
		sdk.VerbLookupCustomer: c.byPhone != nil || c.byEmail != nil || c.byID != nil,
		sdk.VerbSearchRecords:  c.search != nil, sdk.VerbCreateRecord: c.create != nil, sdk.VerbUpdateRecord: c.update != nil,
		sdk.VerbListRecent: c.list != nil, sdk.VerbDeleteRecord: c.delete != nil, sdk.VerbEraseRecord: c.erase != nil,
	}
	info := sdk.ObjectInfo{Name: name, Canonical: o.Canonical, Label: o.Label, DefaultFields: maps.Clone(o.Fields),
		Custom: true, Unsupported: map[string]string{}}
	if info.Label == "" {
		info.Label = name
	}
	for _, v := range sdk.ObjectVerbs {
		if has[v] {
			info.Verbs = append(info.Verbs, v)
			continue
		}
		info.Unsupported[v] = "the connector definition declares no " + verbNames[v] + " request for " + name
	}
	if len(info.Unsupported) == 0 {
		info.Unsupported = nil
	}
	return info
}
