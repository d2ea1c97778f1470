package sdk

// Auth kinds a driver can declare in its Description.
const (
	AuthOAuth2Code        = "oauth2_code"
	AuthClientCredentials = "client_credentials"
	AuthForm              = "form"
)

// Description is a driver's Describe answer: everything the host knows of a
// provider comes from here.
type Description struct {
	Slug             string            `json:"slug"`
	DisplayName      string            `json:"display_name"`
	DriverVersion    string            `json:"driver_version"`
	ProtocolVersions []int             `json:"protocol_versions"`
	Auth             Auth              `json:"auth"`
	CredentialFields []CredentialField `json:"credential_fields"`
	Objects          []ObjectInfo      `json:"objects"`
	// Capabilities are derived by Serve from the interfaces the driver
	// implements; whatever the driver puts here is overwritten.
	Capabilities Capabilities `json:"capabilities"`
	Webhook      Webhook      `json:"webhook"`
	RateLimits   []RateLimit  `json:"rate_limits,omitempty"`
	// AppCredentialFields are the platform's app credentials the driver
	// needs (OAuth client id and secret, partner keys, webhook signing
	// secrets): stored once per driver by an operator, sent with every
	// call in Connection.App, never part of a tenant's connection.
	AppCredentialFields []CredentialField `json:"app_credential_fields,omitempty"`
}

// Auth says how a connection gets its secret. URLs may be templates over
// the connection's config, e.g. "https://accounts.zoho.{{.dc}}/oauth/v2/auth",
// rendered with RenderURL.
//
// For oauth2_code the host runs the authorization-code flow: it sends the
// operator's browser to AuthorizeURL with the app credential "client_id"
// (AppClientID), the scopes, a single-use state, AuthorizeParams and, when
// PKCE is set, an S256 code challenge; the provider's callback code goes
// to the driver's Authorize with the redirect URI and the PKCE verifier.
type Auth struct {
	Kind            string            `json:"kind"`
	AuthorizeURL    string            `json:"authorize_url,omitempty"`
	TokenURL        string            `json:"token_url,omitempty"`
	Scopes          []string          `json:"scopes,omitempty"`
	PKCE            bool              `json:"pkce,omitempty"`
	AuthorizeParams map[string]string `json:"authorize_params,omitempty"`
}

// App credential names the host itself uses: the OAuth client id it puts
// in authorize URLs. Drivers declare it (and AppClientSecret, which only
// the driver uses) in AppCredentialFields.
const (
	AppClientID     = "client_id"
	AppClientSecret = "client_secret"
)

// CredentialField is one field of the connect form. Secret fields are
// stored encrypted; the others become the connection's config.
type CredentialField struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Secret   bool     `json:"secret"`
	Options  []string `json:"options,omitempty"`
	Default  string   `json:"default,omitempty"`
	Help     string   `json:"help,omitempty"`
	// Advanced fields (base URL overrides, regions) are folded away in
	// connect forms; the sdk declares base_url and default_region for every
	// driver that does not.
	Advanced bool `json:"advanced,omitempty"`
}

// ObjectInfo is one object the driver serves, with its default mapping
// from canonical keys ("customer.phone") to provider fields ("phone"), and
// the record verbs it supports (ObjectVerbs). Unsupported says, by verb,
// why the provider cannot do it; the sdk answers a call of such a verb
// with that message (CodeUnsupported, or CodeDeleteUnsupported for delete
// and erase) without reaching the driver.
type ObjectInfo struct {
	Name          string            `json:"name"`
	Canonical     string            `json:"canonical,omitempty"`
	Label         string            `json:"label,omitempty"`
	DefaultFields map[string]string `json:"default_fields,omitempty"`
	// Verbs lists the supported record verbs; empty means the sdk's
	// default (see Serve): every verb the driver implements, lookup only
	// for customer and lead objects.
	Verbs       []string          `json:"verbs,omitempty"`
	Unsupported map[string]string `json:"unsupported,omitempty"`
	// Custom marks a tenant-defined object (a custom object, module or
	// model) rather than a standard one.
	Custom bool `json:"custom,omitempty"`
}

// Supports reports whether the object supports verb (after the sdk has
// filled in Verbs: see Serve).
func (o ObjectInfo) Supports(verb string) bool {
	for _, v := range o.Verbs {
		if v == verb {
			return true
		}
	}
	return false
}

// Capabilities lists the optional verbs a driver implements.
type Capabilities struct {
	Delete         bool `json:"delete"`
	Erase          bool `json:"erase"`
	DescribeObject bool `json:"describe_object"`
	Authorize      bool `json:"authorize"`
	Refresh        bool `json:"refresh"`
	VerifyWebhook  bool `json:"verify_webhook"`
	ListObjects    bool `json:"list_objects"`
	RouteWebhook   bool `json:"route_webhook"`
}

// Webhook describes the provider's inbound webhooks; Scheme is empty when
// it sends none.
type Webhook struct {
	Scheme string   `json:"scheme,omitempty"`
	Events []string `json:"events,omitempty"`
}

// RateLimit is a provider limit the host should respect before hitting it:
// at most Limit calls per WindowMS per connection, counting only the verbs
// listed in Verbs (snake_case, as in VerbSearchRecords), or every verb
// when Verbs is empty.
type RateLimit struct {
	Name     string   `json:"name"`
	Limit    int64    `json:"limit"`
	WindowMS int64    `json:"window_ms"`
	Verbs    []string `json:"verbs,omitempty"`
}

// Covers reports whether the limit counts calls of verb.
func (l RateLimit) Covers(verb string) bool {
	if len(l.Verbs) == 0 {
		return true
	}
	for _, v := range l.Verbs {
		if v == verb {
			return true
		}
	}
	return false
}

// Verb names, as RateLimit.Verbs and the host's metrics spell them.
const (
	VerbTestConnection = "test_connection"
	VerbLookupCustomer = "lookup_customer"
	VerbSearchRecords  = "search_records"
	VerbCreateRecord   = "create_record"
	VerbUpdateRecord   = "update_record"
	VerbListRecent     = "list_recent"
	VerbDeleteRecord   = "delete_record"
	VerbEraseRecord    = "erase_record"
	VerbDescribeObject = "describe_object"
	VerbListObjects    = "list_objects"
	VerbAuthorize      = "authorize"
	VerbRefresh        = "refresh"
	VerbRouteWebhook   = "route_webhook"
	VerbVerifyWebhook  = "verify_webhook"
)

// ObjectVerbs are the record verbs an ObjectInfo can list, in the order
// they are reported.
var ObjectVerbs = []string{VerbLookupCustomer, VerbSearchRecords, VerbCreateRecord, VerbUpdateRecord,
	VerbListRecent, VerbDeleteRecord, VerbEraseRecord}

// ObjectSchema is DescribeObject's answer: the object's live fields.
type ObjectSchema struct {
	Object string  `json:"object"`
	Fields []Field `json:"fields"`
}

// Field is one live field of a provider object.
type Field struct {
	Name     string   `json:"name"`
	Label    string   `json:"label,omitempty"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	ReadOnly bool     `json:"read_only,omitempty"`
	Unique   bool     `json:"unique,omitempty"`
	Options  []string `json:"options,omitempty"`
}

// CapabilitiesOf derives a driver's capabilities from the optional
// interfaces it implements.
func CapabilitiesOf(d Driver) Capabilities {
	_, del := d.(Deleter)
	_, erase := d.(Eraser)
	_, desc := d.(ObjectDescriber)
	_, auth := d.(Authorizer)
	_, ref := d.(Refresher)
	_, hook := d.(WebhookVerifier)
	_, list := d.(ObjectLister)
	_, route := d.(WebhookRouter)
	return Capabilities{Delete: del, Erase: erase, DescribeObject: desc, Authorize: auth, Refresh: ref,
		VerifyWebhook: hook, ListObjects: list, RouteWebhook: route}
}

// Object returns the ObjectInfo named name (provider name), if any.
func (d Description) Object(name string) (ObjectInfo, bool) {
	for _, o := range d.Objects {
		if o.Name == name {
			return o, true
		}
	}
	return ObjectInfo{}, false
}
