package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// authCodeTTL is how long an authorization code is accepted.
const authCodeTTL = 15 * time.Minute

type authCode struct {
	org               *org
	redirectURI       string
	challenge, method string
	expires           time.Time
}

type accessToken struct {
	org     *org
	expires time.Time
	family  string
}

type refreshToken struct {
	org     *org
	family  string
	retired bool // rotated away: presenting it again revokes the family
}

// issue creates an access token (and, unless family is given, a new
// refresh-token family) for g. Callers hold s.mu.
func (s *Server) issue(g *org, family string) (access, refresh string) {
	s.issued++
	access = g.id[:15] + "!AQ4AQ" + randomHex(24)
	if family == "" {
		family = randomHex(8)
		refresh = "5Aep861" + randomHex(28)
		s.refresh[refresh] = &refreshToken{org: g, family: family}
	}
	s.access[access] = &accessToken{org: g, expires: s.o.Now().Add(s.o.SessionTimeout), family: family}
	return access, refresh
}

// TokensIssued counts the access tokens the fake has issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// authenticate checks the bearer token of a REST request and returns its
// org: 401 INVALID_SESSION_ID for an unknown, expired or revoked one.
func (s *Server) authenticate(r *http.Request) (*org, *sfError) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth")) {
		return nil, invalidSession()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.access[strings.TrimSpace(token)]
	if at == nil || !s.o.Now().Before(at.expires) || s.revoked[at.family] {
		return nil, invalidSession()
	}
	return at.org, nil
}

// ExpireSessions ends every session issued so far, as the org's session
// timeout would: access tokens answer 401 INVALID_SESSION_ID, refresh
// tokens stay valid.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.o.Now().Add(-time.Second)
	for _, at := range s.access {
		at.expires = past
	}
}

// DenyAuthorization makes the authorize endpoint answer as if the user
// pressed Deny: a redirect with error=access_denied.
func (s *Server) DenyAuthorization(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = deny
}

// IssueAuthCode returns a one-time authorization code for a user of org
// (OrgA or OrgB) who consented at the authorize page; the token endpoint
// accepts it once with the same redirect_uri and, when challenge is set,
// the PKCE verifier whose S256 hash it is.
func (s *Server) IssueAuthCode(orgID, redirectURI, challenge string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCode(s.orgs[orgID], redirectURI, challenge, "S256")
}

func (s *Server) newCode(g *org, redirectURI, challenge, method string) string {
	code := "aPrx" + randomHex(30)
	s.codes[code] = &authCode{org: g, redirectURI: redirectURI, challenge: challenge, method: method,
		expires: s.o.Now().Add(authCodeTTL)}
	return code
}

// Grant returns a connection without a secret or account (config and app
// credentials only) and a grant the fake accepts once, with a PKCE
// verifier, as if the user of org A had just consented.
func (s *Server) Grant(t *testing.T) (sdk.Connection, sdk.Grant) {
	t.Helper()
	verifier := randomHex(32)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "https://crmhost.example/oauth/callback"
	code := s.IssueAuthCode(OrgA, redirect, base64.RawURLEncoding.EncodeToString(sum[:]))
	c := s.Connection()
	c.Secret, c.AccountID = nil, ""
	delete(c.Config, ConfigInstanceURL)
	return c, sdk.Grant{Code: code, RedirectURI: redirect, CodeVerifier: verifier}
}

// handleAuthorize serves GET /services/oauth2/authorize: the user of org A
// (or of the org whose username login_hint names) consents at once, and
// the browser is sent to redirect_uri with a code (or error=access_denied
// after DenyAuthorization).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != s.o.ClientID:
		http.Error(w, "error=invalid_client_id&error_description=client%20identifier%20invalid", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") == "" || (len(s.o.CallbackURLs) > 0 && !slices.Contains(s.o.CallbackURLs, q.Get("redirect_uri"))):
		http.Error(w, "error=redirect_uri_mismatch&error_description=redirect_uri%20must%20match%20configuration", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "error=unsupported_response_type&error_description=response%20type%20not%20supported", http.StatusBadRequest)
		return
	}
	cb, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "error=redirect_uri_mismatch", http.StatusBadRequest)
		return
	}
	out := cb.Query()
	s.mu.Lock()
	if s.deny {
		out.Set("error", "access_denied")
		out.Set("error_description", "end-user denied authorization")
	} else {
		g := s.orgs[OrgA]
		for _, o := range s.orgs {
			if hint := q.Get("login_hint"); hint != "" && strings.EqualFold(hint, o.username) {
				g = o
			}
		}
		method := q.Get("code_challenge_method")
		if q.Get("code_challenge") != "" && method == "" {
			method = "S256"
		}
		out.Set("code", s.newCode(g, q.Get("redirect_uri"), q.Get("code_challenge"), method))
	}
	s.mu.Unlock()
	if st := q.Get("state"); st != "" {
		out.Set("state", st)
	}
	cb.RawQuery = out.Encode()
	http.Redirect(w, r, cb.String(), http.StatusFound)
}

// handleToken serves POST /services/oauth2/token (form-encoded): the
// authorization_code and refresh_token grants, the client authenticated
// by client_id and client_secret in the form or HTTP Basic.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	f := r.PostForm
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	grant := f.Get("grant_type")
	switch {
	case grant != "authorization_code" && grant != "refresh_token":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	case id != s.o.ClientID:
		oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.o.ClientSecret)) != 1:
		oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *org
	var access, refresh string
	switch grant {
	case "authorization_code":
		c := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code"))
		switch {
		case c == nil || !s.o.Now().Before(c.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid authorization code")
			return
		case f.Get("redirect_uri") != c.redirectURI:
			oauthError(w, http.StatusBadRequest, "redirect_uri_mismatch", "redirect_uri must match configuration")
			return
		case c.challenge != "" && !pkceOK(c, f.Get("code_verifier")):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
			return
		}
		g = c.org
		access, refresh = s.issue(g, "")
	case "refresh_token":
		rt := s.refresh[f.Get("refresh_token")]
		switch {
		case rt == nil || s.revoked[rt.family]:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		case rt.retired:
			// A rotated refresh token presented again: someone holds a
			// copy. Salesforce revokes the whole family.
			s.revoked[rt.family] = true
			oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		}
		g = rt.org
		access, _ = s.issue(g, rt.family)
		if s.o.RotateRefreshTokens {
			rt.retired = true
			refresh = "5Aep861" + randomHex(28)
			s.refresh[refresh] = &refreshToken{org: g, family: rt.family}
		}
	}
	writeJSON(w, http.StatusOK, s.tokenResponse(g, access, refresh))
}

func pkceOK(c *authCode, verifier string) bool {
	if verifier == "" {
		return false
	}
	want := verifier
	if c.method != "plain" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) == 1
}

// tokenResponse is Salesforce's token answer: no expires_in; the identity
// URL names org and user; signature is base64 HMAC-SHA256(client secret,
// id + issued_at). Callers hold s.mu.
func (s *Server) tokenResponse(g *org, access, refresh string) map[string]any {
	issued := strconv.FormatInt(s.o.Now().UnixMilli(), 10)
	idURL := s.URL + "/id/" + g.id + "/" + g.userID
	key := s.o.ClientSecret
	if s.o.SigningSecret != "" {
		key = s.o.SigningSecret
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(idURL + issued))
	instance := s.URL
	if s.o.InstanceURL != "" {
		instance = s.o.InstanceURL
	}
	resp := map[string]any{
		"access_token": access, "signature": base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"scope": "refresh_token api", "instance_url": instance, "id": idURL,
		"token_type": "Bearer", "issued_at": issued,
	}
	if refresh != "" {
		resp["refresh_token"] = refresh
	}
	for _, k := range s.o.OmitTokenFields {
		delete(resp, k)
	}
	return resp
}

// handleRevoke serves POST /services/oauth2/revoke: the token's family
// (its refresh token and every access token issued from it) is revoked.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.refresh[tok] != nil:
		s.revoked[s.refresh[tok].family] = true
	case s.access[tok] != nil:
		s.revoked[s.access[tok].family] = true
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_token_type", "this token type is not supported")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handleUserInfo serves GET /services/oauth2/userinfo: the session's user
// and org (OpenID Connect claims).
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	g, e := s.authenticate(r)
	if e != nil {
		w.Header().Set("WWW-Authenticate", "Bearer error=\"invalid_token\"")
		http.Error(w, "Bad_OAuth_Token", http.StatusForbidden)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": s.URL + "/id/" + g.id + "/" + g.userID, "user_id": g.userID, "organization_id": g.id,
		"preferred_username": g.username, "email": g.username, "email_verified": true,
		"urls": map[string]string{"rest": s.URL + "/services/data/v{version}/"},
	})
}
