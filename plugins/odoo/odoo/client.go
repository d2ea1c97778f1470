package odoo

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/odoo/odoo.Version=…".
var Version = "0.1.0"

// Driver is the Odoo driver. It holds no tenant state besides a short
// cache of model schemas (fields_get answers); the zero value is not
// usable, call New.
type Driver struct {
	http    *provider.Client
	schemas *schemaCache
	rpcID   atomic.Int64
}

// Options configure a Driver; the zero value is what New uses.
type Options struct {
	// SchemaTTL is how long a model's fields_get answer is trusted
	// (default 5 minutes).
	SchemaTTL time.Duration
	// Now is the clock of the schema cache (default time.Now).
	Now func() time.Time
}

// New returns an Odoo driver. Every request leaves through the sdk's
// provider toolkit (egress guard, same-origin redirects, size cap, typed
// and redacted transport errors); deadlines come from each call's
// context.
func New() *Driver { return NewWithOptions(Options{}) }

// NewWithOptions returns an Odoo driver with o's settings.
func NewWithOptions(o Options) *Driver {
	if o.SchemaTTL <= 0 {
		o.SchemaTTL = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Driver{
		http:    provider.New(provider.Options{Name: "Odoo", UserAgent: "crmhost-odoo/" + Version, Classify: classifyHTTP}),
		schemas: &schemaCache{ttl: o.SchemaTTL, now: o.Now, entries: map[[32]byte]cachedSchema{}},
	}
}

// post sends a JSON body to path below the connection's base URL and
// returns the answer whatever its status (each protocol reads its own
// error shapes). Errors are the toolkit's: CodeInvalid naming
// config.base_url for a refused address, CodeUnavailable for a provider
// that cannot be reached or a call whose context ended.
func (d *Driver) post(ctx context.Context, conn sdk.Connection, path string, header http.Header, body any) (*provider.Response, error) {
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Accept", "application/json")
	return d.http.Do(ctx, provider.Request{Method: http.MethodPost, BaseURL: conn.Config[sdk.ConfigBaseURL], Path: path,
		Header: h, JSON: body, Secrets: provider.SecretsOf(conn)})
}

// get is post for a GET without a body.
func (d *Driver) get(ctx context.Context, conn sdk.Connection, path string) (*provider.Response, error) {
	return d.http.Do(ctx, provider.Request{Method: http.MethodGet, BaseURL: conn.Config[sdk.ConfigBaseURL], Path: path,
		Header: http.Header{"Accept": {"application/json"}}, Secrets: provider.SecretsOf(conn)})
}
