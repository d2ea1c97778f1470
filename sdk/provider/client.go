package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"crmhost.dev/sdk"
)

const (
	// DefaultMaxResponseBytes is the response size cap unless
	// Options.MaxResponseBytes says otherwise.
	DefaultMaxResponseBytes = 16 << 20
	// DefaultTimeout is the backstop for calls whose context has no
	// deadline; the host normally sends a much shorter one.
	DefaultTimeout = 30 * time.Second
	// maxRedirects bounds a chain of same-origin redirects.
	maxRedirects = 10
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Name is the provider's name as error messages say it ("HubSpot");
	// default "the provider".
	Name string
	// UserAgent is sent unless a request sets its own; default
	// "crmhost-driver".
	UserAgent string
	// MaxResponseBytes caps a response body; a larger answer is an error,
	// never truncated. Default DefaultMaxResponseBytes (16 MiB).
	MaxResponseBytes int64
	// Timeout bounds a call whose context has no deadline; default
	// DefaultTimeout. A context deadline always wins.
	Timeout time.Duration
	// Classify turns a non-2xx answer into an error in Call: a driver sets
	// it to parse its provider's error bodies, and may fall back to the
	// package's Classify. Returning nil also falls back. Default Classify.
	Classify func(*Response) *sdk.Error
	// Resolver looks up provider host names; default net.DefaultResolver.
	// Tests point it at a fake DNS. The egress guard checks whatever
	// address it returns.
	Resolver *net.Resolver
	// Now is the clock Retry-After dates and rate-limit resets are
	// measured against; default time.Now.
	Now func() time.Time
}

// Client sends a driver's requests to its provider. Make one per driver
// process with New and share it: it is safe for concurrent use and keeps
// one pool of keep-alive connections per provider origin.
//
// Every request goes through the same guards: the URL is joined from a
// checked base URL and an escaped path (see JoinURL); no proxy is taken
// from the environment; every connection is checked after DNS resolution
// by the egress guard, which refuses loopback, private, link-local, CGNAT,
// multicast, metadata and other non-public addresses unless the call's
// context carries the host's allowlist (sdk.WithEgressAllow); redirects
// are followed only within the same scheme, host and port; the answer is
// capped in size; and error messages name neither address nor port, and
// never the request's secrets.
type Client struct {
	name, ua string
	max      int64
	timeout  time.Duration
	classify func(*Response) *sdk.Error
	resolver *net.Resolver
	now      func() time.Time

	mu sync.Mutex
	// clients holds one *http.Client (and so one connection pool) per
	// distinct egress allowlist, keyed by allowKey.
	clients map[string]*http.Client
}

// New returns a Client with o's settings.
func New(o Options) *Client {
	c := &Client{name: o.Name, ua: o.UserAgent, max: o.MaxResponseBytes, timeout: o.Timeout,
		classify: o.Classify, resolver: o.Resolver, now: o.Now, clients: map[string]*http.Client{}}
	if c.name == "" {
		c.name = "the provider"
	}
	if c.ua == "" {
		c.ua = "crmhost-driver"
	}
	if c.max <= 0 {
		c.max = DefaultMaxResponseBytes
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.classify == nil {
		c.classify = func(r *Response) *sdk.Error { return Classify(c.name, r) }
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

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

// Do sends req and returns the answer, whatever its status: a driver
// inspects Status itself (or uses Call). Errors, all *sdk.Error with the
// request's secrets redacted: CodeInvalid naming config.base_url for a
// refused base URL or provider address (Cause ErrEgress); CodeInvalid for
// a refused path; CodeUnavailable for a redirect that is not followed
// (naming its status), an answer over the size cap (Cause ErrTooLarge), a
// provider that cannot be reached, and the call's context ending (wrapping
// ctx.Err()); CodeInternal for a request that cannot be encoded.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	resp, e := c.do(ctx, req, "")
	if e != nil {
		return nil, redact(e, req.Secrets)
	}
	return resp, nil
}

// Call sends req expecting JSON (it sets Accept: application/json unless
// req says otherwise) and decodes a 2xx answer into out (nil discards it).
// A non-2xx answer is the error Options.Classify makes of it; other errors
// are Do's and DecodeJSON's. Every message has req.Secrets redacted.
func (c *Client) Call(ctx context.Context, req Request, out any) error {
	resp, e := c.do(ctx, req, "application/json")
	if e == nil && !resp.OK() {
		if e = c.classify(resp); e == nil {
			e = Classify(c.name, resp)
		}
	}
	if e == nil && out != nil {
		e = resp.decode(out)
	}
	if e != nil {
		return redact(e, req.Secrets)
	}
	return nil
}

// do sends req, with an Accept header of accept unless req has one.
func (c *Client) do(ctx context.Context, req Request, accept string) (*Response, *sdk.Error) {
	u, err := JoinURL(req.BaseURL, req.Path, req.Query)
	if err != nil {
		return nil, sdk.AsError(err)
	}
	body, ctype, e := req.encode()
	if e != nil {
		return nil, e
	}
	backstop := false
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
		backstop = true
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInternal, Message: "the request to " + c.name + " could not be built (is its method valid?)", Cause: err}
	}
	hr.Header = req.Header.Clone()
	if hr.Header == nil {
		hr.Header = http.Header{}
	}
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", c.ua)
	}
	if accept != "" && hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", accept)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	resp, err := c.client(sdk.EgressAllow(ctx)).Do(hr)
	if err != nil {
		return nil, c.transportError(ctx, err, backstop, false)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, c.transportError(ctx, err, backstop, true)
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 && resp.StatusCode != http.StatusNotModified {
		return nil, &sdk.Error{Code: sdk.CodeUnavailable, Message: c.name + " answered " + strconv.Itoa(resp.StatusCode) + " " +
			http.StatusText(resp.StatusCode) + ", a redirect drivers do not follow (only redirects within the same scheme, host and port are)"}
	}
	now := c.now()
	ra, _ := RetryAfter(resp.Header, now)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data, RetryAfter: ra,
		RateLimit: ParseRateLimit(resp.Header, now), name: c.name}, nil
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

// HTTPClient returns an *http.Client with the same guards as Do (egress
// guard for ctx's allowlist, no proxy, same-origin redirects, size cap),
// for libraries that take one, such as golang.org/x/oauth2. It has no
// timeout of its own: requests take their deadline from their context.
// Turn its errors into *sdk.Error with TransportError.
func (c *Client) HTTPClient(ctx context.Context) *http.Client {
	return c.client(sdk.EgressAllow(ctx))
}

// client returns the *http.Client for an allowlist, creating it once.
func (c *Client) client(allow []netip.Prefix) *http.Client {
	key, allow := allowKey(allow)
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc := c.clients[key]; hc != nil {
		return hc
	}
	dialer := &net.Dialer{KeepAlive: 30 * time.Second, Resolver: c.resolver, ControlContext: guard{allow}.control}
	tr := &http.Transport{
		Proxy:                 nil, // never from the environment
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	hc := &http.Client{Transport: &sender{next: tr, max: c.max}, CheckRedirect: sameOrigin}
	c.clients[key] = hc
	return hc
}

// CloseIdleConnections closes every pooled connection not in use.
func (c *Client) CloseIdleConnections() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hc := range c.clients {
		hc.CloseIdleConnections()
	}
}

// sender is the one place a request leaves the driver: every request, and
// every redirect followed, passes through RoundTrip (per-request tracing
// belongs here). It caps the response body.
type sender struct {
	next *http.Transport
	max  int64
}

func (s *sender) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > s.max {
		resp.Body.Close()
		return nil, ErrTooLarge
	}
	resp.Body = &capped{rc: resp.Body, left: s.max}
	return resp, nil
}

func (s *sender) CloseIdleConnections() { s.next.CloseIdleConnections() }

// capped fails with ErrTooLarge once more than its limit has been read.
type capped struct {
	rc   io.ReadCloser
	left int64
}

func (b *capped) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *capped) Close() error { return b.rc.Close() }

var (
	_ http.RoundTripper = (*sender)(nil)
	_ io.ReadCloser     = (*capped)(nil)
)

// sameOrigin is the redirect policy: follow only to the scheme, host and
// port of the original request, at most maxRedirects times; otherwise
// stop and hand the 3xx to Do, which reports it.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errTooManyRedirects
	}
	a, b := req.URL, via[0].URL
	if a.Scheme != b.Scheme || !strings.EqualFold(a.Hostname(), b.Hostname()) || port(a) != port(b) {
		return http.ErrUseLastResponse
	}
	return nil
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
