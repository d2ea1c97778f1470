package athena

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenScope is the scope athenahealth's client-credentials grant takes for
// the athenaOne (MDP) API.
const tokenScope = "athena/service/Athenanet.MDP.*"

// tokenPath is athenahealth's OAuth token endpoint, on the API host.
const tokenPath = "/oauth2/v1/token"

// tokenMargin is how long before its expiry a token is renewed.
const tokenMargin = 2 * time.Minute

// tokenLifetime is athenahealth's token lifetime, assumed when a token
// answer carries no expires_in.
const tokenLifetime = time.Hour

// token returns the token for a call on conn: the stored one unless it
// expires within tokenMargin, else a new one obtained with the app
// credentials and handed to the host as a credential update. A stored
// token without a known expiry (pasted by an operator) is used as it is;
// athenahealth says when it has expired (CodeAuth, and the host refreshes).
func (d *Driver) token(ctx context.Context, conn sdk.Connection, origin string) (string, error) {
	tok := conn.Secret[secretToken]
	exp, known := tokenExpiry(conn)
	if tok != "" && (!known || d.now().Add(tokenMargin).Before(exp)) {
		return tok, nil
	}
	if !hasApp(conn) {
		if tok != "" {
			return tok, nil
		}
		return "", sdk.Invalid("app."+sdk.AppClientID, "is required: the platform's athenahealth app credentials (client id and secret) obtain the practice's token; an operator sets them for the athena driver")
	}
	t, e, err := d.obtain(ctx, conn, origin)
	if err != nil {
		if tok != "" && known && d.now().Before(exp) {
			return tok, nil // still valid for a while: renew on a later call
		}
		return "", err
	}
	sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: tokenSecret(t, e), ExpiresAt: e})
	return t, nil
}

func hasApp(conn sdk.Connection) bool {
	return strings.TrimSpace(conn.App[sdk.AppClientID]) != "" || conn.App[sdk.AppClientSecret] != ""
}

func tokenExpiry(conn sdk.Connection) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, conn.Secret[secretTokenExpiry])
	return t, err == nil
}

func tokenSecret(tok string, exp time.Time) map[string]string {
	return map[string]string{secretToken: tok, secretTokenExpiry: exp.UTC().Format(time.RFC3339)}
}

// obtain runs the client-credentials grant at {origin}/oauth2/v1/token with
// the app credentials in a Basic header, and answers the token and its
// expiry. Errors: CodeInvalid naming app.client_id or app.client_secret
// when one is missing; CodeAuth when athenahealth refuses the credentials
// or answers no token; CodeRateLimited (token requests are limited per
// minute); CodeUnavailable.
func (d *Driver) obtain(ctx context.Context, conn sdk.Connection, origin string) (string, time.Time, error) {
	id := strings.TrimSpace(conn.App[sdk.AppClientID])
	if id == "" {
		return "", time.Time{}, sdk.Invalid("app."+sdk.AppClientID, "is required: the platform's athenahealth app's client id (an operator sets the driver's app credentials)")
	}
	secret := conn.App[sdk.AppClientSecret]
	if secret == "" {
		return "", time.Time{}, sdk.Invalid("app."+sdk.AppClientSecret, "is required: the platform's athenahealth app's client secret (an operator sets the driver's app credentials)")
	}
	u, err := provider.JoinURL(origin, tokenPath, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: u.String(),
		Scopes: []string{tokenScope}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, d.http.HTTPClient(ctx)))
	if err != nil {
		return "", time.Time{}, d.tokenError(ctx, err, provider.SecretsOf(conn))
	}
	return tok.AccessToken, d.now().Add(lifetime(tok)), nil
}

// lifetime is a token answer's expires_in, a number or (as athenahealth
// has been seen to send it) a string of digits; tokenLifetime when absent.
func lifetime(tok *oauth2.Token) time.Duration {
	var secs float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = v
	case string:
		secs, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
	}
	if secs <= 0 || secs > 366*24*3600 {
		return tokenLifetime
	}
	return time.Duration(secs) * time.Second
}

// tokenError classifies a failed token request: a 429 is CodeRateLimited
// with the Retry-After, or the rest of the minute (athenahealth refuses
// token requests over its per-minute limit until the minute ends); 5xx and
// redirects CodeUnavailable; any other refusal (invalid_client,
// unauthorized_client, invalid_scope) CodeAuth; an answer without a token
// CodeAuth; an unreadable answer CodeUnavailable; transport failures the
// toolkit's. Secrets are redacted.
func (d *Driver) tokenError(ctx context.Context, err error, secrets []string) *sdk.Error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		detail := strings.TrimSpace(strings.Trim(re.ErrorCode+": "+re.ErrorDescription, ": "))
		if detail == "" {
			detail = provider.Excerpt(re.Body)
		}
		if detail == "" {
			detail = strconv.Itoa(status) + " " + http.StatusText(status)
		}
		var e *sdk.Error
		switch {
		case status == http.StatusTooManyRequests:
			retry, ok := provider.RetryAfter(re.Response.Header, d.now())
			if !ok {
				retry = restOfMinute(d.now())
			}
			e = sdk.RateLimited(retry, "athenahealth refused another token request this minute (%s); tokens last an hour, so this passes", detail)
		case status >= 500 || (status >= 300 && status <= 399):
			e = sdk.Errorf(sdk.CodeUnavailable, "athenahealth's token endpoint answered %d %s", status, http.StatusText(status))
			e.RetryAfter, _ = provider.RetryAfter(re.Response.Header, d.now())
		default:
			e = sdk.Errorf(sdk.CodeAuth, "athenahealth refused the platform's client credentials (%s): check the athena driver's app credentials and that the app may use the athenaOne API", detail)
		}
		e.Message = provider.Redact(e.Message, secrets)
		return e
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "missing access_token"):
		return sdk.Errorf(sdk.CodeAuth, "athenahealth's token endpoint answered without an access_token: the app's client credentials were accepted but no token was issued; check the app's API access")
	case strings.Contains(msg, "cannot parse"):
		return sdk.Errorf(sdk.CodeUnavailable, "athenahealth's token endpoint answered something that is not a token response")
	}
	return d.http.TransportError(ctx, err, secrets)
}

// restOfMinute is the time left in the current minute.
func restOfMinute(now time.Time) time.Duration {
	return now.Truncate(time.Minute).Add(time.Minute).Sub(now)
}

// ping proves the session's token reaches its practice: GET
// /v1/{practiceid}/ping answers {"pong":"true"}.
func (s *session) ping(ctx context.Context) error {
	return s.do(ctx, call{path: "/ping"}, nil)
}

// TestConnection proves the connection with GET /v1/{practiceid}/ping,
// obtaining a token first when the connection holds none (sent back as a
// credential update). The account id is the practice id. A refused token,
// client or practice, and a practice that does not exist, are OK false with
// athenahealth's reason. Errors: CodeInvalid for a malformed practice id
// or api_host, or missing app credentials; CodeRateLimited;
// CodeUnavailable.
func (d *Driver) TestConnection(ctx context.Context, conn sdk.Connection) (sdk.TestResult, error) {
	s, err := d.open(ctx, conn)
	if err == nil {
		err = s.ping(ctx)
	}
	switch sdk.CodeOf(err) {
	case "":
		return sdk.TestResult{OK: true, AccountID: s.practice}, nil
	case sdk.CodeAuth:
		return sdk.TestResult{Reason: sdk.AsError(err).Message}, nil
	case sdk.CodeNotFound:
		return sdk.TestResult{Reason: "athenahealth has no practice " + conn.Config[configPracticeID] + " (" + sdk.AsError(err).Message + ")"}, nil
	}
	return sdk.TestResult{}, err
}

// Authorize connects a practice: athenahealth uses the client-credentials
// grant, so there is no authorization code. It obtains a token with the
// app credentials (or, without them, checks a token an operator pasted),
// proves it reaches the practice (GET /ping), and subscribes the practice's
// changed-data feeds (POST /patients/changed/subscription and
// /appointments/changed/subscription), which ListRecent reads. It answers
// the token with its expiry and the practice id as the account. Errors:
// CodeInvalid for a grant carrying a code, a malformed or unknown practice
// id (naming config.practice_id), missing app credentials; CodeAuth for
// refused client credentials, token or practice; CodeRateLimited;
// CodeUnavailable.
func (d *Driver) Authorize(ctx context.Context, conn sdk.Connection, grant sdk.Grant) (sdk.Authorization, error) {
	if grant.Code != "" {
		return sdk.Authorization{}, sdk.Invalid("code", "athenahealth connects with the client-credentials grant: there is no authorization code to exchange")
	}
	o, err := origin(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	p, err := practiceID(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	out := sdk.Authorization{AccountID: p}
	s := &session{d: d, conn: conn, origin: o, practice: p}
	if hasApp(conn) {
		tok, exp, err := d.obtain(ctx, conn, o)
		if err != nil {
			return sdk.Authorization{}, err
		}
		s.token, out.Secret, out.ExpiresAt = tok, tokenSecret(tok, exp), exp
	} else if s.token = conn.Secret[secretToken]; s.token != "" {
		out.Secret = map[string]string{secretToken: s.token}
	} else {
		return sdk.Authorization{}, sdk.Invalid("app."+sdk.AppClientID, "is required: the platform's athenahealth app credentials obtain the practice's token (or paste an access token)")
	}
	if err := s.ping(ctx); err != nil {
		if sdk.CodeOf(err) == sdk.CodeNotFound {
			return sdk.Authorization{}, sdk.Invalid("config."+configPracticeID, "athenahealth has no practice %s (%s)", p, sdk.AsError(err).Message)
		}
		return sdk.Authorization{}, err
	}
	for _, feed := range []string{"patients", "appointments"} {
		if err := s.subscribe(ctx, feed); err != nil {
			return sdk.Authorization{}, err
		}
	}
	return out, nil
}

// Refresh obtains a new token with the app credentials; the host merges it
// into the stored secret. Errors: CodeUnsupported when the driver has no
// app credentials (a pasted token cannot be renewed: paste a new one);
// CodeAuth, CodeRateLimited, CodeUnavailable as for Authorize.
func (d *Driver) Refresh(ctx context.Context, conn sdk.Connection) (sdk.Authorization, error) {
	if !hasApp(conn) {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeUnsupported,
			"the athena driver has no app credentials, so the connection's token cannot be renewed: set the platform's athenahealth client id and secret, or paste a new token")
	}
	o, err := origin(conn)
	if err != nil {
		return sdk.Authorization{}, err
	}
	tok, exp, err := d.obtain(ctx, conn, o)
	if err != nil {
		return sdk.Authorization{}, err
	}
	return sdk.Authorization{Secret: tokenSecret(tok, exp), ExpiresAt: exp}, nil
}

var (
	_ sdk.Authorizer = (*Driver)(nil)
	_ sdk.Refresher  = (*Driver)(nil)
)
