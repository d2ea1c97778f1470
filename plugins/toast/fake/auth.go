package fake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// headerRestaurant names the restaurant of a restaurant-scoped request.
const headerRestaurant = "Toast-Restaurant-External-ID"

// apiClient is a Toast API client: its credentials, scopes and the
// restaurants it may read.
type apiClient struct {
	id, secret  string
	scopes      []string
	restaurants []string
}

func (c *apiClient) can(scope string) bool { return slices.Contains(c.scopes, scope) }

// issued is an access token the fake handed out.
type issued struct {
	client  *apiClient
	expires time.Time
}

// loginRequest is Toast's AuthenticationRequest.
type loginRequest struct {
	ClientID       string `json:"clientId"`
	ClientSecret   string `json:"clientSecret"`
	UserAccessType string `json:"userAccessType"`
}

// handleLogin is POST /authentication/v1/authentication/login: a token
// for known client credentials (TOAST_MACHINE_CLIENT), 401 otherwise.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var in loginRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, badRequest("The request body is not an AuthenticationRequest"))
		return
	}
	if in.UserAccessType != "TOAST_MACHINE_CLIENT" {
		writeError(w, badRequest("userAccessType must be TOAST_MACHINE_CLIENT"))
		return
	}
	s.mu.Lock()
	c := s.clients[in.ClientID]
	if c == nil || c.secret != in.ClientSecret {
		s.mu.Unlock()
		writeError(w, newError(http.StatusUnauthorized, codeUnauthorized, "Authentication failed: the client credentials are not valid"))
		return
	}
	tok, exp := s.issue(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token": map[string]any{
			"tokenType": "Bearer", "scope": nil, "expiresIn": int64(exp.Sub(s.o.Now()).Seconds()),
			"accessToken": tok, "idToken": nil, "refreshToken": nil,
		},
		"status": "SUCCESS",
	})
}

// issue makes a token for c (s.mu held): a JWT-shaped string whose claims
// carry the client and its scopes, as Toast's do.
func (s *Server) issue(c *apiClient) (string, time.Time) {
	now := s.o.Now()
	exp := now.Add(s.o.TokenTTL)
	claims, _ := json.Marshal(map[string]any{"sub": c.id, "scope": strings.Join(c.scopes, " "), "iat": now.Unix(), "exp": exp.Unix()})
	var sig [24]byte
	_, _ = rand.Read(sig[:])
	enc := base64.RawURLEncoding
	tok := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(sig[:])
	s.tokens[tok] = issued{client: c, expires: exp}
	s.issuedCount++
	return tok, exp
}

// preissued is the partner token Connection hands out for a restaurant,
// as a host holds it after an earlier login.
func (s *Server) preissued(guid string) (string, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok, ok := s.pre[guid]; ok {
		if t, ok := s.tokens[tok]; ok {
			return tok, t.expires
		}
	}
	tok, exp := s.issue(s.clients[s.o.ClientID])
	s.pre[guid] = tok
	return tok, exp
}

// TokensIssued counts the tokens the fake has issued (logins and the
// tokens Connection hands out).
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuedCount
}

// Revoke makes the fake refuse every token issued so far (401), as when
// Toast revokes a client's tokens.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

type callerKey struct{}

// caller is the authenticated request's client and restaurant.
type caller struct {
	client     *apiClient
	restaurant *restaurantData
}

// authed wraps a restaurant-scoped handler: the bearer token must be one
// the fake issued and has not expired (401 otherwise), and the
// Toast-Restaurant-External-ID header must name a restaurant the client
// may read (403 otherwise).
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		t, known := s.tokens[strings.TrimSpace(tok)]
		guid := strings.ToLower(strings.TrimSpace(r.Header.Get(headerRestaurant)))
		rd := s.restaurants[guid]
		s.mu.Unlock()
		switch {
		case !ok || !known || !s.o.Now().Before(t.expires):
			writeError(w, unauthorized())
			return
		case rd == nil && strings.HasPrefix(r.URL.Path, "/restaurants/"):
			writeError(w, newError(http.StatusNotFound, codeNotFound, "Restaurant not found"))
			return
		case rd == nil || !slices.Contains(t.client.restaurants, guid):
			writeError(w, newError(http.StatusForbidden, codeForbidden, "Access to restaurant %s is not allowed for this client", guid))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller{client: t.client, restaurant: rd})))
	}
}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}
