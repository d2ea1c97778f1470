package http

import (
	"path"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/ratelimit"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
)

// Policy names of the host's request limits, as they appear in the
// RateLimit-Policy / RateLimit headers and in 429 problem details.
const (
	PolicyAPIKey = "api_key"
	PolicyTool   = "tool"
)

// RateLimits configures the host's own request limits (Config.RateLimits).
// The limits must be valid (ratelimit.Limit.Validate); cmd/crmhost refuses
// to start otherwise.
type RateLimits struct {
	// Limiter decides; nil disables request limiting (and its headers).
	Limiter ratelimit.Limiter
	// APIKey limits each API key's requests; an empty Name is PolicyAPIKey.
	APIKey ratelimit.Limit
	// Tool limits each (tenant, tool) pair; an empty Name is PolicyTool.
	Tool ratelimit.Limit
	// AuthFailures limits the failed authentications (401s) of each client
	// address (see authGuard); a zero Limit disables it. An empty Name is
	// PolicyAuthFailures.
	AuthFailures ratelimit.Limit
}

// withNames fills the policy names.
func (r RateLimits) withNames() RateLimits {
	if r.APIKey.Name == "" {
		r.APIKey.Name = PolicyAPIKey
	}
	if r.Tool.Name == "" {
		r.Tool.Name = PolicyTool
	}
	if r.AuthFailures.Name == "" {
		r.AuthFailures.Name = PolicyAuthFailures
	}
	return r
}

// rateLimit is the request limiter, a middleware placed after a route's
// authentication and before its handler, so that a refused request never
// has its body read, a secret decrypted or a driver called:
//
//	tools.POST("/crm_create_record", s.agent(ScopeWrite), s.rateLimit, s.createRecord(toolActor))
//
// It applies the per-API-key limit when authentication set ctxAPIKey (the
// key's id is the limiter key), and the per-(tenant, tool) limit when it
// set ctxTenant, the tool being named by toolName: a tenant's agent tool
// and its public API twin (crm_create_record, /v1/crm/create-record) share
// one budget, whichever route spends it. Every limited response carries
// RateLimit-Policy and RateLimit headers; a refusal is a 429 rate_limited
// problem naming the policy, with Retry-After.
func (s *Server) rateLimit(c *gin.Context) {
	checks := s.keyCheck(c)
	if tenant := c.GetString(ctxTenant); tenant != "" {
		tool := toolName(c.FullPath())
		checks = append(checks, limitCheck{key: "tool:" + strconv.Itoa(len(tenant)) + ":" + tenant + ":" + tool,
			limit: s.cfg.RateLimits.Tool, per: "tenant and tool"})
	}
	if s.limit(c, checks...) {
		c.Next()
	}
}

// toolName is the tool a route calls: the last segment of its path, a
// public route's dashes as underscores and with the crm_ prefix of the
// agent's tool names, so /v1/crm/create-record and
// /api/tools/crm_create_record are both crm_create_record.
func toolName(route string) string {
	tool := strings.ReplaceAll(path.Base(route), "-", "_")
	if !strings.HasPrefix(tool, "crm_") {
		tool = "crm_" + tool
	}
	return tool
}

// rateLimitKey is rateLimit with the per-API-key limit only, for public
// routes that are not CRM tools.
func (s *Server) rateLimitKey(c *gin.Context) {
	if s.limit(c, s.keyCheck(c)...) {
		c.Next()
	}
}

// keyCheck is the per-API-key limit of an API-key request, if it is one.
func (s *Server) keyCheck(c *gin.Context) []limitCheck {
	v, _ := c.Get(ctxAPIKey)
	k, ok := v.(host.APIKey)
	if !ok || k.ID == "" {
		return make([]limitCheck, 0, 1)
	}
	return append(make([]limitCheck, 0, 2), limitCheck{key: "api_key:" + k.ID, limit: s.cfg.RateLimits.APIKey, per: "API key"})
}

// limitCheck is one limit a request must pass: its limiter key, the
// policy and what the limit is counted per (for the problem detail).
type limitCheck struct {
	key   string
	limit ratelimit.Limit
	per   string
}

// limit runs checks in order and reports whether the request may go on.
// The first refusal stops the rest (a request refused by its API key's
// limit spends nothing of its tool's). It sets the RateLimit headers for
// every check run; on a refusal it answers the 429 and aborts. Without a
// Limiter every request passes. Authentication code that cannot use the
// rateLimit middleware can call it directly.
func (s *Server) limit(c *gin.Context, checks ...limitCheck) bool {
	lim := s.cfg.RateLimits.Limiter
	if lim == nil || len(checks) == 0 {
		return true
	}
	ctx, span := otel.Tracer(tracerName).Start(reqCtx(c), "crmhost.ratelimit")
	defer span.End()
	var results []ratelimit.Result
	if m, ok := lim.(ratelimit.MultiLimiter); ok {
		// Every check in one decision: one Redis round trip.
		all := make([]ratelimit.Check, len(checks))
		for i, ch := range checks {
			all[i] = ratelimit.Check{Key: ch.key, Limit: ch.limit}
		}
		var err error
		if results, err = m.AllowAll(ctx, all); err != nil {
			fail(c, err)
			return false
		}
	} else {
		results = make([]ratelimit.Result, 0, len(checks))
		for i := range checks {
			res, err := lim.Allow(ctx, checks[i].key, checks[i].limit)
			if err != nil {
				fail(c, err)
				return false
			}
			results = append(results, res)
			if !res.Allowed {
				break
			}
		}
	}
	var refused *limitCheck
	if n := len(results); n > 0 && !results[n-1].Allowed {
		refused = &checks[n-1]
	}
	span.SetAttributes(attribute.Bool("crmhost.ratelimit.allowed", refused == nil))
	h := c.Writer.Header()
	for name, v := range ratelimit.Headers(results...) {
		h[name] = v
	}
	if refused == nil {
		return true
	}
	res := results[len(results)-1]
	wait := ceilSecond(res.RetryAfter) // whole seconds, as Retry-After says
	note := ""
	if res.FailOpen {
		note = " (this replica's share of it, while the shared limiter is unavailable)"
	}
	fail(c, &quotaError{sdk.RateLimited(wait, "the %q rate limit (%s per %s)%s is spent; retry in %s",
		res.Policy, res.Limit, refused.per, note, wait)})
	return false
}

// quotaError is a refusal by one of the host's own request limits, as
// opposed to the tenant's CRM's (see problemFor).
type quotaError struct{ err *sdk.Error }

func (e *quotaError) Error() string { return e.err.Error() }
func (e *quotaError) Unwrap() error { return e.err }

// ceilSecond rounds d up to a whole second, at least one.
func ceilSecond(d time.Duration) time.Duration {
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}
