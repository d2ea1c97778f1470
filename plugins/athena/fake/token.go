package fake

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Scope is the scope athenahealth's client-credentials grant takes for the
// athenaOne API.
const Scope = "athena/service/Athenanet.MDP.*"

// tokenWindow counts the token requests of the current minute.
type tokenWindow struct {
	minute time.Time
	n      int
}

// mint issues a token valid for the token lifetime; s.mu is held (or the
// server is not serving yet).
func (s *Server) mint(now time.Time) string {
	tok := "athena-fake-" + rand.Text()
	s.tokens[tok] = now.Add(s.o.TokenLifetime)
	return tok
}

// handleToken is POST /oauth2/v1/token: the client-credentials grant with
// the app's credentials in a Basic header (form-encoded, as RFC 6749
// asks). A wrong or missing client is 401 invalid_client; another grant
// type 400 unsupported_grant_type; another scope 400 invalid_scope. Over
// TokenLimit requests a minute, it answers 429 until the minute ends
// (without Retry-After). A token answer is {"access_token", "token_type":
// "Bearer", "expires_in": "3600", "scope"}, expires_in as a string, as
// athenahealth has been seen to send it.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if ok {
		var e1, e2 error
		id, e1 = url.QueryUnescape(id)
		secret, e2 = url.QueryUnescape(secret)
		ok = e1 == nil && e2 == nil
	}
	if !ok || id != s.o.ClientID || secret != s.o.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed."})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if r.PostForm.Get("scope") != Scope {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_scope", "error_description": "The requested scope is invalid, unknown, or malformed."})
		return
	}
	s.mu.Lock()
	now := s.o.Now()
	if m := now.Truncate(time.Minute); !m.Equal(s.window.minute) {
		s.window = tokenWindow{minute: m}
	}
	if s.window.n >= s.o.TokenLimit {
		s.mu.Unlock()
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "rate_limit_exceeded",
			"error_description": "Too many token requests; try again in the next minute."})
		return
	}
	s.window.n++
	s.issued++
	tok := s.mint(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "token_type": "Bearer",
		"expires_in": strconv.Itoa(int(s.o.TokenLifetime / time.Second)), "scope": Scope})
}

// TokensIssued counts the tokens the token endpoint has issued (the
// connections' own tokens, issued when the fake started, are not counted).
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Revoke makes a token unknown, as athenahealth does with a revoked one.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// RevokeAll revokes every token, as athenahealth does when the app's
// access is reset.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}
