package hubspot

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// apiError is HubSpot's error body, e.g.
// {"status":"error","message":"…","correlationId":"…","category":"VALIDATION_ERROR"}.
// Rate-limit answers carry errorType and policyName instead of a category.
type apiError struct {
	Status      string         `json:"status"`
	Message     string         `json:"message"`
	Category    string         `json:"category"`
	SubCategory string         `json:"subCategory"`
	ErrorType   string         `json:"errorType"`
	PolicyName  string         `json:"policyName"`
	Context     map[string]any `json:"context"`
	Errors      []struct {
		Message string         `json:"message"`
		Code    string         `json:"code"`
		Name    string         `json:"name"`
		Context map[string]any `json:"context"`
	} `json:"errors"`
}

// defaultRetryAfter is HubSpot's rolling rate-limit window.
const defaultRetryAfter = 10 * time.Second

// classify turns a HubSpot error response into an *sdk.Error:
//
//	401                        auth_error (INVALID_/EXPIRED_AUTHENTICATION)
//	403                        auth_error (MISSING_SCOPES, with the scopes)
//	404, 410                   not_found
//	409                        conflict
//	400, 413, 422              invalid, Field "fields.<property>" when named
//	429                        rate_limited, RetryAfter from Retry-After, else
//	                           X-HubSpot-RateLimit-Interval-Milliseconds, else 10s
//	408, 5xx                   unavailable
//	anything else              the category's code, else internal
//
// The message is HubSpot's own, as a short sanitised excerpt
// (provider.Excerpt); HubSpot never echoes the token, and the provider
// toolkit redacts the call's secrets besides.
func classify(status int, h http.Header, body []byte) *sdk.Error {
	var ae apiError
	if json.Unmarshal(body, &ae) != nil {
		ae = apiError{}
	}
	msg := provider.Excerpt(body)
	if msg == "" {
		msg = "HubSpot answered " + strconv.Itoa(status) + " " + http.StatusText(status)
	}
	switch {
	case status == http.StatusUnauthorized:
		return &sdk.Error{Code: sdk.CodeAuth, Message: withCategory(ae.Category, msg)}
	case status == http.StatusForbidden:
		if scopes := contextStrings(ae.Context, "requiredScopes", "missingScopes"); len(scopes) > 0 {
			msg += " (missing scopes: " + strings.Join(scopes, ", ") + ")"
		}
		return &sdk.Error{Code: sdk.CodeAuth, Message: withCategory(ae.Category, msg)}
	case status == http.StatusNotFound || status == http.StatusGone:
		return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
	case status == http.StatusConflict:
		return &sdk.Error{Code: sdk.CodeConflict, Message: msg}
	case status == http.StatusTooManyRequests:
		return sdk.RateLimited(retryAfter(h, ae.PolicyName), "%s", msg)
	case status == http.StatusRequestTimeout || status >= 500:
		e := &sdk.Error{Code: sdk.CodeUnavailable, Message: msg}
		e.RetryAfter, _ = provider.RetryAfter(h, time.Now())
		return e
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge || status == http.StatusUnprocessableEntity:
		e := &sdk.Error{Code: sdk.CodeInvalid, Message: msg}
		if p := ae.property(); p != "" {
			e.Field = "fields." + p
		}
		return e
	}
	return &sdk.Error{Code: categoryCode(ae.Category), Message: msg}
}

// categoryCode maps a HubSpot error category (as found in batch results,
// where there is no HTTP status per input) to a code.
func categoryCode(category string) sdk.Code {
	switch strings.ToUpper(category) {
	case "INVALID_AUTHENTICATION", "EXPIRED_AUTHENTICATION", "MISSING_SCOPES":
		return sdk.CodeAuth
	case "OBJECT_NOT_FOUND":
		return sdk.CodeNotFound
	case "CONFLICT", "OBJECT_ALREADY_EXISTS":
		return sdk.CodeConflict
	case "VALIDATION_ERROR", "INVALID_PARAMS", "PROPERTY_DOESNT_EXIST":
		return sdk.CodeInvalid
	case "RATE_LIMITS", "RATE_LIMIT":
		return sdk.CodeRateLimited
	}
	return sdk.CodeInternal
}

// maxMessage bounds a HubSpot message carried by a batch error.
const maxMessage = 1000

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "…"
}

func withCategory(category, msg string) string {
	if category == "" {
		return msg
	}
	return category + ": " + msg
}

var propertyInMessage = regexp.MustCompile(`[Pp]roperty \\?"([A-Za-z0-9_\-]+)\\?"`)

// property names the offending property of a validation error, when HubSpot
// names one: in the context, in the detailed errors, in the JSON list
// embedded in "Property values were not valid: [{…,"name":"x"}]", or in
// a message like `Property "x" does not exist`.
func (ae apiError) property() string {
	keys := []string{"propertyName", "invalidPropertyName", "properties", "property"}
	if p := contextStrings(ae.Context, keys...); len(p) > 0 {
		return p[0]
	}
	for _, e := range ae.Errors {
		if p := contextStrings(e.Context, keys...); len(p) > 0 {
			return p[0]
		}
		if e.Name != "" {
			return e.Name
		}
	}
	if i := strings.Index(ae.Message, "[{"); i >= 0 {
		var list []struct {
			Name string `json:"name"`
		}
		if json.Unmarshal([]byte(ae.Message[i:]), &list) == nil {
			for _, l := range list {
				if l.Name != "" {
					return l.Name
				}
			}
		}
	}
	for _, m := range append([]string{ae.Message}, errorMessages(ae)...) {
		if sm := propertyInMessage.FindStringSubmatch(m); sm != nil {
			return sm[1]
		}
	}
	return ""
}

func errorMessages(ae apiError) []string {
	out := make([]string, 0, len(ae.Errors))
	for _, e := range ae.Errors {
		out = append(out, e.Message)
	}
	return out
}

// contextStrings returns the string values under the first of keys present
// in a HubSpot error context (values are lists of strings in the spec).
func contextStrings(ctx map[string]any, keys ...string) []string {
	for _, k := range keys {
		switch v := ctx[k].(type) {
		case string:
			if v != "" {
				return []string{v}
			}
		case []any:
			var out []string
			for _, e := range v {
				if s, ok := e.(string); ok && s != "" {
					out = append(out, s)
				}
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	return nil
}

// retryAfter is a 429's back-off: Retry-After, else the rolling window
// HubSpot reports, else one second for the secondly (search) policy, else
// ten seconds.
func retryAfter(h http.Header, policy string) time.Duration {
	if d, ok := provider.RetryAfter(h, time.Now()); ok {
		return d
	}
	if ms, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")), 10, 64); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	if strings.HasPrefix(strings.ToUpper(policy), "SECONDLY") {
		return time.Second
	}
	return defaultRetryAfter
}
