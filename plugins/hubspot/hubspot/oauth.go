package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"golang.org/x/oauth2"
)

// TestConnection reads one contact (GET /crm/v3/objects/contacts?limit=1)
// and, when the connection's portal is not yet known, learns it from the
// token's info (best effort). A rejected or under-scoped token is OK false
// with HubSpot's category and message as the reason; other failures are
// errors (CodeRateLimited, CodeUnavailable).
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	if conn.Secret["access_token"] == "" {
		return sdk.TestResult{Reason: "no access_token: connect with OAuth or enter a private-app token"}, nil
	}
	err := d.probe(ctx, conn)
	if err == nil {
		res := sdk.TestResult{OK: true, AccountID: conn.AccountID}
		if res.AccountID == "" {
			res.AccountID = d.portal(ctx, conn, conn.Secret["access_token"])
		}
		return res, nil
	}
	var e *sdk.Error
	if errors.As(err, &e) && e.Code == sdk.CodeAuth {
		return sdk.TestResult{Reason: e.Message}, nil
	}
	return sdk.TestResult{}, err
}

// probe is the cheapest call that proves a token.
func (d *Driver) probe(ctx context.Context, conn sdk.Connection) error {
	return d.do(ctx, conn, call{method: http.MethodGet, path: "/crm/v3/objects/contacts", query: url.Values{"limit": {"1"}}})
}

// Authorize turns a grant into the secret to store.
//
// With grant.Code it runs the OAuth authorization-code exchange at
// {base_url}/oauth/v1/token (client_id and client_secret from the app
// credentials, redirect_uri and PKCE code_verifier from the grant) and
// answers access_token and refresh_token, the expiry, and the portal (hub)
// id as the account id. Without a code it checks the private-app token in
// conn.Secret["access_token"] with one cheap call and answers the secret
// unchanged, without expiry, with the portal id when the token's info
// gives it.
//
// Errors: CodeAuth for a bad code, client or token; CodeInvalid naming
// app.client_id, app.client_secret or access_token when one is missing;
// CodeRateLimited, CodeUnavailable.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if grant.Code == "" {
		if conn.Secret["access_token"] == "" {
			return sdk.Authorization{}, sdk.Invalid("access_token", "is required without an OAuth code: enter a private-app token (pat-…) or connect with OAuth")
		}
		if err := d.probe(ctx, conn); err != nil {
			return sdk.Authorization{}, err
		}
		return sdk.Authorization{Secret: maps.Clone(conn.Secret), AccountID: d.portal(ctx, conn, conn.Secret["access_token"])}, nil
	}
	cfg, err := oauthConfig(conn, grant.RedirectURI)
	if err != nil {
		return sdk.Authorization{}, err
	}
	var opts []oauth2.AuthCodeOption
	if grant.CodeVerifier != "" {
		opts = append(opts, oauth2.VerifierOption(grant.CodeVerifier))
	}
	tok, err := cfg.Exchange(d.oauthContext(ctx), grant.Code, opts...)
	if err != nil {
		return sdk.Authorization{}, d.oauthError(ctx, err, provider.SecretsOf(conn, cfg.ClientSecret, grant.Code, grant.CodeVerifier))
	}
	out := sdk.Authorization{
		Secret:    map[string]string{"access_token": tok.AccessToken},
		ExpiresAt: tok.Expiry,
		AccountID: extraString(tok, "hub_id"),
	}
	if tok.RefreshToken != "" {
		out.Secret["refresh_token"] = tok.RefreshToken
	}
	if out.AccountID == "" {
		out.AccountID = d.tokenHub(ctx, conn, tok.AccessToken)
	}
	return out, nil
}

// Refresh runs the refresh-token grant and answers the new access token
// (and refresh token, when HubSpot rotates it); the host merges them into
// the stored secret. Errors: CodeUnsupported when the connection has no
// refresh_token (private-app tokens do not expire); CodeAuth for a revoked
// refresh token or bad client; CodeInvalid naming app.client_id or
// app.client_secret when missing; CodeRateLimited, CodeUnavailable.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	rt := conn.Secret["refresh_token"]
	if rt == "" {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeUnsupported,
			"the connection has no refresh_token (private-app tokens do not expire); reconnect with OAuth to get one")
	}
	cfg, err := oauthConfig(conn, "")
	if err != nil {
		return sdk.Authorization{}, err
	}
	tok, err := cfg.TokenSource(d.oauthContext(ctx), &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		return sdk.Authorization{}, d.oauthError(ctx, err, provider.SecretsOf(conn))
	}
	secret := map[string]string{"access_token": tok.AccessToken}
	if tok.RefreshToken != "" {
		secret["refresh_token"] = tok.RefreshToken
	}
	return sdk.Authorization{Secret: secret, ExpiresAt: tok.Expiry}, nil
}

func oauthConfig(conn sdk.Connection, redirectURI string) (*oauth2.Config, error) {
	id := strings.TrimSpace(conn.App[appClientID])
	if id == "" {
		return nil, sdk.Invalid("app."+appClientID, "is required for OAuth: the platform's HubSpot app's client ID (an operator sets the driver's app credentials)")
	}
	secret := conn.App[appClientSecret]
	if secret == "" {
		return nil, sdk.Invalid("app."+appClientSecret, "is required for OAuth: the platform's HubSpot app's client secret (an operator sets the driver's app credentials)")
	}
	tokenURL, err := provider.JoinURL(baseURL(conn), "/oauth/v1/token", nil)
	if err != nil {
		return nil, err
	}
	return &oauth2.Config{
		ClientID:     id,
		ClientSecret: secret,
		RedirectURL:  redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:   conn.Get(configAppBaseURL, DefaultAppBaseURL) + "/oauth/authorize",
			TokenURL:  tokenURL.String(),
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}, nil
}

// oauthContext makes x/oauth2 use the provider toolkit's HTTP client (the
// same egress guard, redirect policy and size cap as every other call).
func (d *Driver) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, d.http.HTTPClient(ctx))
}

// oauthError classifies a token-endpoint failure. HubSpot answers a bad
// code, refresh token, client or redirect URI with 400 and a status such as
// BAD_AUTH_CODE or BAD_REFRESH_TOKEN: CodeAuth. A redirect is
// CodeUnavailable; failures to get an answer are the provider toolkit's.
// Secrets are redacted.
func (d *Driver) oauthError(ctx context.Context, err error, secrets []string) *sdk.Error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return d.http.TransportError(ctx, err, secrets)
	}
	status := re.Response.StatusCode
	e := classify(status, re.Response.Header, re.Body)
	switch {
	case status >= 300 && status <= 399:
		e = &sdk.Error{Code: sdk.CodeUnavailable, Message: "HubSpot answered the token request with " + strconv.Itoa(status) + " " +
			http.StatusText(status) + ", a redirect drivers do not follow"}
	case status < 500 && status != http.StatusTooManyRequests:
		var ae apiError
		_ = json.Unmarshal(re.Body, &ae)
		msg := provider.Excerpt(re.Body)
		if msg == "" {
			msg = e.Message
		}
		if ae.Status != "" && ae.Status != "error" {
			msg = ae.Status + ": " + msg
		}
		e = &sdk.Error{Code: sdk.CodeAuth, Message: "HubSpot refused the token request: " + msg}
	}
	e.Message = provider.Redact(e.Message, secrets)
	return e
}

func extraString(tok *oauth2.Token, key string) string {
	switch v := tok.Extra(key).(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// portal learns the portal (hub) id a token belongs to: GET
// /account-info/v3/details, which answers for private-app and OAuth
// tokens alike, else the OAuth token's info. Best effort: "" on failure.
func (d *Driver) portal(ctx context.Context, conn sdk.Connection, token string) string {
	var details struct {
		PortalID any `json:"portalId"`
	}
	if err := d.send(ctx, conn, token, call{method: http.MethodGet, path: "/account-info/v3/details", out: &details}); err == nil {
		if id := idString(details.PortalID); id != "" {
			return id
		}
	}
	return d.tokenHub(ctx, conn, token)
}

func idString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// tokenHub asks GET /oauth/v1/access-tokens/{token} for the token's hub
// id; it is best effort and answers "" on any failure.
func (d *Driver) tokenHub(ctx context.Context, conn sdk.Connection, token string) string {
	var info struct {
		HubID any `json:"hub_id"`
	}
	if err := d.send(ctx, conn, token, call{method: http.MethodGet, path: "/oauth/v1/access-tokens/" + url.PathEscape(token), out: &info}); err != nil {
		return ""
	}
	return idString(info.HubID)
}

var (
	_ sdk.Authorizer = (*Driver)(nil)
	_ sdk.Refresher  = (*Driver)(nil)
)
