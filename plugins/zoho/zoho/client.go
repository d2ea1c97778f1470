package zoho

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// This file is the driver's only HTTP plumbing: everything else builds a
// request and reads a response. It moves onto the sdk's provider toolkit
// (crmhost.dev/sdk/provider) as soon as that is on main.

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/zoho/zoho.Version=…".
var Version = "0.1.0"

// maxBody bounds how much of a Zoho answer the driver reads.
const maxBody = 16 << 20

// requestTimeout is the backstop for calls whose context has no deadline;
// the host normally sets a much shorter one.
const requestTimeout = 30 * time.Second

// Driver is the Zoho CRM driver. It holds no tenant state (a per-process
// cache of notification-channel renewals aside); call New.
type Driver struct {
	http  *http.Client
	now   func() time.Time
	watch renewals
}

// New returns a Zoho driver. Deadlines come from each call's context.
func New() *Driver {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true}
	return &Driver{
		http: &http.Client{Transport: tr, Timeout: requestTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // Zoho's API does not redirect; never follow one
		}},
		now: time.Now,
	}
}

// request is one HTTP request to Zoho.
type request struct {
	method  string
	base    string // origin (and path prefix) the path is joined to
	path    string // escaped path, e.g. "/crm/v8/Leads/123"
	query   url.Values
	header  http.Header
	json    any        // JSON body
	form    url.Values // form body
	secrets []string   // redacted from every error message
	// outcomes: the answer's data[] carries each record's outcome, also
	// when Zoho answers 400 because all failed (api decodes it then).
	outcomes bool
}

// response is Zoho's answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send runs req and returns Zoho's answer whatever its status. Errors are
// transport failures only: CodeUnavailable (wrapping ctx.Err() when the
// call's context ended), CodeInternal for a request that cannot be built.
// Messages name neither address nor port and hold none of req.secrets.
func (d *Driver) send(ctx context.Context, req request) (*response, error) {
	u := strings.TrimRight(req.base, "/") + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
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
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInternal, Message: "the request to Zoho could not be built", Cause: err}
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	hr.Header.Set("User-Agent", "crmhost-zoho/"+Version)
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	resp, err := d.http.Do(hr)
	if err != nil {
		return nil, transportError(ctx, err, req.secrets)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, transportError(ctx, err, req.secrets)
	}
	if len(data) > maxBody {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "Zoho's answer is larger than the %d MiB the driver accepts", maxBody>>20)
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 && resp.StatusCode != http.StatusNotModified {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "Zoho answered %d %s, a redirect the driver does not follow", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// transportError words a failure to get an answer without the address,
// port or URL Go's errors carry.
func transportError(ctx context.Context, err error, secrets []string) *sdk.Error {
	if cerr := ctx.Err(); cerr != nil {
		msg := "Zoho did not answer within the call's deadline"
		if errors.Is(cerr, context.Canceled) {
			msg = "the call was cancelled before Zoho answered"
		}
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: msg, Cause: cerr}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: "Zoho closed the connection before answering (the request may have been applied)", Cause: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &sdk.Error{Code: sdk.CodeUnavailable, Message: redact("could not reach Zoho: the connection failed", secrets), Cause: err}
}

// redact replaces every secret in msg with "[redacted]".
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// secretsOf lists the values to keep out of error messages for a call on
// conn.
func secretsOf(conn sdk.Connection, extra ...string) []string {
	out := make([]string, 0, len(conn.Secret)+len(conn.App)+len(extra))
	for _, v := range conn.Secret {
		out = append(out, v)
	}
	for _, v := range conn.App {
		out = append(out, v)
	}
	return append(out, extra...)
}
