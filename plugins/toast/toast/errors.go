package toast

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// apiError is Toast's ErrorMessage body: {status, code, message,
// messageKey, fieldName, link, requestId, developerMessage, errors[],
// canRetry}. The spec types status as a string; numbers are tolerated.
type apiError struct {
	Message          string     `json:"message"`
	FieldName        string     `json:"fieldName"`
	RequestID        string     `json:"requestId"`
	DeveloperMessage string     `json:"developerMessage"`
	Errors           []apiError `json:"errors"`
}

// Toast's rate-limit headers: which limit applied (GLOBAL, API, ENDPOINT),
// what remains of it and when it resets (epoch seconds or milliseconds).
const (
	headerRateLimitBy    = "X-Toast-RateLimit-By"
	headerRateLimitReset = "X-Toast-RateLimit-Reset"
)

// defaultRetryAfter applies to a 429 without Retry-After or reset: Toast's
// limits are per second.
const defaultRetryAfter = time.Second

// classify turns a Toast error answer into an *sdk.Error:
//
//	401                 auth_error (the token is missing, expired or revoked)
//	403                 auth_error (a scope is missing, or the restaurant has
//	                    not granted the client access)
//	404                 not_found
//	409                 conflict
//	400, 413, 422       invalid, Field fieldName when Toast names one
//	429                 rate_limited, RetryAfter from Retry-After, else
//	                    X-Toast-RateLimit-Reset, else one second
//	408, 5xx, others    unavailable
//
// The message is Toast's own (its message, else its developerMessage), as
// a short sanitised excerpt, with Toast's requestId for its support team.
func classify(r *provider.Response, now time.Time) *sdk.Error {
	var ae apiError
	if json.Unmarshal(r.Body, &ae) != nil {
		ae = apiError{}
	}
	msg := "Toast answered " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	if x := ae.message(r.Body); x != "" {
		msg += ": " + x
	}
	if id := strings.TrimSpace(ae.RequestID); id != "" && len(id) <= 64 {
		msg += " (Toast request id " + id + ")"
	}
	switch r.Status {
	case http.StatusUnauthorized:
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg}
	case http.StatusForbidden:
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg + "; the Toast client may lack a scope (orders:read, guest.pi:read, restaurants:read) or the restaurant has not granted it access"}
	case http.StatusNotFound, http.StatusGone:
		return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
	case http.StatusConflict:
		return &sdk.Error{Code: sdk.CodeConflict, Message: msg}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		e := &sdk.Error{Code: sdk.CodeInvalid, Message: msg}
		if f := strings.TrimSpace(ae.FieldName); f != "" && len(f) <= 128 {
			e.Field = "fields." + f
		}
		return e
	case http.StatusTooManyRequests:
		if by := strings.TrimSpace(r.Header.Get(headerRateLimitBy)); by != "" && len(by) <= 32 {
			msg += " (limit " + by + ")"
		}
		return sdk.RateLimited(retryAfter(r, now), "%s", msg)
	}
	return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg, RetryAfter: r.RetryAfter}
}

// message is Toast's explanation: message, else developerMessage, else the
// first nested error's, else whatever the generic excerpt finds.
func (ae apiError) message(body []byte) string {
	for _, m := range []string{ae.Message, ae.DeveloperMessage} {
		if strings.TrimSpace(m) != "" {
			return provider.Excerpt([]byte(strconv.Quote(m)))
		}
	}
	for _, e := range ae.Errors {
		if m := e.message(nil); m != "" {
			return m
		}
	}
	return provider.Excerpt(body)
}

// retryAfter is a 429's back-off: Retry-After (seconds or HTTP-date), else
// the time until X-Toast-RateLimit-Reset (epoch seconds or
// milliseconds), else one second.
func retryAfter(r *provider.Response, now time.Time) time.Duration {
	if _, ok := provider.RetryAfter(r.Header, now); ok {
		return r.RetryAfter
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(r.Header.Get(headerRateLimitReset)), 10, 64); err == nil && n > 0 {
		at := time.Unix(n, 0)
		if n >= 1e12 {
			at = time.UnixMilli(n)
		}
		if d := at.Sub(now); d > 0 && d < time.Hour {
			return d
		}
	}
	return defaultRetryAfter
}
