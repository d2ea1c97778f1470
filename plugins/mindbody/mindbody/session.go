package mindbody

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Config, secret and app credential keys.
const (
	// configSiteID is the business's Mindbody site id (-99: the sandbox).
	configSiteID = "site_id"
	// configUsername is the staff login the driver issues tokens for.
	configUsername = "username"
	// configSiteName and configTimeZone are facts the driver learns from
	// GET /site/sites and keeps in the connection's config.
	configSiteName = "site_name"
	configTimeZone = "site_time_zone"

	secretPassword = "password"
	// The staff user token the driver issues, its expiry (RFC 3339) and
	// how often it has been renewed: kept through credential updates.
	secretToken    = "staff_token"
	secretExpires  = "staff_token_expires_at"
	secretRenewals = "staff_token_renewals"

	// appAPIKey is the platform's Mindbody developer API key, the same for
	// every business; appSignatureKey is the webhook subscription's
	// messageSignatureKey.
	appAPIKey       = "api_key"
	appSignatureKey = "webhook_signature_key"
)

// Staff token lifetime rules: a token lives 24 hours, a renewal adds 24
// hours to its expiry, at most seven times. The driver renews a token
// that expires within renewMargin.
const (
	tokenLife   = 24 * time.Hour
	maxRenewals = 7
	renewMargin = time.Hour
)

// siteIDPattern is a Mindbody site id: a whole number (the sandbox is -99).
var siteIDPattern = regexp.MustCompile(`^-?[0-9]{1,10}$`)

// session is a connection made ready for calls: where, which site, which
// API key, which staff token.
type session struct {
	d      *Driver
	conn   sdk.Connection
	base   string
	site   string
	apiKey string
	token  string
}

// prepare checks the connection's settings and returns a session without
// a staff token. Errors: CodeInvalid naming config.site_id (not a whole
// number), app.api_key (the platform's key is not set) or
// config.base_url.
func (d *Driver) prepare(conn sdk.Connection) (*session, error) {
	site := strings.TrimSpace(conn.Config[configSiteID])
	switch {
	case site == "":
		return nil, sdk.Invalid("config."+configSiteID, "is required: the business's Mindbody site id (a whole number shown in the Mindbody dashboard's address and settings; -99 is Mindbody's sandbox)")
	case !siteIDPattern.MatchString(site):
		return nil, sdk.Invalid("config."+configSiteID, "%q is not a Mindbody site id: a site id is a whole number such as 123456 (-99 is Mindbody's sandbox)", site)
	}
	key := strings.TrimSpace(conn.App[appAPIKey])
	if key == "" {
		return nil, sdk.Invalid("app."+appAPIKey, "is required: the platform's Mindbody developer API key is not set (an operator sets the driver's app credentials)")
	}
	base := strings.TrimRight(conn.Get(sdk.ConfigBaseURL, DefaultBaseURL), "/")
	if _, err := provider.ParseBaseURL(base); err != nil {
		return nil, err
	}
	s := &session{d: d, conn: conn, base: base, site: site, apiKey: key}
	return s, nil
}

// open prepares a session with a usable staff token: the one the
// connection holds, renewed when it expires within an hour, or a new one
// issued with the staff login. A token obtained here is sent back to the
// host as a credential update. Errors: prepare's, CodeInvalid naming
// config.username or password when the login is missing, CodeAuth for a
// refused login, CodeRateLimited, CodeUnavailable.
func (d *Driver) open(ctx context.Context, conn sdk.Connection) (*session, error) {
	s, err := d.prepare(conn)
	if err != nil {
		return nil, err
	}
	u, err := s.ensureToken(ctx)
	if err != nil {
		return nil, err
	}
	if !u.IsZero() {
		sdk.UpdateCredential(ctx, u)
	}
	return s, nil
}

// ensureToken sets s.token, renewing or issuing one when needed, and
// returns the credential update that keeps what changed.
func (s *session) ensureToken(ctx context.Context) (sdk.CredentialUpdate, error) {
	tok := s.conn.Secret[secretToken]
	exp, _ := parseTime(s.conn.Secret[secretExpires])
	renewals, _ := strconv.Atoi(s.conn.Secret[secretRenewals])
	now := s.d.now()
	switch {
	case tok != "" && (exp.IsZero() || now.Before(exp.Add(-renewMargin))):
		s.token = tok
		return sdk.CredentialUpdate{}, nil
	case tok != "" && now.Before(exp) && renewals < maxRenewals:
		u, err := s.renew(ctx, tok, exp, renewals)
		if err == nil {
			return u, nil
		}
		if c := sdk.CodeOf(err); c == sdk.CodeRateLimited || c == sdk.CodeUnavailable {
			return sdk.CredentialUpdate{}, err
		}
		// A token Mindbody will not renew: issue a new one.
	}
	return s.issue(ctx)
}

// tokenAnswer is POST /usertoken/issue's (and, as far as it answers,
// /usertoken/renew's) body.
type tokenAnswer struct {
	TokenType   string `json:"TokenType"`
	AccessToken string `json:"AccessToken"`
	Expires     string `json:"Expires"`
	User        *struct {
		ID int64 `json:"Id"`
	} `json:"User"`
}

// issue issues a staff token with the connection's staff login.
func (s *session) issue(ctx context.Context) (sdk.CredentialUpdate, error) {
	user := strings.TrimSpace(s.conn.Config[configUsername])
	if user == "" {
		user = strings.TrimSpace(s.conn.Secret[configUsername])
	}
	password := s.conn.Secret[secretPassword]
	switch {
	case user == "":
		return sdk.CredentialUpdate{}, sdk.Invalid("config."+configUsername, "is required: the username of a Mindbody staff member whose login the driver uses (a staff member with permission to manage clients and appointments)")
	case password == "":
		return sdk.CredentialUpdate{}, sdk.Invalid(secretPassword, "is required: the password of the Mindbody staff login %q", user)
	}
	var out tokenAnswer
	err := s.call(ctx, request{method: http.MethodPost, path: "/usertoken/issue", noAuth: true,
		in: map[string]string{"Username": user, "Password": password}}, &out)
	if err != nil {
		e := sdk.AsError(err)
		if e.Code == sdk.CodeAuth {
			return sdk.CredentialUpdate{}, &sdk.Error{Code: sdk.CodeAuth, Message: "Mindbody refused the staff login " +
				strconv.Quote(user) + " for site " + s.site + " (" + e.Message + "): check the username and password, and that the staff member may use the API"}
		}
		return sdk.CredentialUpdate{}, err
	}
	if out.AccessToken == "" {
		return sdk.CredentialUpdate{}, sdk.Errorf(sdk.CodeUnavailable, "Mindbody issued no staff token")
	}
	exp, ok := parseTime(out.Expires)
	if !ok {
		exp = s.d.now().Add(tokenLife)
	}
	return s.useToken(out.AccessToken, exp, 0), nil
}

// renew extends tok (POST /usertoken/renew) by 24 hours from its expiry.
func (s *session) renew(ctx context.Context, tok string, exp time.Time, renewals int) (sdk.CredentialUpdate, error) {
	s.token = tok
	var out tokenAnswer
	if err := s.call(ctx, request{method: http.MethodPost, path: "/usertoken/renew"}, &out); err != nil {
		s.token = ""
		return sdk.CredentialUpdate{}, err
	}
	if out.AccessToken != "" {
		tok = out.AccessToken
	}
	next, ok := parseTime(out.Expires)
	if !ok || !next.After(exp) {
		next = exp.Add(tokenLife)
	}
	return s.useToken(tok, next, renewals+1), nil
}

// useToken makes tok the session's token and returns the credential
// update that keeps it.
func (s *session) useToken(tok string, exp time.Time, renewals int) sdk.CredentialUpdate {
	s.token = tok
	return sdk.CredentialUpdate{
		Secret: map[string]string{secretToken: tok, secretExpires: exp.UTC().Format(time.RFC3339),
			secretRenewals: strconv.Itoa(renewals)},
		ExpiresAt: exp,
	}
}

// siteInfo is one entry of GET /site/sites.
type siteInfo struct {
	ID       int64  `json:"Id"`
	Name     string `json:"Name"`
	TimeZone string `json:"TimeZone"`
}

// site reads the connection's site with the API key alone (GET
// /site/sites?request.siteIds=…). Errors: CodeInvalid naming
// config.site_id when the key may not see the site, CodeAuth for a
// refused API key, CodeRateLimited, CodeUnavailable.
func (s *session) siteInfo(ctx context.Context) (siteInfo, error) {
	var out struct {
		Sites []siteInfo `json:"Sites"`
	}
	err := s.call(ctx, request{method: http.MethodGet, path: "/site/sites", noAuth: true,
		query: url.Values{"request.siteIds": {s.site}}}, &out)
	if e := sdk.AsError(err); e != nil && e.Code == sdk.CodeAuth {
		return siteInfo{}, &sdk.Error{Code: sdk.CodeAuth, Message: "Mindbody refused the platform's API key (" + e.Message +
			"): an operator checks the driver's app credential " + appAPIKey}
	}
	if err != nil {
		return siteInfo{}, err
	}
	for _, st := range out.Sites {
		if strconv.FormatInt(st.ID, 10) == s.site {
			return st, nil
		}
	}
	return siteInfo{}, sdk.Invalid("config."+configSiteID, "Mindbody has no site %s that the platform's API key may use: check the site id, and ask the business owner to activate the integration (Mindbody sends them an activation link)", s.site)
}

// siteFacts is the config a connection learns from its site.
func siteFacts(st siteInfo) map[string]string {
	out := map[string]string{}
	if st.Name != "" {
		out[configSiteName] = st.Name
	}
	if st.TimeZone != "" {
		out[configTimeZone] = st.TimeZone
	}
	return out
}

// TestConnection checks the platform's API key against the site (GET
// /site/sites), then the staff login with one cheap client read (issuing
// or renewing a token as needed, and issuing a new one when Mindbody
// refuses the stored token; a token obtained is sent back as a credential
// update). A
// refused API key or staff login is OK false with Mindbody's reason. The
// account id is the site id. Errors: CodeInvalid naming config.site_id
// (not a number, or a site the API key may not use), app.api_key,
// config.username or password; CodeRateLimited, CodeUnavailable.
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	s, err := d.prepare(conn)
	if err != nil {
		return sdk.TestResult{}, err
	}
	st, err := s.siteInfo(ctx)
	if err == nil {
		if facts := siteFacts(st); len(facts) > 0 && (conn.Config[configSiteName] != facts[configSiteName] || conn.Config[configTimeZone] != facts[configTimeZone]) {
			sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Config: facts})
		}
		err = d.probeLogin(ctx, s)
	}
	if e := sdk.AsError(err); e != nil && e.Code == sdk.CodeAuth {
		return sdk.TestResult{Reason: e.Message}, nil
	}
	if err != nil {
		return sdk.TestResult{}, err
	}
	return sdk.TestResult{OK: true, AccountID: s.site}, nil
}

// probeLogin proves the staff login with one cheap client read, using
// the connection's token (renewed if due) or, when Mindbody refuses it, a
// token issued with the login; a token obtained is sent back as a
// credential update.
func (d *Driver) probeLogin(ctx context.Context, s *session) error {
	probe := func() error {
		return s.call(ctx, request{method: http.MethodGet, path: "/client/clients", query: url.Values{"request.limit": {"1"}}}, nil)
	}
	u, err := s.ensureToken(ctx)
	if err != nil {
		return err
	}
	err = probe()
	if sdk.CodeOf(err) == sdk.CodeAuth && u.IsZero() {
		// The stored token was refused (revoked, or the password changed):
		// the login itself is what the test is about.
		if u, err = s.issue(ctx); err == nil {
			err = probe()
		}
	}
	if !u.IsZero() {
		sdk.UpdateCredential(ctx, u)
	}
	return err
}

// Authorize turns the connect form's staff login into the secret to
// store: it checks the site with the API key, issues a staff token and
// answers the login with the token, its expiry, the site's name and time
// zone as config, and the site id as the account id. Mindbody connections
// have no OAuth code: a grant with one is CodeInvalid naming "code".
// Errors besides: those of TestConnection, with a refused login as
// CodeAuth.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if grant.Code != "" {
		return sdk.Authorization{}, sdk.Invalid("code", "Mindbody connections use a staff login (username and password), not an OAuth code")
	}
	s, err := d.prepare(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	st, err := s.siteInfo(ctx)
	if err != nil {
		return sdk.Authorization{}, err
	}
	u, err := s.issue(ctx)
	if err != nil {
		return sdk.Authorization{}, err
	}
	secret := map[string]string{}
	for k, v := range conn.Secret {
		secret[k] = v
	}
	for k, v := range u.Secret {
		secret[k] = v
	}
	return sdk.Authorization{Secret: secret, ExpiresAt: u.ExpiresAt, Config: siteFacts(st), AccountID: s.site}, nil
}

// Refresh renews the connection's staff token (POST /usertoken/renew),
// or issues a new one when it has expired, has been renewed seven times
// or Mindbody refuses to renew it, and answers the new token fields; the
// host merges them into the stored secret. Errors: those of open.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	s, err := d.prepare(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	tok := conn.Secret[secretToken]
	exp, _ := parseTime(conn.Secret[secretExpires])
	renewals, _ := strconv.Atoi(conn.Secret[secretRenewals])
	var u sdk.CredentialUpdate
	err = sdk.Errorf(sdk.CodeAuth, "no token to renew")
	if tok != "" && (exp.IsZero() || d.now().Before(exp)) && renewals < maxRenewals {
		if exp.IsZero() {
			exp = d.now()
		}
		u, err = s.renew(ctx, tok, exp, renewals)
		if c := sdk.CodeOf(err); c == sdk.CodeRateLimited || c == sdk.CodeUnavailable {
			return sdk.Authorization{}, err
		}
	}
	if err != nil {
		if u, err = s.issue(ctx); err != nil {
			return sdk.Authorization{}, err
		}
	}
	return sdk.Authorization{Secret: u.Secret, ExpiresAt: u.ExpiresAt, AccountID: s.site}, nil
}

// parseTime reads Mindbody's timestamps: RFC 3339 with any fraction, or
// without an offset (read as UTC), or a bare date. It reports false for
// anything else.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var (
	_ sdk.Authorizer = (*Driver)(nil)
	_ sdk.Refresher  = (*Driver)(nil)
)
