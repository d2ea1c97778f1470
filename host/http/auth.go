package http

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
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
// with a public key (either or both). Every token must carry the
// configured issuer (iss) and audience (aud), an expiry (exp), an issue
// time (iat), a subject (sub, the agent) and a tenant_id, and live no
// longer than MaxLifetime (exp - iat). Without an issuer and an audience
// every token is refused: cmd/crmhost will not start without them.
type JWTConfig struct {
	HS256Secret []byte
	RS256Key    *rsa.PublicKey
	Issuer      string
	Audience    string
	// MaxLifetime caps exp - iat (DefaultJWTMaxLifetime when 0).
	MaxLifetime time.Duration
	// Leeway is the clock skew allowed on exp, nbf and iat
	// (DefaultJWTLeeway when 0, none when negative).
	Leeway time.Duration
}

// Defaults of JWTConfig.
const (
	DefaultJWTMaxLifetime = time.Hour
	DefaultJWTLeeway      = 30 * time.Second
)

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
	jc := s.cfg.JWT
	var methods []string
	if len(jc.HS256Secret) > 0 {
		methods = append(methods, "HS256")
	}
	if jc.RS256Key != nil {
		methods = append(methods, "RS256")
	}
	if len(methods) == 0 || jc.Issuer == "" || jc.Audience == "" {
		return nil, unauthenticated("agent tokens are not configured on this host")
	}
	claims := &AgentClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		switch t.Method.Alg() {
		case "HS256":
			return jc.HS256Secret, nil
		case "RS256":
			return jc.RS256Key, nil
		}
		return nil, errors.New("unexpected signing method")
	}, jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(jc.Leeway),
		jwt.WithIssuer(jc.Issuer), jwt.WithAudience(jc.Audience))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, unauthenticated("the agent token has expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, unauthenticated("the agent token's signature does not verify")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, unauthenticated("the agent token's issuer (iss) is not " + strconv.Quote(jc.Issuer))
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, unauthenticated("the agent token's audience (aud) does not include " + strconv.Quote(jc.Audience))
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, unauthenticated("the agent token's issue time (iat) is in the future")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		claim := "exp"
		for _, c := range []string{"iss", "aud", "iat", "nbf"} {
			if strings.Contains(err.Error(), c+" claim is required") {
				claim = c
			}
		}
		return nil, unauthenticated("the agent token lacks a required claim (" + claim + ")")
	case err != nil:
		return nil, unauthenticated("the agent token is not valid: " + strings.TrimPrefix(err.Error(), "token has invalid claims: "))
	case claims.IssuedAt == nil:
		return nil, unauthenticated("the agent token lacks a required claim (iat)")
	case claims.Subject == "":
		return nil, unauthenticated("the agent token lacks a required claim (sub)")
	case claims.TenantID == "":
		return nil, unauthenticated("the agent token has no tenant_id claim")
	case claims.ExpiresAt.Sub(claims.IssuedAt.Time) > jc.MaxLifetime:
		return nil, unauthenticated(fmt.Sprintf("the agent token lives %s (exp - iat); this host accepts at most %s",
			claims.ExpiresAt.Sub(claims.IssuedAt.Time), jc.MaxLifetime))
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

const (
	ctxClaims   = "crmhost.claims"
	ctxOperator = "crmhost.operator"
)

// operator authenticates a named operator's token and records who it is
// (operatorActor reads it for audit rows).
func (s *Server) operator(c *gin.Context) {
	raw, ok := bearer(c)
	if !ok {
		fail(c, unauthenticated("an operator token is required: Authorization: Bearer crmo_..."))
		return
	}
	op, err := s.ops.Authenticate(reqCtx(c), raw)
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(ctxOperator, op)
	c.Next()
}
