package provider

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// The transport side: one *http.Client per egress allowlist, the guard at
// dial time, the redirect policy and the size cap.

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
	policy := sameOrigin
	if c.strict {
		policy = noRedirects
	}
	hc := &http.Client{Transport: &sender{next: tr, max: c.max}, CheckRedirect: policy}
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
// every redirect followed, passes through RoundTrip, which traces it (see
// startSpan) and caps the response body.
type sender struct {
	next *http.Transport
	max  int64
}

func (s *sender) RoundTrip(req *http.Request) (*http.Response, error) {
	span := startSpan(req)
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		endSpan(span, 0, err)
		return nil, err
	}
	if resp.ContentLength > s.max {
		resp.Body.Close()
		endSpan(span, resp.StatusCode, ErrTooLarge)
		return nil, ErrTooLarge
	}
	resp.Body = &capped{rc: resp.Body, left: s.max, span: span, status: resp.StatusCode}
	return resp, nil
}

func (s *sender) CloseIdleConnections() { s.next.CloseIdleConnections() }

// capped fails with ErrTooLarge once more than its limit has been read.
// Closing it ends the request's span.
type capped struct {
	rc     io.ReadCloser
	left   int64
	span   trace.Span
	status int
	err    error
}

func (b *capped) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.err = ErrTooLarge
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

func (b *capped) Close() error {
	if b.span != nil {
		endSpan(b.span, b.status, b.err)
		b.span = nil
	}
	return b.rc.Close()
}

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

// noRedirects is the redirect policy of Options.NoRedirects: every 3xx is
// handed to Do, which reports it.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
