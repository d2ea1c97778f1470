package zoho

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// defaultTokenTTL is the lifetime of a Zoho access token (an hour), used
// when a token response names none.
const defaultTokenTTL = time.Hour

// org is the part of GET /org the driver uses.
type org struct {
	ID         string `json:"id"`
	ZGID       string `json:"zgid"`
	DomainName string `json:"domain_name"`
}

// accountID is the org's account id: its zgid (Zoho's org id), else its
// record id.
func (o org) accountID() string {
	if o.ZGID != "" {
		return o.ZGID
	}
	return o.ID
}

// readOrg reads GET /org.
func (d *Driver) readOrg(ctx context.Context, conn sdk.Connection) (org, error) {
	var resp struct {
		Org []org `json:"org"`
	}
	if _, err := d.api(ctx, conn, request{path: "/org"}, &resp); err != nil {
		return org{}, err
	}
	if len(resp.Org) == 0 {
		return org{}, sdk.Errorf(sdk.CodeUnavailable, "Zoho answered GET /org with no organization")
	}
	return resp.Org[0], nil
}

// TestConnection reads the org (GET /org): one cheap call that proves the
// token, the data centre and the CRM. It answers the org's zgid as the
// account id, keeps the org's domain (for record links) through a
// credential update when the connection lacks it, and keeps the
// connection's notification channel open when a notification URL is set.
// A rejected token is OK false with Zoho's code and message; other
// failures are errors (CodeInvalid for a bad data centre, CodeRateLimited,
// CodeUnavailable).
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	o, err := d.readOrg(ctx, conn)
	if err != nil {
		var e *sdk.Error
		if errors.As(err, &e) && e.Code == sdk.CodeAuth {
			return sdk.TestResult{Reason: e.Message}, nil
		}
		return sdk.TestResult{}, err
	}
	u := sdk.CredentialUpdate{}
	if o.DomainName != "" && conn.Config[configOrgDomain] != o.DomainName {
		u.Config = map[string]string{configOrgDomain: o.DomainName}
	}
	if conn.AccountID == "" {
		u.AccountID = o.accountID()
	}
	if !u.IsZero() {
		sdk.UpdateCredential(ctx, u)
	}
	if err := d.keepWatch(ctx, u.Apply(conn), o.accountID()); err != nil {
		e := sdk.AsError(err)
		msg := e.Message
		if e.Field != "" {
			msg = e.Field + " " + msg
		}
		return sdk.TestResult{OK: true, AccountID: o.accountID(), Reason: "connected, but the notification channel could not be opened: " + msg}, nil
	}
	return sdk.TestResult{OK: true, AccountID: o.accountID()}, nil
}

// tokenResponse is the accounts server's answer. Zoho answers errors with
// HTTP 200 and {"error":"invalid_code"}.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	APIDomain    string `json:"api_domain"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExpiresInSec int64  `json:"expires_in_sec"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// expiry is when the access token expires.
func (t tokenResponse) expiry(now time.Time) time.Time {
	ttl := time.Duration(t.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Duration(t.ExpiresInSec) * time.Second
	}
	if ttl <= 0 || ttl > 24*time.Hour {
		ttl = defaultTokenTTL
	}
	return now.Add(ttl)
}

// appClient returns the platform's Zoho client id and secret. Errors:
// CodeInvalid naming app.client_id or app.client_secret.
func appClient(conn sdk.Connection) (string, string, error) {
	id, secret := strings.TrimSpace(conn.App[appClientID]), conn.App[appClientSecret]
	switch {
	case id == "":
		return "", "", sdk.Invalid("app."+appClientID, "is required for OAuth: the platform's Zoho client ID (an operator sets the driver's app credentials)")
	case secret == "":
		return "", "", sdk.Invalid("app."+appClientSecret, "is required for OAuth: the platform's Zoho client secret (an operator sets the driver's app credentials)")
	}
	return id, secret, nil
}

// token runs one grant at the connection's accounts server
// (POST {accounts_server}/oauth/v2/token, form-encoded).
func (d *Driver) token(ctx context.Context, conn sdk.Connection, form url.Values, secrets ...string) (tokenResponse, string, error) {
	_, accounts, err := centreOf(conn)
	if err != nil {
		return tokenResponse{}, "", err
	}
	id, secret, err := appClient(conn)
	if err != nil {
		return tokenResponse{}, "", err
	}
	form.Set("client_id", id)
	form.Set("client_secret", secret)
	secrets = append(secretsOf(conn), secrets...)
	resp, err := d.send(ctx, request{method: http.MethodPost, base: accounts, path: "/oauth/v2/token", form: form, secrets: secrets})
	if err != nil {
		return tokenResponse{}, "", err
	}
	var tr tokenResponse
	jerr := json.Unmarshal(resp.body, &tr)
	switch {
	case resp.status == http.StatusTooManyRequests:
		return tokenResponse{}, "", sdk.RateLimited(retryAfter(resp.header, time.Minute), "Zoho's accounts server is rate limiting token requests")
	case resp.status >= 500:
		return tokenResponse{}, "", sdk.Errorf(sdk.CodeUnavailable, "Zoho's accounts server answered %d %s", resp.status, http.StatusText(resp.status))
	case tr.Error != "":
		return tokenResponse{}, "", tokenError(tr, form.Get("grant_type"), accounts)
	case jerr != nil || resp.status < 200 || resp.status > 299:
		return tokenResponse{}, "", sdk.Errorf(sdk.CodeAuth, "Zoho's accounts server answered %d %s without a token", resp.status, http.StatusText(resp.status))
	}
	return tr, accounts, nil
}

// tokenError words a token error (Zoho answers them with HTTP 200) so an
// operator can act on it:
//
//	invalid_code            auth_error: the code (or refresh token) is used, expired, revoked or of another data centre
//	invalid_client          auth_error: the app credentials are wrong, or the client is not enabled for this data centre
//	invalid_redirect_uri,
//	redirect_uri mismatch   invalid naming "redirect_uri"
//	Access Denied           rate_limited: too many token requests (about 10 per 10 minutes per refresh token)
//	anything else           auth_error with Zoho's words
func tokenError(tr tokenResponse, grant, accounts string) *sdk.Error {
	desc := truncate(strings.TrimSpace(tr.Error + " " + tr.Description))
	switch strings.ToLower(tr.Error) {
	case "invalid_code":
		if grant == "refresh_token" {
			return sdk.Errorf(sdk.CodeAuth, "Zoho rejected the refresh token (%s): it was revoked, or the user has more than 20 refresh tokens and Zoho deleted this one, the oldest; reconnect the connection", desc)
		}
		return sdk.Errorf(sdk.CodeAuth, "Zoho rejected the authorization code (%s) at %s: it was already used or has expired, or the Zoho account belongs to another data centre (Zoho's redirect names it in location and accounts-server): choose that data centre and connect again", desc, accounts)
	case "invalid_client", "invalid_client_secret":
		return sdk.Errorf(sdk.CodeAuth, "Zoho rejected the platform's client credentials (%s) at %s: check the driver's app credentials, and that the Zoho API console client has multi-DC enabled for this data centre", desc, accounts)
	case "invalid_redirect_uri", "redirect_uri_mismatch":
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "redirect_uri", Message: "Zoho rejected the redirect URI (" + desc + "): it must be one registered for the client in the Zoho API console"}
	case "access denied", "access_denied":
		return sdk.RateLimited(time.Minute, "Zoho is refusing token requests for now (%s): at most about 10 access tokens per 10 minutes per refresh token", desc)
	}
	return sdk.Errorf(sdk.CodeAuth, "Zoho's accounts server refused the token request (%s)", desc)
}

// Authorize turns a grant into the secret to store.
//
// With grant.Code it exchanges the authorization code at the connection's
// accounts server (grant_type=authorization_code with the app's client id
// and secret, the redirect URI and, when given, the PKCE verifier). It
// answers the access and refresh tokens, their expiry, the api_domain
// Zoho names (checked to be a Zoho data centre's CRM API) and the
// normalised accounts server as config, and, read from GET /org with the
// new token, the org's zgid as account id and its domain for record
// links (when that read fails the connection still connects, and
// TestConnection learns them).
//
// Without a code it checks tokens entered in the connect form (as a Zoho
// Self Client gives them): the access token with GET /org, or, when there
// is none or Zoho rejects it, a fresh one from the refresh token. It
// answers the form's secret (with the fresh access token and its expiry
// when it refreshed), the org as account id and its domain.
//
// Errors: CodeInvalid naming "code" without a code or form tokens,
// config.accounts_server for an unknown data centre, app.client_id or
// app.client_secret when missing, "redirect_uri" when Zoho rejects it;
// CodeAuth for a used, expired or foreign-DC code, bad client
// credentials, rejected form tokens, or a token response missing the
// access token, refresh token or api_domain; CodeRateLimited;
// CodeUnavailable.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if strings.TrimSpace(grant.Code) == "" {
		return d.authorizeForm(ctx, conn)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {grant.Code}}
	if grant.RedirectURI != "" {
		form.Set("redirect_uri", grant.RedirectURI)
	}
	if grant.CodeVerifier != "" {
		form.Set("code_verifier", grant.CodeVerifier)
	}
	tr, accounts, err := d.token(ctx, conn, form, grant.Code, grant.CodeVerifier)
	if err != nil {
		return sdk.Authorization{}, err
	}
	var missing []string
	for k, v := range map[string]string{"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken, "api_domain": tr.APIDomain} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "Zoho's token response lacks %s (was access_type=offline asked for?): nothing was stored; connect again", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	domain, err := checkAPIDomain(conn, tr.APIDomain)
	if err != nil {
		return sdk.Authorization{}, err
	}
	out := sdk.Authorization{
		Secret:    map[string]string{secretAccessToken: tr.AccessToken, secretRefreshToken: tr.RefreshToken},
		ExpiresAt: tr.expiry(d.now()),
		Config:    map[string]string{configAPIDomain: domain, configAccountsServer: accounts},
	}
	probe := conn
	probe.Secret = out.Secret
	probe.Config = sdk.CredentialUpdate{Config: out.Config}.Apply(conn).Config
	if o, err := d.readOrg(ctx, probe); err == nil {
		out.AccountID = o.accountID()
		if o.DomainName != "" {
			out.Config[configOrgDomain] = o.DomainName
		}
	}
	return out, nil
}

// authorizeForm checks the tokens of a connect form (see Authorize).
func (d *Driver) authorizeForm(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	at, rt := strings.TrimSpace(conn.Secret[secretAccessToken]), strings.TrimSpace(conn.Secret[secretRefreshToken])
	if at == "" && rt == "" {
		return sdk.Authorization{}, sdk.Invalid("code", "is required: connect with Zoho's OAuth sign-in, or enter a refresh token from a Zoho Self Client")
	}
	out := sdk.Authorization{Secret: maps.Clone(conn.Secret), Config: map[string]string{}}
	var o org
	var err error = sdk.Errorf(sdk.CodeAuth, "no access token")
	if at != "" {
		o, err = d.readOrg(ctx, conn)
	}
	if sdk.CodeOf(err) == sdk.CodeAuth && rt != "" {
		var a sdk.Authorization
		if a, err = d.Refresh(ctx, conn); err != nil {
			return sdk.Authorization{}, err
		}
		out.Secret[secretAccessToken], out.ExpiresAt = a.Secret[secretAccessToken], a.ExpiresAt
		maps.Copy(out.Config, a.Config)
		o, err = d.readOrg(ctx, sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config}.Apply(conn))
	}
	if err != nil {
		return sdk.Authorization{}, err
	}
	out.AccountID = o.accountID()
	if o.DomainName != "" {
		out.Config[configOrgDomain] = o.DomainName
	}
	return out, nil
}

// Refresh runs the refresh-token grant at the connection's accounts
// server and answers the new access token, its expiry and the api_domain
// (Zoho keeps the refresh token: it does not rotate it, so the host keeps
// the stored one). Errors: CodeAuth for a connection without a refresh
// token, a revoked refresh token (invalid_code) or bad client
// credentials; CodeInvalid naming config.accounts_server, app.client_id
// or app.client_secret; CodeRateLimited (Zoho allows about 10 token
// requests per 10 minutes per refresh token); CodeUnavailable.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	rt := strings.TrimSpace(conn.Secret[secretRefreshToken])
	if rt == "" {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "the connection has no Zoho refresh token: reconnect it with OAuth")
	}
	tr, _, err := d.token(ctx, conn, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if err != nil {
		return sdk.Authorization{}, err
	}
	if tr.AccessToken == "" {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "Zoho's refresh answer has no access_token: nothing was stored")
	}
	out := sdk.Authorization{Secret: map[string]string{secretAccessToken: tr.AccessToken}, ExpiresAt: tr.expiry(d.now())}
	if tr.APIDomain != "" {
		domain, err := checkAPIDomain(conn, tr.APIDomain)
		if err != nil {
			return sdk.Authorization{}, err
		}
		out.Config = map[string]string{configAPIDomain: domain}
	}
	return out, nil
}

var (
	_ sdk.Authorizer = (*Driver)(nil)
	_ sdk.Refresher  = (*Driver)(nil)
)
