package odoo

import (
	"context"
	"maps"

	"crmhost.dev/sdk"
)

// TestConnection proves the server, database, username and API key work:
// the server's version (JSON-RPC's common.version, or GET /web/version),
// then for JSON-RPC authenticate (unless the uid is known) and, over
// either protocol, res.users.context_get as the user. A rejected username
// or key is OK false with a reason saying what to fix; the account id is
// the server's host and the database ("mycompany.odoo.com/mycompany").
// Errors: CodeInvalid naming database (it does not exist),
// config.base_url (no Odoo there) or a malformed setting;
// CodeRateLimited, CodeUnavailable.
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	err := d.probe(ctx, conn, false)
	if err == nil {
		return sdk.TestResult{OK: true, AccountID: accountID(conn)}, nil
	}
	if e := sdk.AsError(err); e.Code == sdk.CodeAuth {
		return sdk.TestResult{Reason: e.Message}, nil
	}
	return sdk.TestResult{}, err
}

// probe opens a session and runs the cheapest authenticated call.
func (d *Driver) probe(ctx context.Context, conn sdk.Connection, fresh bool) error {
	s, err := d.open(ctx, conn, fresh)
	if err != nil {
		return err
	}
	var uctx map[string]any
	return s.call(ctx, "res.users", "context_get", nil, nil, &uctx)
}

// Authorize checks form credentials (Odoo has no OAuth for integrations:
// a grant with a code is CodeInvalid) with the same calls as
// TestConnection, learning the server's version and (JSON-RPC) the uid
// afresh, and answers the API key to store, those facts as config and the
// account id. Errors: CodeAuth for a rejected username or key,
// CodeInvalid naming grant, database, username or config.base_url,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if grant.Code != "" {
		return sdk.Authorization{}, sdk.Invalid("grant", "Odoo connects with a username and API key, not OAuth: enter them in the connect form")
	}
	ctx, learned := sdk.CaptureCredentialUpdate(ctx)
	if err := d.probe(ctx, conn, true); err != nil {
		return sdk.Authorization{}, err
	}
	out := sdk.Authorization{Secret: map[string]string{secretAPIKey: conn.Secret[secretAPIKey]}, AccountID: accountID(conn)}
	if u := learned(); u != nil {
		out.Config = maps.Clone(u.Config)
	}
	return out, nil
}

var _ sdk.Authorizer = (*Driver)(nil)
