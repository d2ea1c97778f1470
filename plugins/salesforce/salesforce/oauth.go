package salesforce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// tokenResponse is Salesforce's token answer. It has no expires_in: an
// access token lives for the org's session timeout.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	IssuedAt     string `json:"issued_at"`
	Signature    string `json:"signature"`
	TokenType    string `json:"token_type"`
}

// TestConnection reads the org's limits (GET /services/data/vXX.X/limits)
// with the connection's session. A rejected session, a disabled API or an
// API version the org does not serve is OK false with Salesforce's reason;
// other failures are errors (CodeRateLimited, CodeUnavailable, CodeInvalid
// for a malformed config). The account id is the connection's org, or the
// session's (from /services/oauth2/userinfo) when not yet known.
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	if conn.Secret["access_token"] == "" {
		return sdk.TestResult{Reason: "no access_token: connect the tenant with OAuth"}, nil
	}
	err := d.rest(ctx, conn, api{path: "/limits"})
	var e *sdk.Error
	switch {
	case err == nil:
	case errors.As(err, &e) && e.Code == sdk.CodeAuth:
		return sdk.TestResult{Reason: e.Message}, nil
	case errors.As(err, &e) && e.Code == sdk.CodeNotFound:
		ver, _ := apiVersion(conn)
		return sdk.TestResult{Reason: "the org does not serve REST API version " + ver + " (config api_version): " + e.Message}, nil
	default:
		return sdk.TestResult{}, err
	}
	res := sdk.TestResult{OK: true, AccountID: conn.AccountID}
	if res.AccountID == "" {
		res.AccountID, _ = d.sessionOrg(ctx, conn)
	}
	return res, nil
}

// sessionOrg asks GET /services/oauth2/userinfo which org the session
// belongs to.
func (d *Driver) sessionOrg(ctx context.Context, conn sdk.Connection) (string, error) {
	var info struct {
		OrganizationID string `json:"organization_id"`
	}
	if err := d.rest(ctx, conn, api{path: "/services/oauth2/userinfo", out: &info}); err != nil {
		return "", err
	}
	if !orgIDRE.MatchString(info.OrganizationID) {
		return "", sdk.Errorf(sdk.CodeUnavailable, "Salesforce's userinfo names no organization")
	}
	return info.OrganizationID, nil
}

// Authorize turns a grant into the secret to store.
//
// With grant.Code it runs the authorization-code exchange at
// {login_url}/services/oauth2/token (the connected app's client_id and
// client_secret from the app credentials, the grant's redirect_uri and
// PKCE code_verifier) and answers access_token and refresh_token, the
// expiry (issued_at plus the org's session timeout), instance_url as
// config, and the org id (from the identity URL) as the account id. The
// answer is checked before anything is stored: its signature
// (HMAC-SHA256 of id and issued_at with the client secret), instance_url
// and id on Salesforce's hosts, every field present.
//
// Without a code it checks a pasted session (access_token and
// instance_url) with one cheap call and answers it unchanged, with the
// org id from userinfo.
//
// Errors: CodeAuth for a refused code, client or session, or a token
// answer that fails a check (the message says which); CodeInvalid naming
// app.client_id, app.client_secret, config.login_url or access_token;
// CodeRateLimited, CodeUnavailable.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if grant.Code == "" {
		if conn.Secret["access_token"] == "" {
			return sdk.Authorization{}, sdk.Invalid("access_token", "is required without an OAuth code: connect with OAuth, or paste a session's access token and instance URL")
		}
		org, err := d.sessionOrg(ctx, conn)
		if err != nil {
			return sdk.Authorization{}, err
		}
		return sdk.Authorization{Secret: maps.Clone(conn.Secret), AccountID: org,
			ExpiresAt: d.now().Add(sessionTimeout(conn))}, nil
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {grant.Code}, "redirect_uri": {grant.RedirectURI}}
	if grant.CodeVerifier != "" {
		form.Set("code_verifier", grant.CodeVerifier)
	}
	tok, err := d.token(ctx, conn, form, "authorization code", grant.Code, grant.CodeVerifier)
	if err != nil {
		return sdk.Authorization{}, err
	}
	if tok.RefreshToken == "" {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth,
			"Salesforce answered no refresh_token: the connected app must grant the refresh_token (offline_access) scope; nothing was stored")
	}
	return d.authorization(conn, tok)
}

// Refresh runs the refresh-token grant and answers the new access token
// (and the new refresh token when the connected app rotates them), its
// expiry, the instance_url (an org can move) and the org id; the host
// merges them into the stored credential. A token of another org than the
// connection's is refused. Errors: CodeAuth for a missing, expired or
// revoked refresh token, a bad client, or a token answer that fails a
// check; CodeInvalid naming app.client_id, app.client_secret or
// config.login_url; CodeRateLimited, CodeUnavailable.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	rt := conn.Secret["refresh_token"]
	if rt == "" {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "the connection has no refresh_token: reconnect the tenant with OAuth")
	}
	tok, err := d.token(ctx, conn, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "refresh", rt)
	if err != nil {
		return sdk.Authorization{}, err
	}
	a, err := d.authorization(conn, tok)
	if err != nil {
		return sdk.Authorization{}, err
	}
	if conn.AccountID != "" && !sameID(conn.AccountID, a.AccountID) {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "the refreshed session belongs to org %s, not the connection's %s; reconnect the tenant", a.AccountID, conn.AccountID)
	}
	return a, nil
}

// token posts a grant to the token endpoint with the app's client
// credentials and checks the answer's signature.
func (d *Driver) token(ctx context.Context, conn sdk.Connection, form url.Values, what string, secrets ...string) (tokenResponse, error) {
	id := strings.TrimSpace(conn.App[appClientID])
	if id == "" {
		return tokenResponse{}, sdk.Invalid("app."+appClientID, "is required for OAuth: the platform's connected app's consumer key (an operator sets the driver's app credentials)")
	}
	secret := conn.App[appClientSecret]
	if secret == "" {
		return tokenResponse{}, sdk.Invalid("app."+appClientSecret, "is required for OAuth: the platform's connected app's consumer secret (an operator sets the driver's app credentials)")
	}
	base, err := loginURL(conn)
	if err != nil {
		return tokenResponse{}, err
	}
	form.Set("client_id", id)
	form.Set("client_secret", secret)
	secrets = append(secrets, secret)
	resp, err := d.send(ctx, request{method: http.MethodPost, base: base, path: "/services/oauth2/token", form: form, secrets: secrets})
	if err != nil {
		return tokenResponse{}, err
	}
	if resp.Status != http.StatusOK {
		e := classifyToken(resp, what)
		e.Message = redact(e.Message, secrets...)
		return tokenResponse{}, e
	}
	var tok tokenResponse
	if err := jsonUnmarshal(resp.Body, &tok); err != nil {
		return tokenResponse{}, sdk.Errorf(sdk.CodeAuth, "Salesforce's token answer is not JSON; nothing was stored")
	}
	for name, v := range map[string]string{"access_token": tok.AccessToken, "instance_url": tok.InstanceURL, "id": tok.ID,
		"issued_at": tok.IssuedAt, "signature": tok.Signature} {
		if v == "" {
			return tokenResponse{}, sdk.Errorf(sdk.CodeAuth, "Salesforce's token answer has no %s; nothing was stored (try again; if it persists, check the connected app)", name)
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(tok.ID + tok.IssuedAt))
	sig, err := base64.StdEncoding.DecodeString(tok.Signature)
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return tokenResponse{}, sdk.Errorf(sdk.CodeAuth, "Salesforce's token answer has a signature that does not match its id and issued_at (signed with the app's consumer secret); nothing was stored")
	}
	return tok, nil
}

// orgIDRE is an organization id: key prefix 00D, 15 or 18 characters.
var orgIDRE = regexp15or18("00D")

// authorization checks a token answer's URLs and turns it into what the
// host stores.
func (d *Driver) authorization(conn sdk.Connection, tok tokenResponse) (sdk.Authorization, error) {
	instance, ok := trustedURL(conn, tok.InstanceURL)
	if !ok {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth,
			"Salesforce's token answer names instance_url %q, which is not a Salesforce host (https on salesforce.com or force.com); nothing was stored", tok.InstanceURL)
	}
	if _, ok := trustedURL(conn, tok.ID); !ok {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "Salesforce's token answer names identity URL %q, which is not on a Salesforce host; nothing was stored", tok.ID)
	}
	u, _ := url.Parse(tok.ID)
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "id" || !orgIDRE.MatchString(parts[1]) {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "Salesforce's identity URL %q does not name an org (/id/<org>/<user>); nothing was stored", tok.ID)
	}
	ms, err := strconv.ParseInt(tok.IssuedAt, 10, 64)
	if err != nil {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "Salesforce's token answer has an issued_at that is not a time; nothing was stored")
	}
	issued := time.UnixMilli(ms)
	if now := d.now(); issued.After(now.Add(time.Hour)) || issued.Before(now.Add(-24*time.Hour)) {
		issued = now // a skewed clock at either end must not make the token look expired or eternal
	}
	secret := map[string]string{"access_token": tok.AccessToken}
	if tok.RefreshToken != "" {
		secret["refresh_token"] = tok.RefreshToken
	}
	return sdk.Authorization{
		Secret:    secret,
		ExpiresAt: issued.Add(sessionTimeout(conn)),
		Config:    map[string]string{configInstanceURL: instance},
		AccountID: parts[1],
	}, nil
}

// sameID compares two Salesforce ids, 15 or 18 characters.
func sameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return a == b
	}
	return a[:15] == b[:15]
}

var (
	_ sdk.Authorizer = (*Driver)(nil)
	_ sdk.Refresher  = (*Driver)(nil)
)
