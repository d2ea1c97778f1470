package mindbody

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// DefaultBaseURL is Mindbody's Public API v6; conn.Config["base_url"]
// overrides it (a fake in development). There is no separate sandbox
// host: the sandbox is site -99.
const DefaultBaseURL = "https://api.mindbodyonline.com/public/v6"

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/mindbody/mindbody.Version=…".
var Version = "0.1.0"

// Driver is the Mindbody driver. It holds no tenant state beyond a
// per-process cache of each site's client directory (ids, modification
// times, hashed phone numbers; see directory.go); the zero value is not
// usable, call New.
type Driver struct {
	http *provider.Client
	dir  *directory
	now  func() time.Time
}

// Options tune a Driver; the zero value is what New uses.
type Options struct {
	// Now is the driver's clock (token expiry, search windows); default
	// time.Now.
	Now func() time.Time
	// MaxDirectoryEntries bounds the clients the per-site directories of
	// this process hold together (default 500,000).
	MaxDirectoryEntries int
}

// New returns a Mindbody driver with its own provider client
// (sdk/provider: egress guard, same-origin redirects, size cap, typed
// transport errors, redaction). Deadlines come from each call's context.
func New() *Driver { return NewWith(Options{}) }

// NewWith returns a Mindbody driver tuned by o.
func NewWith(o Options) *Driver {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxDirectoryEntries <= 0 {
		o.MaxDirectoryEntries = defaultDirectoryEntries
	}
	d := &Driver{dir: newDirectory(o.MaxDirectoryEntries), now: o.Now}
	d.http = provider.New(provider.Options{
		Name:      "Mindbody",
		UserAgent: "crmhost-mindbody/" + Version,
		Classify:  func(r *provider.Response) *sdk.Error { return classify(r.Status, r.Header, r.Body, d.now()) },
		Now:       o.Now,
	})
	return d
}

// request is one Mindbody API call.
type request struct {
	method string
	path   string // below the base URL: "/client/clients"
	query  url.Values
	in     any  // JSON body, nil for none
	noAuth bool // send no staff token (usertoken/issue, site/sites)
}

// call runs req for session s (the Api-Key and SiteId headers, and the
// staff token unless req.noAuth) and decodes a 2xx JSON answer into out
// (nil discards it). Other answers are classified by classify, transport
// failures by the provider toolkit; every message has the connection's
// secrets and the session's token redacted.
func (s *session) call(ctx context.Context, req request, out any) error {
	h := http.Header{"Api-Key": {s.apiKey}}
	if req.path != "/site/sites" {
		h.Set("SiteId", s.site)
	}
	if !req.noAuth && s.token != "" {
		h.Set("Authorization", s.token)
	}
	return s.d.http.Call(ctx, provider.Request{
		Method:  req.method,
		BaseURL: s.base,
		Path:    req.path,
		Query:   req.query,
		Header:  h,
		JSON:    req.in,
		Secrets: provider.SecretsOf(s.conn, s.token),
	}, out)
}
