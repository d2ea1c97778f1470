package http

import (
	"context"
	nethttp "net/http"

	"crmhost.dev/host/ratelimit"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
)

// PolicyAuthFailures names the per-address failed-authentication limit.
const PolicyAuthFailures = "auth_failures"

// authGuard limits failed authentications per client address, on every
// authenticated route (tool, operator, public), before any credential is
// looked at: an address that has spent RateLimits.AuthFailures on 401s is
// refused with a 429 until the limit refills, whatever it presents, while
// every other address (and the same key used from elsewhere) is served as
// usual. Only answers that are 401s spend the limit. The client address is
// the peer's, or the X-Forwarded-For hop a trusted proxy reports
// (Config.TrustedProxies). With Redis the counts are shared by every
// replica.
func (s *Server) authGuard(c *gin.Context) {
	lim, l := s.cfg.RateLimits.Limiter, s.cfg.RateLimits.AuthFailures
	if lim == nil || l.Rate == 0 {
		c.Next()
		return
	}
	key := "auth_failures:" + c.ClientIP()
	if p, ok := lim.(ratelimit.Peeker); ok {
		res, err := p.Peek(reqCtx(c), key, l)
		if err == nil && !res.Allowed {
			h := c.Writer.Header()
			for name, v := range ratelimit.Headers(res) {
				h[name] = v
			}
			wait := ceilSecond(res.RetryAfter)
			fail(c, &quotaError{sdk.RateLimited(wait, "too many failed authentications from this address (%s); retry in %s", res.Limit, wait)})
			return
		}
	}
	c.Next()
	if c.Writer.Status() == nethttp.StatusUnauthorized {
		if _, err := lim.Allow(context.WithoutCancel(reqCtx(c)), key, l); err != nil {
			s.log.Warn("counting a failed authentication", "error", err)
		}
	}
}
