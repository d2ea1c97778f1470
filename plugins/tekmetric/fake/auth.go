package fake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// tokenPath is Tekmetric's token endpoint.
const tokenPath = "/api/v1/oauth/token"

// client is a partner app: its credentials, the shops that authorized it
// and its current token.
type client struct {
	id, secret string
	shops      []int64
	token      string
}

func (c *client) reaches(shop int64) bool { return slices.Contains(c.shops, shop) }

func (c *client) scope() string {
	ids := make([]string, 0, len(c.shops))
	for _, id := range c.shops {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	return strings.Join(ids, " ")
}

// token is an access token; it is valid until revoked.
type token struct {
	client  *client
	revoked bool
}

// shop is a Tekmetric shop.
type shop struct {
	id                  int64
	name, phone, email  string
	address1, city, zip string
}

func (sh *shop) json() map[string]any {
	return map[string]any{
		"id": sh.id, "name": sh.name, "nickname": "", "phone": sh.phone, "email": sh.email,
		"website": "www." + strings.ToLower(strings.ReplaceAll(sh.name, " ", "")) + ".example",
		"address": map[string]any{"id": sh.id*7 + 79000, "address1": sh.address1, "address2": "", "city": sh.city,
			"state": "TX", "zip": sh.zip, "streetAddress": sh.address1, "fullAddress": sh.address1 + ", " + sh.city + ", TX " + sh.zip},
		"roCustomLabelEnabled": false,
	}
}

// seedAccounts creates the shops and the partner app, which shops A and B
// have authorized, with its first token.
func (s *Server) seedAccounts() {
	for _, sh := range []*shop{
		{id: ShopA, name: "Demo Auto A", phone: "713-555-0101", email: "a@demoauto.example", address1: "5704 Southwest Freeway", city: "Houston", zip: "77057"},
		{id: ShopB, name: "Demo Auto B", phone: "713-555-0202", email: "b@demoauto.example", address1: "1200 Main Street", city: "Houston", zip: "77002"},
		{id: ShopOther, name: "Another Partner's Shop", phone: "713-555-0303", email: "c@elsewhere.example", address1: "1 Elm Street", city: "Austin", zip: "73301"},
	} {
		s.shops[sh.id] = sh
	}
	c := &client{id: DefaultClientID, secret: DefaultClientSecret, shops: []int64{ShopA, ShopB}}
	s.clients[c.id] = c
	c.token = s.newToken(c)
}

// newToken mints a token for c. Callers hold s.mu (or own s).
func (s *Server) newToken(c *client) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	v := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	s.tokens[v] = &token{client: c}
	return v
}

// currentToken is the default partner app's valid token, minted anew when
// the last one was revoked.
func (s *Server) currentToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.validToken(s.clients[DefaultClientID])
}

// validToken returns c's token, minting one when it has none or it was
// revoked (Tekmetric answers the same token until it is revoked). Callers
// hold s.mu.
func (s *Server) validToken(c *client) string {
	if t := s.tokens[c.token]; c.token == "" || t == nil || t.revoked {
		c.token = s.newToken(c)
	}
	return c.token
}

// RevokeToken revokes an access token, as Tekmetric does on request.
func (s *Server) RevokeToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[tok]; t != nil {
		t.revoked = true
	}
}

// DisconnectShop removes a shop from the partner app's scope, as DELETE
// /api/v1/shops/{id}/scope (or the shop owner) does.
func (s *Server) DisconnectShop(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[DefaultClientID]
	c.shops = slices.DeleteFunc(c.shops, func(x int64) bool { return x == id })
}

// handleToken is POST /api/v1/oauth/token: HTTP Basic client credentials
// and grant_type=client_credentials answer the app's token and scope.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := basicAuth(r.Header.Get("Authorization"))
	s.mu.Lock()
	c := s.clients[id]
	if !ok || c == nil || c.secret != secret {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Bad client credentials"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "OAuth 2.0 Parameter: grant_type"})
		return
	}
	tok := s.validToken(c)
	s.issued++
	scope := c.scope()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "scope": scope})
}

// basicAuth parses "Basic base64(id:secret)".
func basicAuth(h string) (id, secret string, ok bool) {
	enc, found := strings.CutPrefix(h, "Basic ")
	if !found {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

// authedFunc is a handler for an authenticated request of a partner app.
type authedFunc func(w http.ResponseWriter, r *http.Request, c *client)

// authed checks the bearer token: a missing, unknown or revoked one is 401
// with an empty body, as Tekmetric answers it.
func (s *Server) authed(h authedFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		t := s.tokens[strings.TrimSpace(tok)]
		s.mu.Unlock()
		if t == nil || t.revoked {
			unauthorized(w)
			return
		}
		h(w, r, t.client)
	}
}

// unauthorized is Tekmetric's 401: an empty body.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="Invalid access token"`)
	w.WriteHeader(http.StatusUnauthorized)
}

// forbidden is Tekmetric's 403 for a shop outside the token's scope.
func forbidden(w http.ResponseWriter) { writeError(w, http.StatusForbidden, "Access Denied") }

func (s *Server) handleShops(w http.ResponseWriter, r *http.Request, c *client) {
	s.mu.Lock()
	out := make([]map[string]any, 0, len(c.shops))
	for _, id := range c.shops {
		if sh := s.shops[id]; sh != nil {
			out = append(out, sh.json())
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleShop(w http.ResponseWriter, r *http.Request, c *client) {
	id, ok := pathID(r)
	s.mu.Lock()
	sh := s.shops[id]
	reach := ok && c.reaches(id)
	s.mu.Unlock()
	if !reach || sh == nil {
		forbidden(w)
		return
	}
	writeJSON(w, http.StatusOK, sh.json())
}

func (s *Server) handleDisconnect(w http.ResponseWriter, r *http.Request, c *client) {
	id, ok := pathID(r)
	s.mu.Lock()
	reach := ok && c.reaches(id)
	if reach {
		c.shops = slices.DeleteFunc(c.shops, func(x int64) bool { return x == id })
	}
	s.mu.Unlock()
	if !reach {
		forbidden(w)
		return
	}
	writeSuccess(w, "Shop has been removed from scope", id)
}
