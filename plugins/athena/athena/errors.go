package athena

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// apiError is athenaOne's error body: {"error": "…", "detailedmessage":
// "…"}, sometimes with more, such as the fields a write lacks
// ("missingfields"). Errors from athenahealth's API gateway may carry no
// JSON at all (a 401 "Developer Inactive" when no token is sent).
type apiError struct {
	Error           string   `json:"error"`
	DetailedMessage string   `json:"detailedmessage"`
	MissingFields   []string `json:"missingfields"`
}

func parseError(body []byte) apiError {
	var ae apiError
	if json.Unmarshal(body, &ae) != nil {
		return apiError{}
	}
	return ae
}

// message is the error's words: athenaOne's error and detailed message,
// else a short excerpt of a non-JSON body, else the status.
func (ae apiError) message(status int, body []byte) string {
	msg := strings.TrimSpace(ae.Error)
	if d := strings.TrimSpace(ae.DetailedMessage); d != "" && d != msg {
		if msg != "" {
			msg += " "
		}
		msg += d
	}
	if msg == "" {
		msg = provider.Excerpt(body)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	head := "athenahealth answered " + strconv.Itoa(status) + " " + http.StatusText(status)
	if msg == "" {
		return head
	}
	return head + ": " + msg
}

// apiRetryAfter is the back-off for a 429 from the API without a
// Retry-After header: athenahealth limits calls per second.
const apiRetryAfter = time.Second

// classify turns an athenaOne error answer into an *sdk.Error:
//
//	401, 403       auth_error (an expired or revoked token, a practice the
//	               app may not use: "Incorrect permissions.")
//	404            not_found
//	409            conflict
//	400, 422       invalid, Field "fields.<name>" for the first of
//	               "missingfields"
//	429            rate_limited, RetryAfter from Retry-After, else 1s
//	408, 5xx       unavailable, with any Retry-After
//	anything else  unavailable
//
// The message is athenahealth's own, short; the toolkit redacts the call's
// secrets from it.
func classify(r *provider.Response, now time.Time) *sdk.Error {
	ae := parseError(r.Body)
	msg := ae.message(r.Status, r.Body)
	switch {
	case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden:
		if strings.TrimSpace(string(r.Body)) == "" {
			msg += ": the access token expired or was revoked"
		}
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg}
	case r.Status == http.StatusNotFound:
		return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
	case r.Status == http.StatusConflict:
		return &sdk.Error{Code: sdk.CodeConflict, Message: msg}
	case r.Status == http.StatusTooManyRequests:
		retry, ok := provider.RetryAfter(r.Header, now)
		if !ok {
			retry = apiRetryAfter
		}
		return sdk.RateLimited(retry, "%s", msg)
	case r.Status == http.StatusBadRequest || r.Status == http.StatusUnprocessableEntity:
		e := &sdk.Error{Code: sdk.CodeInvalid, Message: msg}
		if len(ae.MissingFields) > 0 {
			e.Field = "fields." + ae.MissingFields[0]
		}
		return e
	}
	e := &sdk.Error{Code: sdk.CodeUnavailable, Message: msg}
	e.RetryAfter, _ = provider.RetryAfter(r.Header, now)
	return e
}
