package fake

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The fake's OAuth consent page, standing in for app.hubspot.com (a
// connection's app_base_url points at the fake): GET /oauth/authorize
// checks the app's client id and redirect URI and, as a user who clicks
// "Connect app" would, redirects to redirect_uri with a one-time code and
// the state. SetConsent makes the next sign-ins decline instead
// (error=access_denied), as a user who clicks "Cancel" would.

// consentPath is the consent page's path below app_base_url.
const consentPath = "/oauth/authorize"

// SetConsent makes the fake's consent page approve (true, the default) or
// decline sign-ins.
func (s *Server) SetConsent(approve bool) { s.denied.Store(!approve) }

// handleAuthorize serves GET /oauth/authorize.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case err != nil || !redirect.IsAbs():
		http.Error(w, "HubSpot: the redirect_uri is missing or not absolute", http.StatusBadRequest)
		return
	case q.Get("client_id") != s.o.ClientID:
		http.Error(w, "HubSpot: this app's client_id is not known", http.StatusBadRequest)
		return
	case q.Get("state") == "":
		http.Error(w, "HubSpot: the authorize request has no state", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if s.denied.Load() {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user declined to connect the app")
	} else {
		back.Set("code", s.IssueAuthCode(redirect.String()))
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// DelayRefresh holds the next refresh-token grant's answer for d after
// the fake has applied it, as a slow network would: a process that dies
// meanwhile never learns the new token.
func (s *Server) DelayRefresh(d time.Duration) { s.refreshDelay.Store(int64(d)) }

// RefreshGrants counts the refresh-token grants the token endpoint
// answered, by refresh token.
func (s *Server) RefreshGrants() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, req := range s.requests {
		if req.Method != http.MethodPost || req.Path != "/oauth/v1/token" {
			continue
		}
		f, _ := url.ParseQuery(req.Body)
		if f.Get("grant_type") == "refresh_token" {
			out[strings.TrimSpace(f.Get("refresh_token"))]++
		}
	}
	return out
}
