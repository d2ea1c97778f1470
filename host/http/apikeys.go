package http

import (
	nethttp "net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
	"crmhost.dev/host/broker"
	"github.com/gin-gonic/gin"
)

// ctxAPIKey holds the authenticated host.APIKey of a public API request
// (per-key rate limits read it).
const ctxAPIKey = "crmhost.api_key"

// apiKey authenticates a public API key (Authorization: Bearer crmk_...)
// and requires at least one of anyOf. A missing, malformed, unknown or
// wrong key is one 401 (the same body for an unknown key and a wrong
// secret; a revoked key, whose secret was right, says so); a key without
// the scope is a 403 naming it.
func (s *Server) apiKey(anyOf ...string) gin.HandlerFunc {
	need := strings.Join(anyOf, " or ")
	return func(c *gin.Context) {
		raw, ok := bearer(c)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="crmhost"`)
			fail(c, unauthenticated("an API key is required: Authorization: Bearer crmk_..."))
			return
		}
		key, err := s.keys.Authenticate(reqCtx(c), raw)
		if err != nil {
			if host.CodeOf(err) == host.CodeUnauthenticated {
				c.Header("WWW-Authenticate", `Bearer realm="crmhost", error="invalid_token"`)
			}
			fail(c, err)
			return
		}
		if !slices.ContainsFunc(anyOf, func(sc string) bool { return apikeys.HasScope(key, sc) }) {
			c.Header("WWW-Authenticate", `Bearer realm="crmhost", error="insufficient_scope", scope="`+strings.Join(anyOf, " ")+`"`)
			fail(c, &host.Error{Code: host.CodeForbidden, Field: "scope", Message: "the API key lacks the " + need + " scope"})
			return
		}
		c.Set(ctxTenant, key.TenantID)
		c.Set(ctxAPIKey, key)
		c.Next()
	}
}

// apiActor is the public API consumer behind a request: the key, by id.
func apiActor(c *gin.Context) (broker.Actor, string) {
	k := c.MustGet(ctxAPIKey).(host.APIKey)
	return broker.Actor{Type: host.ActorAPIKey, ID: k.ID, RequestID: requestID(c)}, k.TenantID
}

// apiKeyJSON lists a key: never its hash, never its text.
type apiKeyJSON struct {
	ID         string     `json:"id"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func toAPIKeyJSON(k host.APIKey) apiKeyJSON {
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	return apiKeyJSON{k.ID, apikeys.Shown(k), k.Scopes, k.CreatedAt, k.LastUsedAt, k.RevokedAt}
}

// createAPIKey issues a key; its text is in this answer only.
func (s *Server) createAPIKey(c *gin.Context) {
	var in struct {
		Scopes []string `json:"scopes"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	tenant := c.Param("tenant_id")
	raw, k, err := s.keys.Issue(reqCtx(c), tenant, in.Scopes)
	if err != nil {
		fail(c, err)
		return
	}
	s.cfg.Broker.Audit(reqCtx(c), operatorActor(c), tenant, "api_key.create", host.OutcomeOK, k.ID+" scopes "+strings.Join(k.Scopes, " "))
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/api/operator/tenants/"+url.PathEscape(tenant)+"/api-keys/"+url.PathEscape(k.ID))
	c.JSON(nethttp.StatusCreated, gin.H{"id": k.ID, "key": raw, "scopes": k.Scopes, "created_at": k.CreatedAt})
}

func (s *Server) listAPIKeys(c *gin.Context) {
	tenant := c.Param("tenant_id")
	if _, err := s.cfg.Store.GetTenant(reqCtx(c), tenant); err != nil {
		fail(c, err)
		return
	}
	ks, err := s.cfg.Store.ListAPIKeys(reqCtx(c), tenant)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]apiKeyJSON, 0, len(ks))
	for _, k := range ks {
		out = append(out, toAPIKeyJSON(k))
	}
	c.JSON(nethttp.StatusOK, gin.H{"api_keys": out})
}

// revokeAPIKey revokes a key at once; revoking it again is no error.
func (s *Server) revokeAPIKey(c *gin.Context) {
	tenant, id := c.Param("tenant_id"), c.Param("key_id")
	if err := s.cfg.Store.RevokeAPIKey(reqCtx(c), tenant, id, time.Now().UTC()); err != nil {
		fail(c, err)
		return
	}
	s.cfg.Broker.Audit(reqCtx(c), operatorActor(c), tenant, "api_key.revoke", host.OutcomeOK, id)
	c.Status(nethttp.StatusNoContent)
}
