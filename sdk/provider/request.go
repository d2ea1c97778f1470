package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// Request is one request to the provider.
type Request struct {
	// Method is the HTTP method; default GET.
	Method string
	// BaseURL is the provider's API base URL: the connection's config
	// base_url, or the driver's default. See ParseBaseURL.
	BaseURL string
	// Path is the escaped path below BaseURL's path, built with Path or
	// Segment ("/crm/v3/objects/contacts/" + provider.Segment(id)). See
	// JoinURL for what is refused.
	Path string
	// Query is encoded into the URL's query.
	Query url.Values
	// Header holds the request's headers (Authorization, Accept...).
	Header http.Header
	// At most one body: JSON is encoded as application/json, Form as
	// application/x-www-form-urlencoded, Body is sent as it is with
	// ContentType.
	JSON        any
	Form        url.Values
	Body        []byte
	ContentType string
	// Secrets are redacted from every error message the call returns,
	// the provider's own included: pass SecretsOf(conn) and any token the
	// request carries.
	Secrets []string
}

// Response is the provider's answer, read whole.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the whole body, at most Options.MaxResponseBytes.
	Body []byte
	// RetryAfter is the Retry-After header's delay (seconds or HTTP-date);
	// 0 when not sent.
	RetryAfter time.Duration
	// RateLimit is what the rate-limit headers say.
	RateLimit RateLimit

	name string
}

// OK reports whether the status is 2xx.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status <= 299 }

// DecodeJSON decodes the body into v. An empty body decodes nothing and is
// no error. A body that is not JSON, or JSON of another shape than v, is
// CodeUnavailable.
func (r *Response) DecodeJSON(v any) error {
	if e := r.decode(v); e != nil {
		return e
	}
	return nil
}

func (r *Response) decode(v any) *sdk.Error {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	err := json.Unmarshal(r.Body, v)
	if err == nil {
		return nil
	}
	name := r.name
	if name == "" {
		name = "the provider"
	}
	status := strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	if !json.Valid(r.Body) {
		what := "a body that is not JSON"
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); ct != "" && len(ct) < 100 {
			what += " (" + sanitise(ct) + ")"
		}
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: name + " answered " + status + " with " + what, Cause: err}
	}
	return &sdk.Error{Code: sdk.CodeUnavailable, Message: name + " answered " + status + " with JSON of an unexpected shape", Cause: err}
}

// encode returns the request's body and content type.
func (r Request) encode() ([]byte, string, *sdk.Error) {
	n := 0
	for _, set := range []bool{r.JSON != nil, r.Form != nil, r.Body != nil} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, "", &sdk.Error{Code: sdk.CodeInternal, Message: "a request has at most one of JSON, Form and Body"}
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, "", &sdk.Error{Code: sdk.CodeInternal, Message: "the request body could not be encoded as JSON: " + err.Error(), Cause: err}
		}
		return b, "application/json", nil
	case r.Form != nil:
		return []byte(r.Form.Encode()), "application/x-www-form-urlencoded", nil
	}
	return r.Body, r.ContentType, nil
}
