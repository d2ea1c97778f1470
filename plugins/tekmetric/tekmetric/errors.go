package tekmetric

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// errForbidden is the Cause of a 403's error, so a session can name its
// shop in the message.
var errForbidden = errors.New("tekmetric: 403 forbidden")

// apiError is every error body Tekmetric answers: the API's envelope
// {"type":"ERROR","message":"Access Denied","data":null,"details":{}} and
// the OAuth shape {"error":"invalid_client","error_description":…}.
// 401 and 429 come with an empty body.
type apiError struct {
	Type             string         `json:"type"`
	Message          string         `json:"message"`
	Details          map[string]any `json:"details"`
	Error            string         `json:"error"`
	ErrorDescription string         `json:"error_description"`
}

func parseError(body []byte) apiError {
	var ae apiError
	if json.Unmarshal(body, &ae) != nil {
		return apiError{}
	}
	return ae
}

// text is the error's message in words: the envelope's message, or the
// OAuth error and its description, as a short sanitised excerpt.
func (ae apiError) text(body []byte) string {
	switch {
	case ae.Message != "":
		return provider.Excerpt([]byte(strconv.Quote(ae.Message)))
	case ae.Error != "" && ae.ErrorDescription != "":
		return provider.Excerpt([]byte(strconv.Quote(ae.Error + ": " + ae.ErrorDescription)))
	case ae.Error != "":
		return provider.Excerpt([]byte(strconv.Quote(ae.Error)))
	}
	return provider.Excerpt(body)
}

// classify turns a Tekmetric error answer into an *sdk.Error:
//
//	401 (empty body)            auth_error: the token is revoked or not this app's
//	403 Access Denied           auth_error (Cause errForbidden: the session names the shop)
//	404                         not_found
//	409                         conflict
//	400, 422                    invalid, Field fields.<name> when details name one
//	429 (empty body)            rate_limited, RetryAfter from Retry-After or the
//	                            rate-limit headers when sent (else the session's back-off)
//	408, 5xx                    unavailable (RetryAfter when sent)
//
// Messages are Tekmetric's own, as short sanitised excerpts; the provider
// toolkit redacts the call's secrets besides.
func classify(r *provider.Response) *sdk.Error {
	ae := parseError(r.Body)
	msg := "Tekmetric answered " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	if x := ae.text(r.Body); x != "" {
		msg += ": " + x
	}
	switch {
	case r.Status == http.StatusUnauthorized:
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg + " (the access token is revoked or belongs to another partner app; a new one is obtained with the platform's client credentials)"}
	case r.Status == http.StatusForbidden:
		return &sdk.Error{Code: sdk.CodeAuth, Message: msg, Cause: errForbidden}
	case r.Status == http.StatusNotFound || r.Status == http.StatusGone:
		return &sdk.Error{Code: sdk.CodeNotFound, Message: msg}
	case r.Status == http.StatusConflict:
		return &sdk.Error{Code: sdk.CodeConflict, Message: msg}
	case r.Status == http.StatusTooManyRequests:
		retry := r.RetryAfter
		if strings.TrimSpace(r.Header.Get("Retry-After")) == "" {
			retry = r.RateLimit.Reset
		}
		return sdk.RateLimited(retry, "%s (Tekmetric allows 600 requests a minute per partner app, 300 in the sandbox)", msg)
	case r.Status == http.StatusBadRequest || r.Status == http.StatusUnprocessableEntity:
		e := &sdk.Error{Code: sdk.CodeInvalid, Message: msg}
		if len(ae.Details) > 0 {
			e.Field = "fields." + slices.Sorted(maps.Keys(ae.Details))[0]
		}
		return e
	case r.Status == http.StatusRequestTimeout || r.Status >= 500:
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg, RetryAfter: r.RetryAfter}
	}
	return provider.Classify("Tekmetric", r)
}

// tokenError classifies an answer of the token endpoint: Tekmetric refuses
// bad client credentials with {"error":"invalid_client"} (401, or 400 for
// some Spring versions): CodeAuth naming the app credentials, which only an
// operator can fix. Other errors classify as any answer.
func tokenError(r *provider.Response) *sdk.Error {
	ae := parseError(r.Body)
	switch {
	case ae.Error == "invalid_client" || ae.Error == "unauthorized_client" ||
		(r.Status == http.StatusUnauthorized && ae.Error == ""):
		what := "invalid_client"
		if ae.Error != "" {
			what = ae.text(r.Body)
		}
		return &sdk.Error{Code: sdk.CodeAuth, Message: "Tekmetric refused the platform's partner client credentials (" + what +
			"): an operator must check the tekmetric driver's app credentials client_id and client_secret (sandbox and production credentials differ)"}
	case ae.Error != "" && r.Status < 500 && r.Status != http.StatusTooManyRequests:
		return &sdk.Error{Code: sdk.CodeInternal, Message: "Tekmetric refused the driver's token request (" + ae.text(r.Body) + ")"}
	}
	return classify(r)
}

func encodeBasic(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
}

// backoff is Tekmetric's documented back-off for 429s, which come with an
// empty body and no retry-after: wait min(2^n s + up to 1 s, 60 s), n
// counting consecutive 429s from 1. It counts per partner app and host
// within this process, and resets on the first success.
type backoff struct {
	jitter func(max time.Duration) time.Duration

	mu sync.Mutex
	n  map[string]int
}

// Back-off bounds from Tekmetric's docs.
const (
	maxBackoff   = 60 * time.Second
	backoffSteps = 6 // 2^6 s already exceeds maxBackoff
	maxJitter    = time.Second
	maxKeys      = 1024
)

// next counts a 429 for key and returns how long to wait.
func (b *backoff) next(key string) time.Duration {
	b.mu.Lock()
	if len(b.n) >= maxKeys {
		clear(b.n)
	}
	n := min(b.n[key]+1, backoffSteps)
	b.n[key] = n
	b.mu.Unlock()
	return min(time.Duration(1<<n)*time.Second+b.jitter(maxJitter), maxBackoff)
}

// reset forgets key's 429s.
func (b *backoff) reset(key string) {
	b.mu.Lock()
	if b.n[key] != 0 {
		delete(b.n, key)
	}
	b.mu.Unlock()
}
