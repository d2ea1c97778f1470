package mindbody

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

// apiError is Mindbody's error body: {"Error":{"Message","Code"}}. Some
// gateways answer {"Message","Code"} at the top level; the push (webhooks)
// API answers {"errors":[{"errorCode","errorType","errorMessage"}]}.
type apiError struct {
	Error *struct {
		Message string `json:"Message"`
		Code    string `json:"Code"`
	} `json:"Error"`
	Message string `json:"Message"`
	Code    string `json:"Code"`
	Errors  []struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"errors"`
}

// parseError reads Mindbody's code and message from an error body.
func parseError(body []byte) (code, msg string) {
	var ae apiError
	if json.Unmarshal(body, &ae) != nil {
		return "", ""
	}
	switch {
	case ae.Error != nil:
		return ae.Error.Code, ae.Error.Message
	case len(ae.Errors) > 0:
		return ae.Errors[0].ErrorType, ae.Errors[0].ErrorMessage
	}
	return ae.Code, ae.Message
}

// defaultRetryAfter is the back-off of a 429 without Retry-After.
const defaultRetryAfter = 60 * time.Second

// maxMessage bounds the provider message an error carries.
const maxMessage = 500

// classify turns a Mindbody error answer into an *sdk.Error. Mindbody's
// statuses are not documented (its spec declares only 200), so the code
// in the body counts as much as the status:
//
//	429, or a code about call limits        rate_limited, RetryAfter from
//	                                        Retry-After (else 60s)
//	InvalidSiteId                           invalid, Field config.site_id
//	401, 403 (DeniedAccess)                 auth_error
//	404, a code ending in NotFound,         not_found
//	InvalidClassId
//	409, a duplicate or already-booked code conflict
//	400, 422                                invalid, Field "fields.<name>"
//	                                        when the message names a field
//	408, 5xx                                unavailable
//	anything else                           internal
func classify(status int, h http.Header, body []byte, now time.Time) *sdk.Error {
	code, msg := parseError(body)
	msg = strings.TrimSpace(msg)
	if msg == "" {
		msg = strconv.Itoa(status) + " " + http.StatusText(status)
	}
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	lc := strings.ToLower(code)
	say := "Mindbody: " + msg
	if code != "" {
		say = "Mindbody " + code + ": " + msg
	}
	switch {
	case status == http.StatusTooManyRequests || strings.Contains(lc, "toomanyrequests") || strings.Contains(lc, "calllimit"):
		ra, ok := provider.RetryAfter(h, now)
		if !ok {
			ra = defaultRetryAfter
		}
		return sdk.RateLimited(ra, "%s", say)
	case lc == "invalidsiteid" || (status < 500 && strings.Contains(lc, "site")):
		return sdk.Invalid("config.site_id", "%s (check the site id, and that the business has activated the platform's Mindbody integration)", say)
	case status == http.StatusUnauthorized || status == http.StatusForbidden || lc == "deniedaccess":
		return &sdk.Error{Code: sdk.CodeAuth, Message: say}
	case status == http.StatusNotFound || strings.HasSuffix(lc, "notfound") || lc == "invalidclassid":
		return &sdk.Error{Code: sdk.CodeNotFound, Message: say}
	case status == http.StatusConflict || strings.Contains(lc, "duplicate") || strings.Contains(lc, "alreadybooked") ||
		strings.Contains(lc, "alreadyinuse"):
		return &sdk.Error{Code: sdk.CodeConflict, Message: say}
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		e := &sdk.Error{Code: sdk.CodeInvalid, Message: say}
		if f := namedField(msg); f != "" {
			e.Field = "fields." + f
		}
		return e
	case status == http.StatusRequestTimeout || status >= 500:
		e := &sdk.Error{Code: sdk.CodeUnavailable, Message: say}
		if ra, ok := provider.RetryAfter(h, now); ok {
			e.RetryAfter = ra
		}
		return e
	}
	return &sdk.Error{Code: sdk.CodeInternal, Message: say}
}

// fieldInMessage finds a property Mindbody names in a validation message:
// "The following fields are required: MobilePhone." or "Email address is
// invalid".
var fieldInMessage = regexp.MustCompile(`\b(FirstName|MiddleName|LastName|Email|MobilePhone|HomePhone|WorkPhone|BirthDate|AddressLine1|AddressLine2|City|State|PostalCode|Country|Gender|ReferredBy|StartDateTime|EndDateTime|StaffId|LocationId|SessionTypeId|ClientId|ClassId|ContactMethod|Text)\b`)

func namedField(msg string) string {
	if m := fieldInMessage.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if strings.HasPrefix(strings.ToLower(msg), "email address") {
		return "Email"
	}
	return ""
}
