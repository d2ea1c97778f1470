package fake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// Zoho's token rules, as the fake enforces them.
const (
	accessTTL = time.Hour
	codeTTL   = 2 * time.Minute
	// maxRefreshPerUser: Zoho keeps at most 20 refresh tokens per user
	// and deletes the oldest when a 21st is issued.
	maxRefreshPerUser = 20
	// maxAccessPerRefresh: at most 30 live access tokens per refresh
	// token; the oldest is revoked.
	maxAccessPerRefresh = 30
	// refreshBurst per refreshWindow: about 10 access tokens per 10
	// minutes per refresh token, then "Access Denied".
	refreshBurst  = 10
	refreshWindow = 10 * time.Minute
)

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

type accessToken struct {
	org     string
	expires time.Time
	refresh string
}

type refreshToken struct {
	org    string
	issued time.Time
	grants []time.Time // access tokens issued, for the burst limit
	access []string    // live access tokens, oldest first
}

type authCode struct {
	org, redirect, challenge string
	expires                  time.Time
}

// authState is the accounts server's state. The fake's server mutex
// guards it.
type authState struct {
	access  map[string]accessToken
	refresh map[string]*refreshToken
	codes   map[string]authCode
	issued  int
}

func newAuthState() authState {
	return authState{access: map[string]accessToken{}, refresh: map[string]*refreshToken{}, codes: map[string]authCode{}}
}

// staticToken is an org's long-lived access token for tests (Zoho's expire
// after an hour; these only when ExpireAccessTokens says so).
func staticToken(org string) string {
	return "1000.static" + hex.EncodeToString([]byte(org)) + ".0123456789abcdef0123456789abcdef"
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ensureRefresh returns a refresh token of org, issuing one if it has
// none. Callers hold s.mu.
func (a *authState) ensureRefresh(org string, now time.Time) string {
	for tok, rt := range a.refresh {
		if rt.org == org {
			return tok
		}
	}
	return a.newRefresh(org, now)
}

// newRefresh issues a refresh token, deleting the org user's oldest past
// 20. Callers hold s.mu.
func (a *authState) newRefresh(org string, now time.Time) string {
	var mine []string
	for tok, rt := range a.refresh {
		if rt.org == org {
			mine = append(mine, tok)
		}
	}
	slices.SortFunc(mine, func(x, y string) int { return a.refresh[x].issued.Compare(a.refresh[y].issued) })
	for len(mine) >= maxRefreshPerUser {
		a.revokeRefresh(mine[0])
		mine = mine[1:]
	}
	tok := "1000." + random(16) + "." + random(16)
	a.refresh[tok] = &refreshToken{org: org, issued: now}
	return tok
}

func (a *authState) revokeRefresh(tok string) {
	if rt := a.refresh[tok]; rt != nil {
		for _, at := range rt.access {
			delete(a.access, at)
		}
	}
	delete(a.refresh, tok)
}

// newAccess issues an access token under refresh token rt. Callers hold
// s.mu.
func (a *authState) newAccess(rtTok string, now time.Time) string {
	rt := a.refresh[rtTok]
	at := "1000." + random(16) + "." + random(16)
	a.access[at] = accessToken{org: rt.org, expires: now.Add(accessTTL), refresh: rtTok}
	rt.access = append(rt.access, at)
	if len(rt.access) > maxAccessPerRefresh {
		delete(a.access, rt.access[0])
		rt.access = rt.access[1:]
	}
	rt.grants = append(rt.grants, now)
	a.issued++
	return at
}

// authenticate checks "Authorization: Zoho-oauthtoken <token>" and
// answers the token's org.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || scheme != "Zoho-oauthtoken" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.auth.access[strings.TrimSpace(tok)]
	if !ok || !s.o.Now().Before(at.expires) {
		return "", false
	}
	return at.org, true
}

// IssueAuthCode returns a one-time authorization code for org, as Zoho's
// consent page hands it to redirectURI; POST /oauth/v2/token accepts it
// once, within two minutes, with the same redirect_uri (and, when
// challenge is set, a PKCE verifier whose S256 is challenge).
func (s *Server) IssueAuthCode(org, redirectURI, challenge string) string {
	code := "1000." + random(16) + "." + random(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth.codes[code] = authCode{org: org, redirect: redirectURI, challenge: challenge, expires: s.o.Now().Add(codeTTL)}
	return code
}

// Grant returns a connection to org A without a secret (config and app
// credentials only) and a code the fake accepts once, with a PKCE
// verifier, as if the user had just consented.
func (s *Server) Grant(t *testing.T) (sdk.Connection, sdk.Grant) {
	t.Helper()
	verifier := random(32)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "https://crmhost.example/oauth/callback"
	code := s.IssueAuthCode(OrgA, redirect, base64.RawURLEncoding.EncodeToString(sum[:]))
	c := s.Connection()
	c.Secret, c.AccountID = nil, ""
	delete(c.Config, "api_domain")
	return c, sdk.Grant{Code: code, RedirectURI: redirect, CodeVerifier: verifier}
}

// ExpireAccessTokens expires every access token (the static ones too):
// they now answer 401 INVALID_TOKEN. Refresh tokens stay valid.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.o.Now().Add(-time.Second)
	for tok, at := range s.auth.access {
		at.expires = past
		s.auth.access[tok] = at
	}
}

// TokensIssued counts the access tokens the accounts server has issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auth.issued
}

// tokenError is Zoho's token error: HTTP 200 with {"error": code}.
func tokenError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"error": code})
}

// handleToken serves POST /oauth/v2/token (parameters in the form or the
// query): the authorization_code and refresh_token grants. Errors come
// back as Zoho sends them, with HTTP 200: invalid_client, invalid_code,
// invalid_redirect_uri, and "Access Denied" (HTTP 400) past 10 refreshes
// in 10 minutes.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	f := r.Form
	if f.Get("client_id") != s.o.ClientID || f.Get("client_secret") != s.o.ClientSecret {
		tokenError(w, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	resp := map[string]any{"api_domain": s.URL, "token_type": "Bearer", "expires_in": int(accessTTL / time.Second),
		"scope": "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.org.READ ZohoCRM.notifications.ALL"}
	switch f.Get("grant_type") {
	case "authorization_code":
		code, ok := s.auth.codes[f.Get("code")]
		delete(s.auth.codes, f.Get("code")) // single use, also when refused
		switch {
		case !ok || !now.Before(code.expires):
			tokenError(w, "invalid_code")
			return
		case f.Get("redirect_uri") != code.redirect:
			tokenError(w, "invalid_redirect_uri")
			return
		case code.challenge != "" && !pkceOK(f.Get("code_verifier"), code.challenge):
			tokenError(w, "invalid_code")
			return
		}
		rt := s.auth.newRefresh(code.org, now)
		resp["refresh_token"] = rt
		resp["access_token"] = s.auth.newAccess(rt, now)
	case "refresh_token":
		rt := s.auth.refresh[f.Get("refresh_token")]
		if rt == nil {
			tokenError(w, "invalid_code")
			return
		}
		recent := 0
		for _, at := range rt.grants {
			if now.Sub(at) < refreshWindow {
				recent++
			}
		}
		if recent >= refreshBurst {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Access Denied", "status": "failure",
				"error_description": "You have made too many requests continuously. Please try again after some time."})
			return
		}
		resp["access_token"] = s.auth.newAccess(f.Get("refresh_token"), now)
	default:
		tokenError(w, "unsupported_grant_type")
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func pkceOK(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

// handleAuthorize serves GET /oauth/v2/auth, Zoho's consent page, as if
// org A's user consented at once: it redirects to redirect_uri with a
// code, location and accounts-server (and the state), as Zoho does.
// access_type=offline is required for a refresh token; the fake insists.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != s.o.ClientID:
		http.Error(w, "Invalid Client ID", http.StatusBadRequest)
		return
	case err != nil || redirect.Scheme == "" || q.Get("response_type") != "code":
		http.Error(w, "Invalid Redirect Uri or response_type", http.StatusBadRequest)
		return
	case q.Get("access_type") != "offline":
		http.Error(w, "the fake Zoho issues refresh tokens only with access_type=offline", http.StatusBadRequest)
		return
	}
	code := s.IssueAuthCode(OrgA, q.Get("redirect_uri"), q.Get("code_challenge"))
	rq := redirect.Query()
	rq.Set("code", code)
	rq.Set("location", "us")
	rq.Set("accounts-server", s.URL)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}
