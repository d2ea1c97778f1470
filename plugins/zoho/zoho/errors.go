package zoho

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// apiError is Zoho's error body, top level or one entry of data[]:
// {"code":"INVALID_DATA","details":{"api_name":"Email","json_path":"$.data[0].Email"},"message":"invalid data","status":"error"}.
type apiError struct {
	Code    string         `json:"code"`
	Details map[string]any `json:"details"`
	Message string         `json:"message"`
	Status  string         `json:"status"`
}

// detail returns a string detail ("api_name", "id").
func (e apiError) detail(key string) string {
	switch v := e.Details[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// aboutID reports whether an INVALID_DATA error is about the record id
// (Zoho's "the id given seems to be invalid"): the record does not exist.
func (e apiError) aboutID() bool {
	if e.Code != "INVALID_DATA" {
		return false
	}
	if n := e.detail("api_name"); n != "" {
		return n == "id"
	}
	return strings.Contains(strings.ToLower(e.Message), "id given") || e.detail("id") != ""
}

// defaultRetryAfter applies when a 429 carries no header: Zoho's
// concurrency limit clears within seconds.
const defaultRetryAfter = 10 * time.Second

// maxMessage bounds the provider message an error carries.
const maxMessage = 500

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "…"
}

// toError turns one Zoho error (top level, or a record's entry in data[])
// into an *sdk.Error, the HTTP status deciding where Zoho's code does not:
//
//	INVALID_TOKEN, AUTHENTICATION_FAILURE, OAUTH_SCOPE_MISMATCH,
//	NO_PERMISSION, 401, 403                     auth_error
//	INVALID_DATA about the id, NOT_FOUND,
//	INVALID_URL_PATTERN, 404                    not_found
//	INVALID_DATA, MANDATORY_NOT_FOUND,
//	REQUIRED_PARAM_MISSING, 400                 invalid, Field "fields.<api_name>" when named
//	INVALID_MODULE                              invalid, Field "object"
//	DUPLICATE_DATA, RECORD_LOCKED,
//	RECORD_IN_BLUEPRINT, CANNOT_DELETE          conflict
//	NOT_SUPPORTED, FEATURE_NOT_SUPPORTED        unsupported
//	TOO_MANY_REQUESTS, 429                      rate_limited (Retry-After, X-RATELIMIT-RESET, else 10s)
//	LIMIT_EXCEEDED, LIMIT_REACHED and other
//	codes                                       by status: 429 rate_limited, 400 invalid, …
//	INTERNAL_ERROR, 5xx                         unavailable
func toError(status int, h http.Header, e apiError) *sdk.Error {
	msg := strings.TrimSpace(e.Message)
	if msg == "" {
		msg = strconv.Itoa(status) + " " + http.StatusText(status)
	}
	msg = "Zoho " + strings.TrimSpace(e.Code+" "+msg)
	if n := e.detail("api_name"); n != "" && n != "id" {
		msg += " (field " + n + ")"
	}
	msg = truncate(msg)
	fieldErr := func() *sdk.Error {
		out := &sdk.Error{Code: sdk.CodeInvalid, Message: msg}
		if n := e.detail("api_name"); n != "" && n != "id" {
			out.Field = "fields." + n
		}
		return out
	}
	switch strings.ToUpper(e.Code) {
	case "INVALID_TOKEN", "AUTHENTICATION_FAILURE", "OAUTH_SCOPE_MISMATCH", "NO_PERMISSION":
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg}
	case "INVALID_DATA":
		if e.aboutID() {
			return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
		}
		return fieldErr()
	case "MANDATORY_NOT_FOUND", "REQUIRED_PARAM_MISSING", "EXPECTED_FIELD_MISSING", "DEPENDENT_FIELD_MISSING", "PATTERN_NOT_MATCHED", "INVALID_QUERY":
		return fieldErr()
	case "INVALID_MODULE":
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "object", Message: msg}
	case "NOT_FOUND", "INVALID_URL_PATTERN", "NO_RECORDS_FOUND":
		return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
	case "DUPLICATE_DATA", "RECORD_LOCKED", "RECORD_IN_BLUEPRINT", "CANNOT_DELETE", "ID_ALREADY_CONVERTED":
		return &sdk.Error{Code: sdk.CodeConflict, Message: msg}
	case "NOT_SUPPORTED", "FEATURE_NOT_SUPPORTED":
		return &sdk.Error{Code: sdk.CodeUnsupported, Message: msg}
	case "TOO_MANY_REQUESTS":
		return sdk.RateLimited(retryAfter(h, defaultRetryAfter), "%s", msg)
	case "INTERNAL_ERROR":
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg}
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg}
	case status == http.StatusNotFound:
		return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
	case status == http.StatusTooManyRequests:
		return sdk.RateLimited(retryAfter(h, defaultRetryAfter), "%s", msg)
	case status == http.StatusRequestTimeout || status >= 500:
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg}
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return fieldErr()
	}
	return &sdk.Error{Code: sdk.CodeInternal, Message: msg}
}

// classify turns a non-2xx Zoho answer into an *sdk.Error: the top-level
// error body, else the first error of data[] (recycle_bin[], watch[]),
// else the status alone.
func classify(status int, h http.Header, body []byte) *sdk.Error {
	var top struct {
		apiError
		Data       []apiError `json:"data"`
		RecycleBin []apiError `json:"recycle_bin"`
		Watch      []apiError `json:"watch"`
	}
	_ = json.Unmarshal(body, &top)
	e := top.apiError
	if e.Code == "" {
		for _, d := range slices.Concat(top.Data, top.RecycleBin, top.Watch) {
			if d.Code != "" && d.Status != "success" {
				e = d
				break
			}
		}
	}
	return toError(status, h, e)
}

// retryAfter is a 429's back-off: Retry-After (seconds or an HTTP date),
// else the reset of rate-limit headers such as X-RATELIMIT-RESET (epoch
// milliseconds or seconds, or seconds from now), else def.
func retryAfter(h http.Header, def time.Duration) time.Duration {
	now := time.Now()
	if d, ok := provider.RetryAfter(h, now); ok && d > 0 {
		return d
	}
	if rl := provider.ParseRateLimit(h, now); rl.Reset > 0 {
		return rl.Reset
	}
	return def
}
