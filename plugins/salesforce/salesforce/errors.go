package salesforce

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

// apiError is one entry of Salesforce's error array:
// [{"message": "...", "errorCode": "...", "fields": [...]}].
type apiError struct {
	Message string   `json:"message"`
	Code    string   `json:"errorCode"`
	Fields  []string `json:"fields"`
}

// Back-offs when Salesforce says nothing (it sends no Retry-After with
// REQUEST_LIMIT_EXCEEDED): the daily allocation is a rolling 24 hours, so
// a call is worth retrying only minutes later; the concurrent long-request
// limit clears as soon as running requests finish.
const (
	dailyLimitRetryAfter       = 10 * time.Minute
	concurrencyLimitRetryAfter = 5 * time.Second
)

// maxMessage bounds the provider message an error carries.
const maxMessage = 1000

// classify turns a non-2xx Salesforce answer into an *sdk.Error, from the
// first entry of its error array:
//
//	401 (INVALID_SESSION_ID)                        auth_error
//	403 REQUEST_LIMIT_EXCEEDED                      rate_limited, RetryAfter from Retry-After,
//	                                                else 5 s (concurrency) or 10 min (daily)
//	403 other (API_DISABLED_FOR_ORG, INSUFFICIENT_ACCESS…) auth_error
//	404 NOT_FOUND, ENTITY_IS_DELETED                not_found
//	300 (several records match an external id)      conflict (the provider toolkit answers
//	                                                unavailable for every 3xx but 304 today,
//	                                                so this needs a non-unique External ID field)
//	400 DUPLICATES_DETECTED, DUPLICATE_VALUE        conflict
//	400 UNABLE_TO_LOCK_ROW                          unavailable
//	400 REQUIRED_FIELD_MISSING, INVALID_FIELD, …    invalid, Field "fields.<name>" when named
//	400 INVALID_TYPE                                invalid, Field "object"
//	400 MALFORMED_SEARCH, INVALID_SEARCH            invalid, Field "query"
//	5xx (SERVER_UNAVAILABLE, UNKNOWN_EXCEPTION)     unavailable
//
// The message is Salesforce's own (errorCode: message); the caller
// redacts secrets besides.
func classify(resp *provider.Response) *sdk.Error {
	ae := firstError(resp.Body)
	msg := strings.TrimSpace(ae.Message)
	if msg == "" {
		msg = "Salesforce answered " + strconv.Itoa(resp.Status) + " " + http.StatusText(resp.Status)
	}
	if ae.Code != "" {
		msg = ae.Code + ": " + msg
	}
	msg = truncate(msg)
	switch {
	case resp.Status == http.StatusUnauthorized:
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg}
	case ae.Code == "REQUEST_LIMIT_EXCEEDED":
		ra := resp.RetryAfter
		if ra <= 0 {
			ra = dailyLimitRetryAfter
			if strings.Contains(ae.Message, "Concurrent") {
				ra = concurrencyLimitRetryAfter
			}
		}
		if usage := resp.Header.Get("Sforce-Limit-Info"); usage != "" {
			msg += " (" + usage + ")"
		}
		return sdk.RateLimited(ra, "%s", msg)
	case resp.Status == http.StatusForbidden:
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg}
	case resp.Status == http.StatusNotFound || resp.Status == http.StatusGone:
		return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
	case resp.Status == http.StatusMultipleChoices:
		return &sdk.Error{Code: sdk.CodeConflict, Message: "several Salesforce records match that external id"}
	case resp.Status >= 500 || resp.Status == http.StatusRequestTimeout:
		e := &sdk.Error{Code: sdk.CodeUnavailable, Message: msg}
		e.RetryAfter = resp.RetryAfter
		return e
	}
	switch ae.Code {
	case "DUPLICATES_DETECTED", "DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID":
		return &sdk.Error{Code: sdk.CodeConflict, Message: msg}
	case "UNABLE_TO_LOCK_ROW":
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg}
	case "INVALID_TYPE":
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "object", Message: msg}
	case "MALFORMED_SEARCH", "INVALID_SEARCH", "INVALID_SEARCH_TERM":
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "query", Message: msg}
	}
	if resp.Status >= 400 && resp.Status < 500 {
		e := &sdk.Error{Code: sdk.CodeInvalid, Message: msg}
		if f := ae.field(); f != "" {
			e.Field = "fields." + f
		}
		return e
	}
	return &sdk.Error{Code: sdk.CodeInternal, Message: msg}
}

// firstError decodes the first entry of an error array (or a lone error
// object).
func firstError(body []byte) apiError {
	var list []apiError
	if json.Unmarshal(body, &list) == nil && len(list) > 0 {
		return list[0]
	}
	var one apiError
	if json.Unmarshal(body, &one) == nil {
		return one
	}
	return apiError{}
}

var (
	noSuchColumn = regexp.MustCompile(`No such column '([A-Za-z0-9_.]+)'`)
	fieldColon   = regexp.MustCompile(`^([A-Za-z0-9_.]+): `)
	quotedField  = regexp.MustCompile(`field '([A-Za-z0-9_.]+)'`)
)

// field names the offending field: the array entry's fields, or the one
// its message names ("No such column 'X'", "field 'X'").
func (ae apiError) field() string {
	if len(ae.Fields) > 0 && ae.Fields[0] != "" {
		return ae.Fields[0]
	}
	for _, re := range []*regexp.Regexp{noSuchColumn, quotedField} {
		if m := re.FindStringSubmatch(ae.Message); m != nil {
			return m[1]
		}
	}
	if strings.HasPrefix(ae.Code, "INVALID_FIELD") {
		if m := fieldColon.FindStringSubmatch(ae.Message); m != nil {
			return m[1]
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "…"
}

// redact removes secrets from a message, should Salesforce ever echo one.
func redact(msg string, secrets ...string) string { return provider.Redact(msg, secrets) }

// tokenError is the OAuth token endpoint's error body.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// classifyToken turns a failed token request into an *sdk.Error: 5xx is
// unavailable, REQUEST_LIMIT_EXCEEDED rate_limited, anything else (a bad
// code, verifier or refresh token: invalid_grant; a bad client:
// invalid_client, invalid_client_id) auth_error, worded for an operator.
func classifyToken(resp *provider.Response, what string) *sdk.Error {
	if resp.Status >= 500 {
		return classify(resp)
	}
	var te tokenError
	if json.Unmarshal(resp.Body, &te) != nil || te.Error == "" {
		return classify(resp)
	}
	msg := "Salesforce refused the " + what + " (" + te.Error
	if te.Description != "" {
		msg += ": " + te.Description
	}
	msg += ")"
	switch te.Error {
	case "invalid_client_id", "invalid_client":
		msg += "; check the driver's app credentials (the connected app's consumer key and secret)"
	case "invalid_grant":
		if what == "refresh" {
			msg += "; the refresh token is expired or revoked: reconnect the tenant"
		} else {
			msg += "; the authorization code is used, expired, or its PKCE verifier does not match: start the connection again"
		}
	case "redirect_uri_mismatch":
		msg += "; the redirect URI must be one of the connected app's callback URLs"
	}
	return &sdk.Error{Code: sdk.CodeAuth, Message: truncate(msg)}
}
