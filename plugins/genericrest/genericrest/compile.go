package genericrest

import (
	"crypto/sha256"
	"net/http"
	"net/url"
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
