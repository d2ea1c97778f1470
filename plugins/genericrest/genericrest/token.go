package genericrest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Credential keys: the connect form's (config username and
// oauth_client_id; secret api_key, token, password and
// oauth_client_secret) and the client-credentials token the driver keeps
// in the secret through credential updates.
const (
	SecretAPIKey       = "api_key"
	SecretToken        = "token"
	SecretPassword     = "password"
	ConfigUsername     = "username"
	ConfigClientID     = "oauth_client_id"
	SecretClientSecret = "oauth_client_secret"
	// SecretAccessToken, SecretAccessExpiry and SecretAccessFor are the
	// token obtained with the client-credentials grant, when it expires
	// (RFC 3339) and a fingerprint of the client and token endpoint it was
	// obtained for (a changed client never reuses an old token).
	SecretAccessToken  = "access_token"
	SecretAccessExpiry = "access_token_expires_at"
	SecretAccessFor    = "access_token_for"
)

// renewMargin: a kept token that expires within it is renewed before use.
const renewMargin = time.Minute

// defaultTokenLifetime applies when a token answer has no expires_in.
const defaultTokenLifetime = time.Hour

// clientToken returns the session's client-credentials token: the one
// kept in the secret when it was obtained for this client and is not about
// to expire, else a new one, sent back to the host as a credential update.
func (s *session) clientToken(ctx context.Context) (string, error) {
	if s.token != "" {
		return s.token, nil
	}
	if tok := s.conn.Secret[SecretAccessToken]; tok != "" && s.conn.Secret[SecretAccessFor] == s.tokenFingerprint() {
		exp, err := time.Parse(time.RFC3339, s.conn.Secret[SecretAccessExpiry])
		if s.conn.Secret[SecretAccessExpiry] == "" || (err == nil && exp.Sub(s.d.now()) > renewMargin) {
			s.token = tok
			return tok, nil
		}
	}
	a, err := s.obtainToken(ctx)
	if err != nil {
		return "", err
	}
	sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Secret: a.Secret, ExpiresAt: a.ExpiresAt})
	return s.token, nil
}

// tokenFingerprint identifies the client and token endpoint a token is
// for (never the secret itself).
func (s *session) tokenFingerprint() string {
	h := sha256.New()
	for _, p := range []string{s.base, s.c.auth.TokenURL, strings.Join(s.c.auth.Scopes, " "),
		s.conn.Config[ConfigClientID], s.conn.Secret[SecretClientSecret]} {
		h.Write([]byte(strconv.Itoa(len(p)) + ":" + p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// tokenAnswer is an OAuth 2.0 token answer (RFC 6749 §5.1) or error
// (§5.2).
type tokenAnswer struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Error       string          `json:"error"`
	Description string          `json:"error_description"`
}

// obtainToken runs the client-credentials grant (RFC 6749 §4.4) and
// returns the secret entries to keep. Errors: CodeAuth for a missing or
// refused client, CodeInvalid naming definition.auth.scopes or
// token_url for a token endpoint that refuses the request's shape or
// answers no token, and the toolkit's transport errors.
func (s *session) obtainToken(ctx context.Context) (sdk.Authorization, error) {
	id, secret := s.conn.Config[ConfigClientID], s.conn.Secret[SecretClientSecret]
	if id == "" {
		id = s.conn.Secret[ConfigClientID]
	}
	if id == "" || secret == "" {
		return sdk.Authorization{}, sdk.Errorf(sdk.CodeAuth, "the connection needs %s and %s for the definition's %s auth", ConfigClientID, SecretClientSecret, AuthClientCredentials)
	}
	req, err := s.tokenRequest()
	if err != nil {
		return sdk.Authorization{}, err
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(s.c.auth.Scopes) > 0 {
		form.Set("scope", strings.Join(s.c.auth.Scopes, " "))
	}
	req.Header = http.Header{"Accept": {"application/json"}}
	if s.c.auth.ClientAuth == "body" {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	} else {
		req.Header.Set("Authorization", "Basic "+basic(url.QueryEscape(id), url.QueryEscape(secret)))
	}
	req.Method, req.Form, req.Secrets = http.MethodPost, form, provider.SecretsOf(s.conn)
	resp, err := s.http.Do(ctx, req)
	if err != nil {
		if strings.HasPrefix(s.c.auth.TokenURL, "/") {
			return sdk.Authorization{}, s.baseField(err)
		}
		return sdk.Authorization{}, fieldFor(err, "definition.auth.token_url")
	}
	var ans tokenAnswer
	_ = json.Unmarshal(resp.Body, &ans)
	if !resp.OK() || ans.Error != "" {
		return sdk.Authorization{}, s.tokenError(resp, ans, req.Secrets)
	}
	if ans.AccessToken == "" {
		return sdk.Authorization{}, sdk.Invalid("definition.auth.token_url", "answered %d without an access_token: is it the API's OAuth 2.0 token endpoint?", resp.Status)
	}
	if ans.TokenType != "" && !strings.EqualFold(ans.TokenType, "bearer") {
		return sdk.Authorization{}, sdk.Invalid("definition.auth.token_url", "issued a %q token; the driver sends bearer tokens only", provider.Excerpt([]byte(strconv.Quote(ans.TokenType))))
	}
	life := defaultTokenLifetime
	if n, err := strconv.ParseFloat(strings.Trim(string(ans.ExpiresIn), `"`), 64); err == nil && n > 0 && n < 1e8 {
		life = time.Duration(n * float64(time.Second))
	}
	exp := s.d.now().Add(life).UTC().Truncate(time.Second)
	s.token = ans.AccessToken
	return sdk.Authorization{ExpiresAt: exp, Secret: map[string]string{
		SecretAccessToken:  ans.AccessToken,
		SecretAccessExpiry: exp.Format(time.RFC3339),
		SecretAccessFor:    s.tokenFingerprint(),
	}}, nil
}

// tokenRequest addresses the token endpoint: a path below the base URL,
// or an absolute URL (its query kept).
func (s *session) tokenRequest() (provider.Request, error) {
	t := s.c.auth.TokenURL
	if strings.HasPrefix(t, "/") {
		return provider.Request{BaseURL: s.base, Path: t}, nil
	}
	u, err := url.Parse(t)
	if err != nil {
		return provider.Request{}, sdk.Invalid("definition.auth.token_url", "is not a URL")
	}
	return provider.Request{BaseURL: u.Scheme + "://" + u.Host, Path: u.EscapedPath(), Query: u.Query()}, nil
}

// tokenError classifies a refused token request: RFC 6749's client and
// grant errors are auth_error, a refused scope is invalid naming
// definition.auth.scopes, anything else as the status says.
func (s *session) tokenError(resp *provider.Response, ans tokenAnswer, secrets []string) error {
	msg := s.c.name + "'s token endpoint answered " + strconv.Itoa(resp.Status)
	if ans.Error != "" {
		msg += ": " + provider.Excerpt([]byte(strconv.Quote(ans.Error)))
		if ans.Description != "" {
			msg += " (" + provider.Excerpt([]byte(strconv.Quote(ans.Description))) + ")"
		}
	} else if x := provider.Excerpt(resp.Body); x != "" {
		msg += ": " + x
	}
	msg = provider.Redact(msg, secrets)
	switch ans.Error {
	case "invalid_client", "invalid_grant", "unauthorized_client", "access_denied":
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg}
	case "invalid_scope":
		return sdk.Invalid("definition.auth.scopes", "%s", msg)
	case "unsupported_grant_type", "invalid_request":
		return sdk.Invalid("definition.auth.token_url", "%s", msg)
	}
	e := provider.Classify(s.c.name+"'s token endpoint", resp)
	e.Message = msg
	return e
}

func basic(user, pass string) string {
	r := http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
