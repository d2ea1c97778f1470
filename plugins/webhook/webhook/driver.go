package webhook

import (
	"context"
	"net"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/webhook/webhook.Version=…".
var Version = "0.1.0"

// Slug is the driver's slug.
const Slug = "webhook"

// Config keys the driver reads besides the sdk's base_url (the endpoint
// URL) and default_region.
const (
	// configReadMethod is POST (default) or GET: the method of the read
	// verbs (describe, lookup, search, list).
	configReadMethod = "read_method"
)

// Defaults of Options.
const (
	DefaultAttempts = 3
	DefaultBackoff  = 100 * time.Millisecond
)

// Options tune a Driver. The zero value takes the defaults.
type Options struct {
	// Attempts bounds the attempts of a retried call (reads, updates,
	// deletes, erases): DefaultAttempts. Creates are attempted once.
	Attempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one (with up to 25% jitter); DefaultBackoff. A retry never
	// starts when the call's deadline would pass before it answers.
	Backoff time.Duration
	// Now is the clock of the webhook-timestamp header and the envelope's
	// timestamp (time.Now).
	Now func() time.Time
	// Resolver looks endpoint host names up (net.DefaultResolver); tests
	// point it at a fake DNS. The egress guard checks whatever it answers.
	Resolver *net.Resolver
}

// Driver is the custom-webhook driver. It holds no tenant state; make one
// with New or NewWith.
type Driver struct {
	http *provider.Client
	o    Options
}

// New returns a driver with the default Options.
func New() *Driver { return NewWith(Options{}) }

// NewWith returns a driver tuned by o. Its one provider.Client follows no
// redirect at all (Standard Webhooks counts a 3xx as a failure).
func NewWith(o Options) *Driver {
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Driver{o: o, http: provider.New(provider.Options{
		Name:        "the endpoint",
		UserAgent:   "crmhost-webhook/" + Version,
		NoRedirects: true,
		Resolver:    o.Resolver,
		Now:         o.Now,
	})}
}

// Describe reports the driver: form auth (an endpoint URL and a whsec_
// secret, tenant-scoped), no objects of its own (each connection's
// endpoint declares its objects: see ListObjects), no app credentials, no
// inbound webhooks, no fixed rate limit (the endpoint's 429 and
// Retry-After are honoured). It never fails.
func (d *Driver) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{
		Slug:             Slug,
		DisplayName:      "Custom webhook",
		DriverVersion:    Version,
		ProtocolVersions: []int{sdk.ProtocolVersion},
		Auth:             sdk.Auth{Kind: sdk.AuthForm},
		CredentialFields: []sdk.CredentialField{
			{Name: sdk.ConfigBaseURL, Label: "Endpoint URL", Type: "url", Required: true,
				Help: "The https URL of the endpoint your team runs for crmhost (see the driver's README for the contract). It must be a public address; redirects are not followed."},
			{Name: secretSigning, Label: "Signing secret", Type: "string", Secret: true, Required: true,
				Help: "whsec_ followed by the base64 of 24 to 64 random bytes (openssl rand -base64 32): this tenant's own. The endpoint verifies every request with it (Standard Webhooks)."},
			{Name: secretPrevious, Label: "Previous signing secret", Type: "string", Secret: true,
				Help: "During a rotation only: the secret being replaced. Requests then carry both signatures until you clear this field."},
			{Name: configReadMethod, Label: "Method for reads", Type: "select", Options: []string{"POST", "GET"}, Default: "POST", Advanced: true,
				Help: "GET sends describe, lookup, search and list as GET requests with the signed envelope in the envelope query parameter."},
			{Name: sdk.ConfigDefaultRegion, Label: "Default phone region", Type: "string", Default: "US", Advanced: true,
				Help: "ISO 3166 country used to read phone numbers written without a country code."},
		},
	}, nil
}

var (
	_ sdk.Driver          = (*Driver)(nil)
	_ sdk.ObjectLister    = (*Driver)(nil)
	_ sdk.ObjectDescriber = (*Driver)(nil)
	_ sdk.Deleter         = (*Driver)(nil)
	_ sdk.Eraser          = (*Driver)(nil)
)
