package provider

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
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
	// NoRedirects refuses every redirect, same-origin ones too: any 3xx
	// answer (but 304) is CodeUnavailable with Cause ErrRedirect. Webhook
	// senders set it: Standard Webhooks counts a 3xx as a failed
	// delivery, and a redirected POST would lose its body or method.
	NoRedirects bool
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
	// strict refuses every redirect (Options.NoRedirects).
	strict bool

	mu sync.Mutex
	// clients holds one *http.Client (and so one connection pool) per
	// distinct egress allowlist, keyed by allowKey.
	clients map[string]*http.Client
}

// New returns a Client with o's settings.
func New(o Options) *Client {
	c := &Client{name: o.Name, ua: o.UserAgent, max: o.MaxResponseBytes, timeout: o.Timeout,
		classify: o.Classify, resolver: o.Resolver, now: o.Now, clients: map[string]*http.Client{}, strict: o.NoRedirects}
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
		why := ", a redirect drivers do not follow (only redirects within the same scheme, host and port are)"
		if c.strict {
			why = ", a redirect this driver does not follow: set its address to the final URL"
		}
		return nil, &sdk.Error{Code: sdk.CodeUnavailable, Cause: ErrRedirect,
			Message: c.name + " answered " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode) + why}
	}
	now := c.now()
	ra, _ := RetryAfter(resp.Header, now)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data, RetryAfter: ra,
		RateLimit: ParseRateLimit(resp.Header, now), name: c.name}, nil
}

// HTTPClient returns an *http.Client with the same guards as Do (egress
// guard for ctx's allowlist, no proxy, same-origin redirects, size cap),
// for libraries that take one, such as golang.org/x/oauth2. It has no
// timeout of its own: requests take their deadline from their context.
// Turn its errors into *sdk.Error with TransportError.
func (c *Client) HTTPClient(ctx context.Context) *http.Client {
	return c.client(sdk.EgressAllow(ctx))
}
