package salesforce

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// api is one REST call on the connection's instance: path is below
// /services/data/vXX.X (e.g. "/sobjects/Contact").
type api struct {
	method string
	path   string
	query  url.Values
	header http.Header
	in     any
	out    any // decoded from a 2xx body; nil to discard
}

// rest runs a REST call with the connection's session. Every failure is an
// *sdk.Error (see classify), with the connection's secrets redacted.
func (d *Driver) rest(ctx context.Context, conn sdk.Connection, c api) error {
	token := conn.Secret["access_token"]
	if token == "" {
		return sdk.Errorf(sdk.CodeAuth, "the connection has no access_token: connect it with OAuth (the host refreshes it)")
	}
	base, err := instanceURL(conn)
	if err != nil {
		return err
	}
	ver, err := apiVersion(conn)
	if err != nil {
		return err
	}
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Authorization", "Bearer "+token)
	path := c.path
	if !strings.HasPrefix(path, "/services/") {
		path = "/services/data/v" + ver + path
	}
	return d.do(ctx, request{method: c.method, base: base, path: path, query: c.query, header: h, json: c.in,
		secrets: provider.SecretsOf(conn)}, c.out)
}
