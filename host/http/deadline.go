package http

import (
	"context"
	"errors"
	"math"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
	"github.com/gin-gonic/gin"
)

// headerRequestTimeout lets a caller ask for a shorter deadline than the
// host's own (Timeouts.Request): a voice agent that cannot wait 30 s for a
// hung CRM sends Request-Timeout: 3 and gets a 504 timeout problem after
// 3 s. The value is in seconds, fractions allowed.
const headerRequestTimeout = "Request-Timeout"

// deadline gives each request's context its deadline: Timeouts.Request, or
// the caller's Request-Timeout when shorter. The store, the broker and the
// drivers all work under that context, so a call past it ends there.
func (s *Server) deadline(c *gin.Context) {
	d := s.cfg.Timeouts.Request
	if v := c.GetHeader(headerRequestTimeout); v != "" {
		secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(secs) || secs <= 0 {
			fail(c, &host.Error{Code: host.CodeInvalid, Field: headerRequestTimeout,
				Message: "must be a number of seconds above 0, such as 2.5"})
			return
		}
		if secs < d.Seconds() { // a longer one than the host's is the host's
			d = time.Duration(secs * float64(time.Second))
		}
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), d)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// timedOut turns err into a CodeTimeout error when a deadline ended it:
// the request's own (the host's, or the caller's Request-Timeout), or the
// deadline the host gave the driver call (per verb). The caller then
// learns that time ran out, not that the CRM or the host failed. A 4xx
// decided before the deadline stands.
func timedOut(c *gin.Context, err error) error {
	request := errors.Is(c.Request.Context().Err(), context.DeadlineExceeded)
	if !request && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if code := host.CodeOf(err); !errors.Is(err, context.DeadlineExceeded) && statusOf[code] < nethttp.StatusInternalServerError {
		return err
	}
	msg := "the CRM call did not finish within its deadline"
	if request {
		msg = "the request did not finish within its deadline"
		if v := c.GetHeader(headerRequestTimeout); v != "" {
			msg += " (Request-Timeout: " + v + " s)"
		}
	}
	return &host.Error{Code: host.CodeTimeout, Message: msg, Cause: err}
}
