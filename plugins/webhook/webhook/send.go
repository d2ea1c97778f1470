package webhook

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Envelope types: one per verb. crm.describe serves TestConnection,
// ListObjects and DescribeObject.
const (
	typeDescribe = "crm.describe"
	typeLookup   = "crm.lookup_customer"
	typeSearch   = "crm.search_records"
	typeCreate   = "crm.create_record"
	typeUpdate   = "crm.update_record"
	typeList     = "crm.list_recent"
	typeDelete   = "crm.delete_record"
	typeErase    = "crm.erase_record"
)

// call says how one envelope type is sent and answered.
type call struct {
	typ string
	// read: sent as GET when the connection's read_method is GET.
	read bool
	// retry: idempotent, so retried on a transport failure or a 5xx.
	retry bool
	// missing: a 404 means the record is missing (not_found); for other
	// types it means the endpoint URL is wrong.
	missing bool
	// empty: a 2xx with an empty body is a complete answer.
	empty bool
	// nomatch: a 404 whose body names code not_found means no match (a
	// lookup; the contract asks for 200 with no records, but REST habits
	// die hard).
	nomatch bool
}

var (
	callDescribe = call{typ: typeDescribe, read: true, retry: true}
	callLookup   = call{typ: typeLookup, read: true, retry: true, nomatch: true}
	callSearch   = call{typ: typeSearch, read: true, retry: true}
	callList     = call{typ: typeList, read: true, retry: true}
	callCreate   = call{typ: typeCreate}
	callUpdate   = call{typ: typeUpdate, retry: true, missing: true, empty: true}
	callDelete   = call{typ: typeDelete, retry: true, missing: true, empty: true}
	callErase    = call{typ: typeErase, retry: true, missing: true, empty: true}
)

// envelope is the JSON body of every request (Standard Webhooks'
// recommended {type, timestamp, data}).
type envelope struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	RequestID string `json:"request_id,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	Data      any    `json:"data"`
}

// minAttempt is the least time left before the call's deadline for a
// retry to be worth starting.
const minAttempt = 50 * time.Millisecond

// send delivers one envelope of type c with data to the connection's
// endpoint and decodes a 2xx answer into out (nil: ignored). The envelope
// is signed anew for every attempt (webhook-timestamp is the attempt's
// time) but keeps its webhook-id and bytes; idempotent types are retried
// with backoff on a transport failure or a 5xx while the call's deadline
// allows.
func (d *Driver) send(ctx context.Context, conn sdk.Connection, c call, data, out any) error {
	keys, err := signingKeys(conn)
	if err != nil {
		return err
	}
	base := conn.Config[sdk.ConfigBaseURL]
	if base == "" {
		return sdk.Invalid("config."+sdk.ConfigBaseURL, "is required: the URL of the endpoint this connection sends its requests to")
	}
	method := http.MethodPost
	switch m := strings.ToUpper(conn.Config[configReadMethod]); {
	case m == http.MethodGet && c.read:
		method = http.MethodGet
	case m != "" && m != http.MethodGet && m != http.MethodPost:
		return sdk.Invalid("config."+configReadMethod, "must be POST or GET")
	}
	body, err := json.Marshal(envelope{Type: c.typ, Timestamp: d.o.Now().UTC().Format(time.RFC3339Nano),
		RequestID: sdk.RequestID(ctx), AccountID: conn.AccountID, Data: data})
	if err != nil {
		return &sdk.Error{Code: sdk.CodeInternal, Message: "the " + c.typ + " envelope could not be encoded as JSON", Cause: err}
	}
	id := "msg_" + crand.Text()
	wait := d.o.Backoff
	for attempt := 1; ; attempt++ {
		resp, retryAfter, err := d.attempt(ctx, conn, c, method, base, keys, id, body)
		if err == nil {
			return decode(c, resp, out)
		}
		if !c.retry || attempt >= d.o.Attempts || retryAfter < 0 {
			return err
		}
		pause := wait + time.Duration(rand.Int64N(int64(wait)/4+1))
		pause = max(pause, retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < pause+minAttempt {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait *= 2
	}
}

// attempt sends the envelope once. It returns the 2xx answer, or the
// error with how long to wait before a retry: negative when the failure
// must not be retried (an answer other than 5xx, a refused address, a
// redirect, an oversized answer, the call's context ending).
func (d *Driver) attempt(ctx context.Context, conn sdk.Connection, c call, method, base string, keys [][]byte, id string, body []byte) (*provider.Response, time.Duration, error) {
	ts := d.o.Now().Unix()
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", signatureHeader(keys, id, ts, body))
	h.Set("Accept", "application/json")
	req := provider.Request{Method: method, BaseURL: base, Header: h, Secrets: provider.SecretsOf(conn)}
	if method == http.MethodGet {
		req.Query = url.Values{"envelope": {base64.RawURLEncoding.EncodeToString(body)}}
	} else {
		req.Body, req.ContentType = body, "application/json"
	}
	resp, err := d.http.Do(ctx, req)
	switch {
	case err != nil && errors.Is(err, provider.ErrRedirect):
		e := sdk.AsError(err)
		return nil, -1, &sdk.Error{Code: sdk.CodeInvalid, Field: "config." + sdk.ConfigBaseURL, Cause: provider.ErrRedirect,
			Message: e.Message + " (Standard Webhooks counts a redirect as a failure)"}
	case err != nil:
		e := sdk.AsError(err)
		if e.Code != sdk.CodeUnavailable || ctx.Err() != nil || errors.Is(err, provider.ErrTooLarge) {
			return nil, -1, err
		}
		return nil, 0, err
	case resp.OK():
		return resp, 0, nil
	}
	e := classify(c, resp)
	switch resp.Status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return nil, resp.RetryAfter, e
	}
	return nil, -1, e
}

// errorBody is what the contract lets an endpoint say in a non-2xx
// answer (a problem+json body fits it too).
type errorBody struct {
	Code  string `json:"code"`
	Field string `json:"field"`
}

// endpointCodes are the codes an endpoint may name.
var endpointCodes = map[sdk.Code]bool{sdk.CodeInvalid: true, sdk.CodeNotFound: true, sdk.CodeConflict: true, sdk.CodeAuth: true,
	sdk.CodeRateLimited: true, sdk.CodeUnsupported: true, sdk.CodeUnavailable: true}

// fieldName is what an endpoint's invalid answer may name as its field.
var fieldName = regexp.MustCompile(`^[A-Za-z0-9_.\[\]-]{1,200}$`)

// classify turns a non-2xx answer to c into an error: the code the body
// names, else the status's; a 404 for a type that has no record to miss,
// a 405 and a 410 name the configuration to fix.
func classify(c call, r *provider.Response) *sdk.Error {
	var b errorBody
	_ = json.Unmarshal(r.Body, &b) // best effort: any body is allowed
	what := "the endpoint answered " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status) + " to " + c.typ
	if x := provider.Excerpt(r.Body); x != "" {
		what += ": " + x
	}
	code := sdk.Code(b.Code)
	if !endpointCodes[code] {
		code = statusCode(r.Status)
	}
	base := "config." + sdk.ConfigBaseURL
	switch {
	case r.Status == http.StatusGone:
		return sdk.Invalid(base, "%s. It no longer accepts crmhost's requests (Standard Webhooks: disable the endpoint); re-enable the receiver or set a new endpoint URL", what)
	case r.Status == http.StatusMethodNotAllowed && c.read:
		return sdk.Invalid("config."+configReadMethod, "%s: does the endpoint take this connection's read method?", what)
	case r.Status == http.StatusMethodNotAllowed:
		return sdk.Invalid(base, "%s: is the endpoint URL right?", what)
	case code == sdk.CodeNotFound && c.nomatch && b.Code == string(sdk.CodeNotFound):
		return &sdk.Error{Code: sdk.CodeNotFound, Message: what}
	case code == sdk.CodeNotFound && !c.missing:
		return &sdk.Error{Code: sdk.CodeInvalid, Field: base, Cause: errNoSuchEndpoint,
			Message: what + ". Only update, delete and erase answer 404 (for a missing record): is the endpoint URL right?"}
	}
	e := &sdk.Error{Code: code, Message: what}
	switch code {
	case sdk.CodeAuth:
		e.Message += ". Check that the endpoint verifies signatures with this connection's signing secret"
	case sdk.CodeInvalid:
		if fieldName.MatchString(b.Field) {
			e.Field = b.Field
		}
	case sdk.CodeRateLimited:
		e.RetryAfter = r.RetryAfter
		if e.RetryAfter <= 0 {
			e.RetryAfter = r.RateLimit.Reset
		}
	case sdk.CodeUnavailable:
		e.RetryAfter = r.RetryAfter
	}
	return e
}

// errNoSuchEndpoint is the Cause of a 404 to a type without records to
// miss; a lookup that the endpoint answers 404 with code not_found reads
// it as no match.
var errNoSuchEndpoint = errors.New("endpoint answered 404")

// statusCode is the error code of an HTTP status when the body names none.
func statusCode(status int) sdk.Code {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return sdk.CodeAuth
	case status == http.StatusNotFound:
		return sdk.CodeNotFound
	case status == http.StatusConflict:
		return sdk.CodeConflict
	case status == http.StatusTooManyRequests:
		return sdk.CodeRateLimited
	case status == http.StatusNotImplemented:
		return sdk.CodeUnsupported
	case status >= 400 && status <= 499:
		return sdk.CodeInvalid
	}
	return sdk.CodeUnavailable
}

// decode reads a 2xx answer to c into out. An empty body is complete only
// for types whose answer is optional; a body that is not JSON, or JSON of
// another shape, is CodeInvalid naming the response (or its member).
func decode(c call, r *provider.Response, out any) error {
	if out == nil {
		return nil
	}
	what := "the endpoint answered " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status) + " to " + c.typ
	if len(bytes.TrimSpace(r.Body)) == 0 {
		if c.empty {
			return nil
		}
		return sdk.Invalid("response", "%s with an empty body; the contract requires a JSON answer", what)
	}
	err := json.Unmarshal(r.Body, out)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field != "":
		return sdk.Invalid("response."+te.Field, "%s whose %s is a JSON %s, not the %s the contract requires", what, te.Field, te.Value, jsonKind(te.Type.Kind().String()))
	case json.Valid(r.Body):
		return sdk.Invalid("response", "%s with JSON of another shape than the contract's (%s)", what, jsonKind(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "json: cannot unmarshal "), "json: ")))
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if ct = strings.TrimSpace(ct); ct == "" || len(ct) > 100 {
		ct = "no content type"
	}
	return sdk.Invalid("response", "%s with a body that is not JSON (%s); the contract requires JSON", what, provider.Excerpt([]byte(ct)))
}

// jsonKind names a Go kind the way the contract does.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "int", "int64", "float64":
		return "number"
	}
	return k
}
