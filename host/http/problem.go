package http

import (
	"errors"
	nethttp "net/http"
	"strconv"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
)

// Problem is an RFC 9457 problem detail with crmhost's extensions.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// RetryAfter is in seconds, as in the Retry-After header.
	RetryAfter int `json:"retry_after,omitempty"`
	// LimitedBy says whose limit a rate_limited answer is about: "host"
	// (one of the host's request limits, named in RateLimit-Policy) or
	// "provider" (the tenant's CRM refused the call, or the host held it
	// to stay under the CRM's declared limit): then the host's own
	// request quota is not the reason, and no RateLimit headers are sent.
	LimitedBy string `json:"limited_by,omitempty"`
}

// Values of Problem.LimitedBy.
const (
	LimitedByHost     = "host"
	LimitedByProvider = "provider"
)

// codeMethodNotAllowed answers a known path asked with the wrong method.
const codeMethodNotAllowed host.ErrorCode = "method_not_allowed"

// statusOf is the one map from error codes to HTTP statuses.
var statusOf = map[host.ErrorCode]int{
	host.CodeInvalid:                          nethttp.StatusBadRequest,
	host.CodeNotFound:                         nethttp.StatusNotFound,
	host.CodeConflict:                         nethttp.StatusConflict,
	host.CodeInternal:                         nethttp.StatusInternalServerError,
	host.CodeUnauthenticated:                  nethttp.StatusUnauthorized,
	host.CodeForbidden:                        nethttp.StatusForbidden,
	host.CodeDriverUnavailable:                nethttp.StatusServiceUnavailable,
	host.CodeNotConnected:                     nethttp.StatusConflict,
	host.CodeTooLarge:                         nethttp.StatusRequestEntityTooLarge,
	host.CodeTimeout:                          nethttp.StatusGatewayTimeout,
	host.CodeUnsupportedMediaType:             nethttp.StatusUnsupportedMediaType,
	host.CodeIdempotencyReused:                nethttp.StatusUnprocessableEntity,
	host.CodeIdempotencyInFlight:              nethttp.StatusConflict,
	codeMethodNotAllowed:                      nethttp.StatusMethodNotAllowed,
	host.ErrorCode(sdk.CodeAuth):              nethttp.StatusBadGateway,
	host.ErrorCode(sdk.CodeRateLimited):       nethttp.StatusTooManyRequests,
	host.ErrorCode(sdk.CodeDeleteUnsupported): nethttp.StatusMethodNotAllowed,
	host.ErrorCode(sdk.CodeUnsupported):       nethttp.StatusNotImplemented,
	host.ErrorCode(sdk.CodeUnavailable):       nethttp.StatusBadGateway,
}

var titles = map[host.ErrorCode]string{
	host.CodeInvalid:                          "Invalid request",
	host.CodeNotFound:                         "Not found",
	host.CodeConflict:                         "Conflict",
	host.CodeInternal:                         "Internal error",
	host.CodeUnauthenticated:                  "Unauthenticated",
	host.CodeForbidden:                        "Forbidden",
	host.CodeDriverUnavailable:                "Driver unavailable",
	host.CodeNotConnected:                     "Tenant not connected",
	host.CodeTooLarge:                         "Request too large",
	host.CodeTimeout:                          "Timed out",
	host.CodeUnsupportedMediaType:             "Unsupported media type",
	host.CodeIdempotencyReused:                "Idempotency key reused",
	host.CodeIdempotencyInFlight:              "Request in progress",
	codeMethodNotAllowed:                      "Method not allowed",
	host.ErrorCode(sdk.CodeAuth):              "CRM rejected the tenant's credentials",
	host.ErrorCode(sdk.CodeRateLimited):       "Rate limited",
	host.ErrorCode(sdk.CodeDeleteUnsupported): "Delete unsupported",
	host.ErrorCode(sdk.CodeUnsupported):       "Unsupported",
	host.ErrorCode(sdk.CodeUnavailable):       "CRM unavailable",
}

// problemFor builds the problem for err. Internal errors keep their
// details in the log, not the response.
func problemFor(err error) Problem {
	code := host.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = host.CodeInternal, nethttp.StatusInternalServerError
	}
	p := Problem{Type: "https://crmhost.dev/problems/" + string(code), Title: titles[code], Status: status, Code: string(code)}
	var he *host.Error
	var se *sdk.Error
	switch {
	case errors.As(err, &he):
		p.Detail, p.Field = he.Message, he.Field
		if he.Code == host.CodeDriverUnavailable {
			p.Detail = redact(p.Detail)
		}
	case errors.As(err, &se):
		// A driver's own words: untrusted, and never to carry paths,
		// addresses or traces to a tenant (the log keeps the original).
		p.Detail, p.Field = redact(se.Message), se.Field
		if se.RetryAfter > 0 {
			p.RetryAfter = int((se.RetryAfter + time.Second - 1) / time.Second)
		}
	}
	if code == host.CodeInternal {
		p.Detail = "an internal error occurred; the request id locates it in the host's log"
	}
	if code == host.ErrorCode(sdk.CodeRateLimited) {
		var qe *quotaError
		var te *broker.ThrottleError
		switch {
		case errors.As(err, &qe):
			p.LimitedBy = LimitedByHost
		case errors.As(err, &te):
			p.LimitedBy, p.Title = LimitedByProvider, titleProviderLimited
		default:
			p.LimitedBy, p.Title = LimitedByProvider, titleProviderLimited
			p.Detail = "the tenant's CRM refused the call with its own rate limit (this host's request limits are not the reason): " + p.Detail
		}
	}
	if status == nethttp.StatusTooManyRequests && p.RetryAfter == 0 {
		p.RetryAfter = 1 // a 429 always says when to retry, even when the provider did not
	}
	return p
}

// titleProviderLimited titles a 429 about the CRM's limit.
const titleProviderLimited = "Rate limited by the CRM"

// fail writes err as problem+json and aborts the request. An error caused
// by the request's deadline becomes a timeout (see timedOut); every 401
// carries WWW-Authenticate (RFC 9110 section 11.6.1).
func fail(c *gin.Context, err error) {
	err = timedOut(c, err)
	p := problemFor(err)
	if p.Status == nethttp.StatusUnauthorized && c.Writer.Header().Get("WWW-Authenticate") == "" {
		challenge := `Bearer realm="crmhost"`
		if _, presented := bearer(c); presented {
			challenge += `, error="invalid_token"`
		}
		c.Header("WWW-Authenticate", challenge)
	}
	p.Instance = c.Request.URL.Path
	p.RequestID = requestID(c)
	if p.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	if p.LimitedBy == LimitedByProvider {
		// The host's request limits, reported by the middleware before the
		// handler ran, are not why this was refused: saying "r=43" beside a
		// 429 would read as quota left.
		c.Writer.Header().Del("RateLimit")
		c.Writer.Header().Del("RateLimit-Policy")
	}
	c.Set(ctxError, err)
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}

func invalid(field, msg string) error {
	return &host.Error{Code: host.CodeInvalid, Field: field, Message: msg}
}
