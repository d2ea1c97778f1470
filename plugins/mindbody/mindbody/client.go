package mindbody

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// DefaultBaseURL is Mindbody's Public API v6; conn.Config["base_url"]
// overrides it (a fake in development). There is no separate sandbox
// host: the sandbox is site -99.
const DefaultBaseURL = "https://api.mindbodyonline.com/public/v6"

// Version is the driver's version, reported by Describe. Release builds set
// it with -ldflags "-X crmhost.dev/plugins/mindbody/mindbody.Version=…".
var Version = "0.1.0"

// maxBody bounds how much of a Mindbody response the driver reads.
const maxBody = 16 << 20

// requestTimeout is a backstop for calls whose context has no deadline;
// the host normally sets a much shorter one.
const requestTimeout = 30 * time.Second

// Driver is the Mindbody driver. It holds no tenant state beyond a
// per-process cache of each site's client directory (ids, modification
// times, hashed phone numbers; see directory.go); the zero value is not
// usable, call New.
type Driver struct {
	http *http.Client
	dir  *directory
	now  func() time.Time
}

// New returns a Mindbody driver. Deadlines come from each call's context.
func New() *Driver {
	tr := &http.Transport{}
	if def, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = def.Clone()
	}
	tr.Proxy = nil // never from the environment
	tr.MaxIdleConnsPerHost = 16
	return &Driver{
		http: &http.Client{Transport: tr, Timeout: requestTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		dir: newDirectory(defaultDirectoryEntries),
		now: time.Now,
	}
}

// request is one Mindbody API call.
type request struct {
	method string
	path   string // below the base URL: "/client/clients"
	query  url.Values
	in     any  // JSON body, nil for none
	noAuth bool // send no staff token (usertoken/issue, site/sites)
}

// response is a Mindbody answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send runs req for session s: the Api-Key and SiteId headers, and the
// staff token unless req.noAuth. It returns the answer whatever its
// status; transport failures are *sdk.Error (CodeUnavailable, wrapping
// ctx.Err() when the call's context ended).
func (s *session) send(ctx context.Context, req request) (*response, error) {
	u := s.base + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.in != nil {
		b, err := json.Marshal(req.in)
		if err != nil {
			return nil, &sdk.Error{Code: sdk.CodeInternal, Message: "encode request: " + err.Error(), Cause: err}
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInternal, Message: "build the request to Mindbody", Cause: err}
	}
	hr.Header.Set("Api-Key", s.apiKey)
	if s.site != "" && req.path != "/site/sites" {
		hr.Header.Set("SiteId", s.site)
	}
	if !req.noAuth && s.token != "" {
		hr.Header.Set("Authorization", s.token)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", "crmhost-mindbody/"+Version)
	if req.in != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.d.http.Do(hr)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, transportError(ctx, err)
	}
	if len(data) > maxBody {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "Mindbody's answer is larger than the %d MiB the driver accepts", maxBody>>20)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// call runs req and decodes a 2xx JSON answer into out (nil discards it).
// Any other answer is classified (see classify); every error message has
// the session's secrets redacted.
func (s *session) call(ctx context.Context, req request, out any) error {
	resp, err := s.send(ctx, req)
	if err != nil {
		return redactError(err, s.secrets)
	}
	if resp.status < 200 || resp.status > 299 {
		return redactError(classify(resp.status, resp.header, resp.body, s.d.now()), s.secrets)
	}
	if out == nil || len(bytes.TrimSpace(resp.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return &sdk.Error{Code: sdk.CodeUnavailable, Message: "Mindbody answered " + http.StatusText(resp.status) +
			" with a body that is not the expected JSON", Cause: err}
	}
	return nil
}

// redactError removes every secret from an *sdk.Error's message.
func redactError(err error, secrets []string) error {
	e := sdk.AsError(err)
	msg := e.Message
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	if msg == e.Message {
		return err
	}
	c := *e
	c.Message = msg
	return &c
}
