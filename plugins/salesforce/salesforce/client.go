package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// This file is the driver's only HTTP plumbing. It sends a request and
// hands back the answer; everything Salesforce-specific (paths, bodies,
// error arrays) lives elsewhere.

// request is one HTTP request to Salesforce.
type request struct {
	method  string
	base    string // origin (and base path) the path is joined to
	path    string // escaped path, e.g. "/services/data/v66.0/sobjects/Contact"
	query   url.Values
	header  http.Header
	json    any        // JSON body, nil for none
	form    url.Values // form body, nil for none
	secrets []string   // redacted from every error message
}

// response is Salesforce's answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// maxBody bounds how much of an answer the driver reads.
const maxBody = 16 << 20

// requestTimeout is a backstop for calls whose context has no deadline.
const requestTimeout = 30 * time.Second

func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // Salesforce never redirects an API call
		},
	}
}

// send runs req and returns the answer whatever its status. Errors are
// transport failures (CodeUnavailable, wrapping ctx.Err() when the call's
// context ended) and requests that cannot be built (CodeInvalid naming
// the config key for a bad base URL).
func (d *Driver) send(ctx context.Context, req request) (*response, error) {
	u, err := url.Parse(strings.TrimRight(req.base, "/") + req.path)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, sdk.Invalid("config."+sdk.ConfigBaseURL, "does not make a valid Salesforce URL")
	}
	if len(req.query) > 0 {
		u.RawQuery = req.query.Encode()
	}
	var body io.Reader
	ctype := ""
	switch {
	case req.json != nil:
		b, err := json.Marshal(req.json)
		if err != nil {
			return nil, &sdk.Error{Code: sdk.CodeInternal, Message: "encode request: " + err.Error(), Cause: err}
		}
		body, ctype = bytes.NewReader(b), "application/json"
	case req.form != nil:
		body, ctype = strings.NewReader(req.form.Encode()), "application/x-www-form-urlencoded"
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInternal, Message: "the request to Salesforce could not be built", Cause: err}
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", "crmhost-salesforce/"+Version)
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	resp, err := d.http.Do(hr)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, transportError(ctx, err)
	}
	if len(data) > maxBody {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "Salesforce answered more than %d MiB", maxBody>>20)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// retryAfterHeader reads Retry-After as seconds or an HTTP date.
func retryAfterHeader(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// transportError words a failure to get an answer without naming the
// address: the call's context ending (wrapping ctx.Err()), a dropped
// connection, an unreachable host are all CodeUnavailable.
func transportError(ctx context.Context, err error) *sdk.Error {
	if cerr := ctx.Err(); cerr != nil {
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: "the Salesforce call ended: " + cerr.Error(), Cause: cerr}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: "Salesforce closed the connection before answering (the request may have been applied)", Cause: err}
	}
	return &sdk.Error{Code: sdk.CodeUnavailable, Message: "could not reach Salesforce", Cause: err}
}
