package zoho

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/zoho/zoho.Version=…".
var Version = "0.1.0"

// Driver is the Zoho CRM driver. It holds no tenant state (a per-process
// note of recent notification-channel renewals aside); call New.
type Driver struct {
	http  *provider.Client
	now   func() time.Time
	watch renewals
}

// New returns a Zoho driver with its own provider client (sdk/provider:
// egress guard, same-origin redirects, size cap, typed transport errors,
// redaction). Deadlines come from each call's context.
func New() *Driver {
	return &Driver{
		http: provider.New(provider.Options{Name: "Zoho", UserAgent: "crmhost-zoho/" + Version}),
		now:  time.Now,
	}
}

// request is one HTTP request to Zoho: the accounts server or the CRM API.
type request struct {
	method  string
	base    string // the accounts server or API origin the path is joined to
	path    string // escaped path, e.g. "/crm/v8/Leads/123"
	query   url.Values
	header  http.Header
	json    any        // JSON body
	form    url.Values // form body
	secrets []string   // redacted from every error message
	// outcomes: the answer's data[] carries each record's outcome, also
	// when Zoho answers 400 because all failed (api decodes it then).
	outcomes bool
}

// response is Zoho's answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send runs req through the provider toolkit and returns Zoho's answer
// whatever its status. Errors are the toolkit's: CodeInvalid naming
// config.base_url for an address the egress guard refuses or a malformed
// base, CodeUnavailable for transport failures (wrapping ctx.Err() when
// the call's context ended) and redirects that are not followed. Messages
// name neither address nor port and hold none of req.secrets.
func (d *Driver) send(ctx context.Context, req request) (*response, error) {
	header := req.header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Accept") == "" {
		header.Set("Accept", "application/json")
	}
	resp, err := d.http.Do(ctx, provider.Request{Method: req.method, BaseURL: req.base, Path: req.path, Query: req.query,
		Header: header, JSON: req.json, Form: req.form, Secrets: req.secrets})
	if err != nil {
		return nil, err
	}
	return &response{status: resp.Status, header: resp.Header, body: resp.Body}, nil
}

// redact replaces every secret in msg with "[redacted]".
func redact(msg string, secrets []string) string { return provider.Redact(msg, secrets) }

// secretsOf lists the values to keep out of error messages for a call on
// conn: its secret, its app credentials and extra.
func secretsOf(conn sdk.Connection, extra ...string) []string {
	out := provider.SecretsOf(conn, extra...)
	for _, v := range conn.App {
		out = append(out, v)
	}
	return out
}
