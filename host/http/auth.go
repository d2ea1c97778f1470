package http

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"crmhost.dev/host"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// Tool scopes carried by agent tokens.
const (
	ScopeRead  = "crm:read"
	ScopeWrite = "crm:write"
)

// JWTConfig verifies agent tokens: HS256 with a shared secret, or RS256
// with a public key (either or both). Issuer and Audience are checked when
// set.
type JWTConfig struct {
	HS256Secret []byte
	RS256Key    *rsa.PublicKey
	Issuer      string
	Audience    string
	Leeway      time.Duration
}

// AgentClaims are the claims of an agent token.
type AgentClaims struct {
	TenantID       string   `json:"tenant_id"`
	ConversationID string   `json:"conversation_id,omitempty"`
	Scope          string   `json:"scope,omitempty"`
	Scopes         []string `json:"scopes,omitempty"`
	jwt.RegisteredClaims
}

// HasScope reports whether the token grants scope.
func (c *AgentClaims) HasScope(scope string) bool {
	for _, s := range strings.Fields(c.Scope) {
		if s == scope {
			return true
		}
	}
	for _, s := range c.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

func bearer(c *gin.Context) (string, bool) {
	h := c.GetHeader("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

func unauthenticated(msg string) error {
	return &host.Error{Code: host.CodeUnauthenticated, Message: msg}
}

// parseAgent verifies an agent JWT.
func (s *Server) parseAgent(raw string) (*AgentClaims, error) {
	var methods []string
	if len(s.cfg.JWT.HS256Secret) > 0 {
		methods = append(methods, "HS256")
	}
	if s.cfg.JWT.RS256Key != nil {
		methods = append(methods, "RS256")
	}
	if len(methods) == 0 {
		return nil, unauthenticated("agent tokens are not configured on this host")
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(s.cfg.JWT.Leeway)}
	if s.cfg.JWT.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(s.cfg.JWT.Issuer))
	}
	if s.cfg.JWT.Audience != "" {
		opts = append(opts, jwt.WithAudience(s.cfg.JWT.Audience))
	}
	claims := &AgentClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		switch t.Method.Alg() {
		case "HS256":
			return s.cfg.JWT.HS256Secret, nil
		case "RS256":
			return s.cfg.JWT.RS256Key, nil
		}
		return nil, errors.New("unexpected signing method")
	}, opts...)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, unauthenticated("the agent token has expired")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, unauthenticated("the agent token lacks a required claim (exp)")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, unauthenticated("the agent token's signature does not verify")
	case err != nil:
		return nil, unauthenticated("the agent token is not valid: " + strings.TrimPrefix(err.Error(), "token has invalid claims: "))
	case claims.TenantID == "":
		return nil, unauthenticated("the agent token has no tenant_id claim")
	}
	return claims, nil
}

// agent authenticates an agent JWT and requires scope.
func (s *Server) agent(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, ok := bearer(c)
		if !ok {
			fail(c, unauthenticated("an agent token is required: Authorization: Bearer <JWT>"))
			return
		}
		claims, err := s.parseAgent(raw)
		if err != nil {
			fail(c, err)
			return
		}
		if !claims.HasScope(scope) {
			fail(c, &host.Error{Code: host.CodeForbidden, Message: "the agent token lacks the " + scope + " scope"})
			return
		}
		c.Set(ctxTenant, claims.TenantID)
		c.Set(ctxClaims, claims)
		c.Next()
	}
}

const ctxClaims = "crmhost.claims"

// operator authenticates the operator token in constant time.
func (s *Server) operator(c *gin.Context) {
	raw, ok := bearer(c)
	if !ok {
		fail(c, unauthenticated("an operator token is required: Authorization: Bearer <token>"))
		return
	}
	got := sha256.Sum256([]byte(raw))
	if s.operatorHash == ([32]byte{}) || subtle.ConstantTimeCompare(got[:], s.operatorHash[:]) != 1 {
		fail(c, unauthenticated("the operator token is not valid"))
		return
	}
	c.Next()
}
