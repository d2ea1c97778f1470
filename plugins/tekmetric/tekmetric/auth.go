package tekmetric

import (
	"context"
	"errors"
	"net/http"

	"crmhost.dev/sdk"
)

// probe reads the connection's shop (GET /api/v1/shops/{shop}): the
// cheapest call that proves the token reaches it.
func (s *session) probe(ctx context.Context) error {
	return s.do(ctx, call{method: http.MethodGet, path: []string{"shops", s.shop}})
}

// TestConnection proves the connection with one read of its shop,
// obtaining a token first when the connection holds none (sent back as a
// credential update). The account id is the shop id. Refused client
// credentials, a rejected token and a shop that has not authorized the
// platform are OK false with the reason; errors are for failures to find
// out (CodeInvalid for a malformed connection or unset app credentials,
// CodeRateLimited, CodeUnavailable).
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	s, err := d.open(ctx, conn)
	if err == nil {
		err = s.probe(ctx)
	}
	var e *sdk.Error
	switch {
	case err == nil:
		return sdk.TestResult{OK: true, AccountID: s.shop}, nil
	case errors.As(err, &e) && (e.Code == sdk.CodeAuth || e.Field == "config."+configShopID):
		return sdk.TestResult{Reason: e.Message}, nil
	}
	return sdk.TestResult{}, err
}

// Authorize turns the connect form into the secret to store. Tekmetric has
// no authorization code (a grant with one is CodeInvalid naming code): a
// token already in the secret is proven with a read of the shop and kept;
// otherwise, or when Tekmetric rejects it, a token is obtained with the
// platform's client credentials. The account id is the shop id.
//
// Errors: CodeAuth when Tekmetric refuses the client credentials or denies
// the shop; CodeInvalid naming config.shop_id (malformed, or a shop that
// has not authorized the platform's app), config.api_host, app.client_id or
// app.client_secret; CodeRateLimited, CodeUnavailable.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if grant.Code != "" {
		return sdk.Authorization{}, sdk.Invalid("code", "Tekmetric has no authorization-code step: connect with the shop id, and the driver obtains a token with the platform's partner client credentials")
	}
	s, err := d.prepare(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	if s.token = conn.Secret[secretToken]; s.token != "" {
		err := s.probe(ctx)
		if err == nil {
			return s.authorization(), nil
		}
		if e := sdk.AsError(err); e.Code != sdk.CodeAuth || errors.Is(e, errForbidden) {
			return sdk.Authorization{}, err
		}
		// Rejected (revoked, another app's): obtain a new token.
	}
	if s.token, err = s.issue(ctx); err != nil {
		return sdk.Authorization{}, err
	}
	if err := s.probe(ctx); err != nil {
		return sdk.Authorization{}, err
	}
	return s.authorization(), nil
}

// Refresh obtains a new token with the platform's client credentials: the
// host calls it after an auth_error (Tekmetric's tokens do not expire; they
// are revoked). It answers only the new access_token, which the host merges
// into the stored secret, and the shop as the account id. Errors: issue's
// (CodeAuth for refused client credentials, CodeInvalid naming
// config.shop_id, app.client_id or app.client_secret, CodeRateLimited,
// CodeUnavailable).
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	s, err := d.prepare(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	if s.token, err = s.issue(ctx); err != nil {
		return sdk.Authorization{}, err
	}
	return s.authorization(), nil
}

// authorization is the session's token to store, without expiry.
func (s *session) authorization() sdk.Authorization {
	return sdk.Authorization{Secret: map[string]string{secretToken: s.token}, AccountID: s.shop}
}

var (
	_ sdk.Authorizer = (*Driver)(nil)
	_ sdk.Refresher  = (*Driver)(nil)
)
