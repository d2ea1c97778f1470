package genericrest

import (
	"context"
	"net"
	"slices"
	"sync"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/genericrest/genericrest.Version=…".
var Version = "0.1.0"

// Options configure a Driver; the zero value is what New uses.
type Options struct {
	// Now is the clock tokens expire by (default time.Now).
	Now func() time.Time
	// Resolver looks up API host names (default net.DefaultResolver);
	// tests point it at a fake DNS. The egress guard checks whatever
	// address it answers.
	Resolver *net.Resolver
}

// Driver is the generic REST driver: it serves any REST API a tenant's
// connector definition describes. It holds no tenant state, only caches
// keyed by content: compiled definitions (by their SHA-256), OpenAPI
// documents (briefly) and one provider client per API name.
type Driver struct {
	now      func() time.Time
	resolver *net.Resolver
	defs     cache
	docs     docCache

	mu      sync.Mutex
	clients map[string]*provider.Client
}

// New returns a generic REST driver.
func New() *Driver { return NewWithOptions(Options{}) }

// NewWithOptions returns a generic REST driver with o's settings.
func NewWithOptions(o Options) *Driver {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Driver{now: o.Now, resolver: o.Resolver, clients: map[string]*provider.Client{}}
}

// maxClients bounds the provider clients kept per API name; past it,
// APIs share one named "the API".
const maxClients = 64

// client returns the provider client for an API, named as its definition
// names it in error messages.
func (d *Driver) client(name string) *provider.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.clients[name]; c != nil {
		return c
	}
	if len(d.clients) >= maxClients {
		name = "the API"
		if c := d.clients[name]; c != nil {
			return c
		}
	}
	c := provider.New(provider.Options{Name: name, UserAgent: "crmhost-genericrest/" + Version, Resolver: d.resolver})
	d.clients[name] = c
	return c
}

// Describe reports the driver: form credentials (which ones a connection
// needs depends on its definition's auth), no static objects (each
// connection's come from its definition: see ListObjects), no webhooks.
// It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{
		Slug:             "genericrest",
		DisplayName:      "Generic REST API",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth:             sdk.Auth{Kind: sdk.AuthForm},
		CredentialFields: []sdk.CredentialField{
			{Name: ConfigDefinition, Label: "Connector definition", Type: "text", Required: true,
				Help: "The YAML or JSON document describing the API (see the generic REST driver's README and JSON Schema)."},
			{Name: SecretAPIKey, Label: "API key", Type: "string", Secret: true,
				Help: "For auth type api_key."},
			{Name: SecretToken, Label: "Bearer token", Type: "string", Secret: true,
				Help: "For auth type bearer."},
			{Name: ConfigUsername, Label: "Username", Type: "string",
				Help: "For auth type basic."},
			{Name: SecretPassword, Label: "Password", Type: "string", Secret: true,
				Help: "For auth type basic."},
			{Name: ConfigClientID, Label: "OAuth client ID", Type: "string",
				Help: "For auth type oauth2_client_credentials: the client the API issued to this tenant."},
			{Name: SecretClientSecret, Label: "OAuth client secret", Type: "string", Secret: true,
				Help: "For auth type oauth2_client_credentials."},
			{Name: sdk.ConfigBaseURL, Label: "API base URL", Type: "url", Advanced: true,
				Help: "Overrides the definition's base_url (a sandbox, or a fake API in development)."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US",
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
		},
	}, nil
}

// ListObjects answers the objects the connection's definition declares,
// each with its canonical name, default field mappings and the verbs the
// definition declares requests for. It validates the definition (compiled
// once per process per definition) and checks nothing at the API.
// Errors: CodeInvalid naming the definition's failing part.
func (d *Driver) ListObjects(_ context.Context, conn sdk.Connection) ([]sdk.ObjectInfo, error) {
	s, err := d.open(conn)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.c.infos), nil
}

// TestConnection validates the definition and sends its test request: a
// 2xx answer is OK (with the account id where the definition says), an
// auth_error is OK false with the API's reason. Errors: CodeInvalid
// naming the definition's failing part or config.base_url (also for an
// address the egress guard refuses), CodeRateLimited, CodeUnavailable.
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	s, err := d.open(conn)
	if err != nil {
		return sdk.TestResult{}, err
	}
	a, err := s.send(ctx, nil, s.c.test, s.vars(nil))
	if sdk.CodeOf(err) == sdk.CodeAuth {
		return sdk.TestResult{OK: false, Reason: sdk.AsError(err).Message}, nil
	}
	if err != nil {
		return sdk.TestResult{}, err
	}
	out := sdk.TestResult{OK: true}
	if s.c.account != nil {
		if v, ok := s.c.account.first(a.body); ok {
			if id, ok, _ := scalarString("", celValue(v)); ok && len(id) <= 256 {
				out.AccountID = id
			}
		}
	}
	return out, nil
}

// Refresh obtains a new client-credentials token (the host calls it
// before the kept token expires and once after an auth_error). Other auth
// types have nothing to refresh: CodeUnsupported. Errors besides:
// CodeAuth for a refused client, CodeInvalid, CodeUnavailable.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	s, err := d.open(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	if s.c.auth.Type != AuthClientCredentials {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeUnsupported, "the definition's %s auth does not expire: there is nothing to refresh", s.c.auth.Type)
	}
	return s.obtainToken(ctx)
}

var (
	_ sdk.Driver          = (*Driver)(nil)
	_ sdk.ObjectLister    = (*Driver)(nil)
	_ sdk.ObjectDescriber = (*Driver)(nil)
	_ sdk.Refresher       = (*Driver)(nil)
	_ sdk.Deleter         = (*Driver)(nil)
	_ sdk.Eraser          = (*Driver)(nil)
)
