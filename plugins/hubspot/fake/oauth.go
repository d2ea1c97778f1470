package fake

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// accessTokenTTL is how long HubSpot's OAuth access tokens live.
const accessTokenTTL = 30 * time.Minute

var grantedScopes = []string{
	"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write",
	"crm.objects.deals.read", "crm.objects.deals.write", "tickets",
	"crm.schemas.contacts.read", "crm.schemas.deals.read",
}

func invalidAuth() *apiError {
	return newError(http.StatusUnauthorized, catInvalidAu,
		"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
}

// expiredAuth is HubSpot's 401 for an OAuth token that expired ago.
func expiredAuth(ago time.Duration) *apiError {
	return newError(http.StatusUnauthorized, catExpiredAu,
		"The OAuth token used to make this call expired %d second(s) ago.", max(int(ago/time.Second), 1))
}

// authCode is an issued authorization code: where it may be redeemed and
// which portal it grants.
type authCode struct {
	redirect string
	portal   *portal
}

// accessToken is an issued OAuth access token.
type accessToken struct {
	expires time.Time
	portal  *portal
}

// authenticate checks the bearer token: a portal's private-app token or a
// live OAuth access token. It returns the token and its portal.
func (s *Server) authenticate(r *http.Request) (string, *portal, *apiError) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", nil, invalidAuth()
	}
	if pt := s.privatePortal(token); pt != nil {
		return token, pt, nil
	}
	s.mu.Lock()
	at, known := s.access[token]
	now := s.o.Now()
	s.mu.Unlock()
	switch {
	case !known:
		return "", nil, invalidAuth()
	case !now.Before(at.expires):
		return "", nil, expiredAuth(now.Sub(at.expires))
	}
	return token, at.portal, nil
}

// IssueAuthCode returns a one-time authorization code for the first
// portal, as HubSpot's authorize page would hand to redirectURI; POST
// /oauth/v1/token accepts it once, with the same redirect_uri.
func (s *Server) IssueAuthCode(redirectURI string) string {
	code := correlationID()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = authCode{redirect: redirectURI, portal: s.portals[0]}
	return code
}

// Grant returns a connection without a secret (config and the app's
// OAuth client) and an authorization code for the first portal, redeemable
// once with its redirect URI: what the host holds when a user has just
// approved the app.
func (s *Server) Grant(*testing.T) (sdk.Connection, sdk.Grant) {
	const redirect = "https://crmhost.test/oauth/callback"
	return s.appConnection(), sdk.Grant{Code: s.IssueAuthCode(redirect), RedirectURI: redirect}
}

// ExpireAccessTokens expires every OAuth access token issued so far: they
// now answer 401 EXPIRED_AUTHENTICATION. Refresh tokens stay valid.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.o.Now().Add(-time.Second)
	for tok, at := range s.access {
		if at.expires.After(past) {
			at.expires = past
			s.access[tok] = at
		}
	}
}

// oauthError is the token endpoint's 400: HubSpot's own status/message
// plus the RFC 6749 error/error_description it added in 2026.
func oauthError(w http.ResponseWriter, status, rfcError, message string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"status": status, "message": message, "correlationId": correlationID(),
		"error": rfcError, "error_description": message,
	})
}

// handleToken serves POST /oauth/v1/token (form-encoded): the
// authorization_code, refresh_token and client_credentials grants.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "BAD_REQUEST", "invalid_request", "malformed form body")
		return
	}
	f := r.Form
	grant := f.Get("grant_type")
	switch {
	case grant != "authorization_code" && grant != "refresh_token" && grant != "client_credentials":
		oauthError(w, "BAD_GRANT_TYPE", "unsupported_grant_type", "missing or unknown grant type")
		return
	case f.Get("client_id") != s.o.ClientID:
		oauthError(w, "BAD_CLIENT_ID", "invalid_client", "missing or invalid client id")
		return
	case f.Get("client_secret") != s.o.ClientSecret:
		oauthError(w, "BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	resp := map[string]any{"token_type": "bearer", "expires_in": int(accessTokenTTL / time.Second),
		"user_id": userID, "scopes": grantedScopes, "token_use": "access_token"}
	pt := s.portals[0]
	switch grant {
	case "authorization_code":
		code := f.Get("code")
		ac, ok := s.codes[code]
		if !ok {
			oauthError(w, "BAD_AUTH_CODE", "invalid_grant", "missing or unknown auth code")
			return
		}
		if f.Get("redirect_uri") != ac.redirect {
			oauthError(w, "BAD_REDIRECT_URI", "invalid_grant", "redirect_uri does not match the one used to get the auth code")
			return
		}
		delete(s.codes, code)
		pt = ac.portal
		rt := "na1-" + correlationID()
		s.refresh[rt] = pt
		resp["refresh_token"] = rt
	case "refresh_token":
		rt := f.Get("refresh_token")
		if s.refresh[rt] == nil {
			oauthError(w, "BAD_REFRESH_TOKEN", "invalid_grant", "missing or unknown refresh token")
			return
		}
		pt = s.refresh[rt]
		resp["refresh_token"] = rt // HubSpot keeps the refresh token
	case "client_credentials":
		resp["token_use"] = "client_credentials"
	}
	resp["hub_id"] = pt.id
	at := "CO" + randomToken(32)
	s.access[at] = accessToken{expires: s.o.Now().Add(accessTokenTTL), portal: pt}
	resp["access_token"] = at
	if grant != "refresh_token" {
	} else if d := time.Duration(s.refreshDelay.Swap(0)); d > 0 {
		s.mu.Unlock()
		s.sleep(r, d)
		s.mu.Lock()
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleTokenInfo serves GET /oauth/v1/access-tokens/{token}. It needs no
// bearer token, as on HubSpot.
func (s *Server) handleTokenInfo(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	at, ok := s.access[token]
	now := s.o.Now()
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, newError(http.StatusNotFound, catNotFound, "Token not found"))
		return
	case !now.Before(at.expires):
		writeError(w, expiredAuth(now.Sub(at.expires)))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token": token, "user": userEmail, "hub_domain": hubDomain, "scopes": grantedScopes,
		"hub_id": at.portal.id, "app_id": appID, "expires_in": int(at.expires.Sub(now) / time.Second),
		"user_id": userID, "token_type": "access", "is_private_distribution": false,
	})
}
