package salesforce

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"crmhost.dev/sdk/provider"
)

// This file is the driver's only HTTP plumbing, on the sdk's provider
// toolkit (egress guard, same-origin redirects, size cap, typed transport
// errors, redaction). Everything Salesforce-specific (paths, bodies, error
// arrays) lives elsewhere.

// request is one HTTP request to Salesforce.
type request struct {
	method  string
	base    string // origin the path is joined to
	path    string // escaped path, e.g. "/services/data/v66.0/sobjects/Contact"
	query   url.Values
	header  http.Header
	json    any        // JSON body, nil for none
	form    url.Values // form body, nil for none
	secrets []string   // redacted from every error message
}

func newHTTPClient(now func() time.Time) *provider.Client {
	return provider.New(provider.Options{
		Name:      "Salesforce",
		UserAgent: "crmhost-salesforce/" + Version,
		Classify:  classify,
		Now:       now,
	})
}

func (r request) provider() provider.Request {
	return provider.Request{Method: r.method, BaseURL: r.base, Path: r.path, Query: r.query, Header: r.header,
		JSON: r.json, Form: r.form, Secrets: r.secrets}
}

// send runs req and returns the answer whatever its status. Errors are the
// toolkit's: transport failures (CodeUnavailable, wrapping ctx.Err() when
// the call's context ended), refused addresses and paths (CodeInvalid).
func (d *Driver) send(ctx context.Context, req request) (*provider.Response, error) {
	return d.http.Do(ctx, req.provider())
}

// do sends req expecting JSON and decodes a 2xx answer into out; any other
// answer is classified (see classify).
func (d *Driver) do(ctx context.Context, req request, out any) error {
	return d.http.Call(ctx, req.provider(), out)
}
