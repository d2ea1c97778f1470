package provider_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
	"golang.org/x/net/http/httpproxy"
)

// TestEgressMatrix sends a request to every kind of address a driver must
// not reach, by IP literal and by a host name resolving to it, and checks
// each is refused at dial time with a clear error that names neither the
// address nor the port, and that the live loopback servers among them were
// never contacted.
func TestEgressMatrix(t *testing.T) {
	v4 := newServer(t, "tcp4", ok)
	v6 := newServer(t, "tcp6", ok)
	dns := fakeDNS(map[string][]netip.Addr{
		"loopback.example.test": {netip.MustParseAddr("127.0.0.1")},
		"mapped.example.test":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"private.example.test":  {netip.MustParseAddr("10.20.30.40")},
		"metadata.example.test": {netip.MustParseAddr("169.254.169.254")},
		"cgnat.example.test":    {netip.MustParseAddr("100.64.1.2")},
		"ula.example.test":      {netip.MustParseAddr("fd12:3456::1")},
	})
	c := provider.New(provider.Options{Name: "Acme", Resolver: dns})
	tests := []struct {
		name, base string
		reason     string
		live       *server // a loopback server that must see no request
	}{
		{"127.0.0.1", "http://127.0.0.1:" + v4.port(), "loopback", v4},
		{"127.0.0.2", "http://127.0.0.2:" + v4.port(), "loopback", nil},
		{"::1", "http://[::1]:" + v6.port(), "loopback", v6},
		{"::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]:" + v4.port(), "loopback", v4},
		{"0.0.0.0 (dials the local host)", "http://0.0.0.0:" + v4.port(), "unspecified", v4},
		{"localhost", "http://localhost:" + v4.port(), "loopback", v4},
		{"10/8", "http://10.1.2.3", "private", nil},
		{"172.16/12", "http://172.16.5.4", "private", nil},
		{"172.31.255.254", "http://172.31.255.254:8080", "private", nil},
		{"192.168/16", "https://192.168.1.1", "private", nil},
		{"100.64/10 (CGNAT)", "http://100.64.0.1", "carrier-grade NAT", nil},
		{"169.254.169.254 (metadata)", "http://169.254.169.254/latest/meta-data", "cloud metadata", nil},
		{"fd00:ec2::254 (metadata)", "http://[fd00:ec2::254]", "cloud metadata", nil},
		{"169.254/16", "http://169.254.1.1", "link-local", nil},
		{"fe80::/10", "http://[fe80::1]", "link-local", nil},
		{"fc00::/7", "http://[fc00::5]", "private", nil},
		{"multicast", "http://224.0.0.1", "multicast", nil},
		{"broadcast", "http://255.255.255.255", "broadcast", nil},
		{"::", "http://[::]:" + v6.port(), "unspecified", v6},
		{"benchmarking 198.18/15", "http://198.18.0.1", "reserved", nil},
		{"NAT64 of 127.0.0.1", "http://[64:ff9b::7f00:1]", "reserved", nil},
		{"name resolving to 127.0.0.1", "http://loopback.example.test:" + v4.port(), "loopback", v4},
		{"name resolving to ::ffff:127.0.0.1", "http://mapped.example.test:" + v4.port(), "loopback", v4},
		{"name resolving to 10/8", "https://private.example.test", "private", nil},
		{"name resolving to metadata", "http://metadata.example.test", "cloud metadata", nil},
		{"name resolving to 100.64/10", "http://cgnat.example.test", "carrier-grade NAT", nil},
		{"name resolving to fc00::/7", "http://ula.example.test", "private", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := int64(0)
			if tt.live != nil {
				before = tt.live.hits.Load()
			}
			_, err := c.Do(t.Context(), provider.Request{BaseURL: tt.base, Path: "/v1/contacts"})
			u, _ := url.Parse(tt.base)
			absent := []string{u.Hostname(), "10.20.30.40", "169.254.169.254", "100.64.1.2", "fd12:3456::1"}
			if u.Port() != "" {
				absent = append(absent, u.Port())
			}
			e := wantError(t, err, sdk.CodeInvalid, "config.base_url",
				[]string{"Acme's address is not allowed", tt.reason, "public internet addresses"}, absent...)
			if !errors.Is(err, provider.ErrEgress) {
				t.Errorf("errors.Is(err, ErrEgress) = false for %v", e)
			}
			if tt.live != nil && tt.live.hits.Load() != before {
				t.Errorf("the refused server was contacted")
			}
		})
	}
}

// TestEgressAllowlist shows the host's allowlist in the call's context
// letting loopback servers through, and only what it names.
func TestEgressAllowlist(t *testing.T) {
	v4 := newServer(t, "tcp4", ok)
	v6 := newServer(t, "tcp6", ok)
	dns := fakeDNS(map[string][]netip.Addr{"crm.example.test": {netip.MustParseAddr("127.0.0.1")}})
	c := provider.New(provider.Options{Name: "Acme", Resolver: dns})
	v4only := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	private := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name  string
		allow []netip.Prefix
		base  string
		ok    bool
	}{
		{"127.0.0.1 with loopback allowed", loopback, v4.URL, true},
		{"::1 with loopback allowed", loopback, "http://[::1]:" + v6.port(), true},
		{"::ffff:127.0.0.1 with loopback allowed", loopback, "http://[::ffff:127.0.0.1]:" + v4.port(), true},
		{"localhost with loopback allowed", loopback, "http://localhost:" + v4.port(), true},
		{"a name resolving to 127.0.0.1", loopback, "http://crm.example.test:" + v4.port(), true},
		{"127.0.0.1 with 127.0.0.1/32 allowed", v4only, v4.URL, true},
		{"::1 with only 127.0.0.1/32 allowed", v4only, "http://[::1]:" + v6.port(), false},
		{"127.0.0.1 with only 10/8 allowed", private, v4.URL, false},
		{"127.0.0.1 with nothing allowed", nil, v4.URL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := sdk.WithEgressAllow(t.Context(), tt.allow)
			resp, err := c.Do(ctx, provider.Request{BaseURL: tt.base, Path: "/x"})
			if !tt.ok {
				wantError(t, err, sdk.CodeInvalid, "config.base_url", []string{"not allowed", "loopback"})
				return
			}
			if err != nil || resp.Status != http.StatusOK || string(resp.Body) != `{"ok":true}` {
				t.Fatalf("Do = %+v, %v; want 200 from the test server", resp, err)
			}
		})
	}
}

// TestEgressPoolsAreSeparate shows a keep-alive connection dialed under an
// allowlist is not reused by a later call without it: that call dials
// afresh and is refused.
func TestEgressPoolsAreSeparate(t *testing.T) {
	var conns atomic.Int64
	srv := newServer(t, "tcp4", ok, func(s *http.Server) {
		s.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
	})
	c := provider.New(provider.Options{})
	for range 3 {
		if _, err := c.Do(allowed(t), provider.Request{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("allowed calls used %d connections, want 1 kept alive", n)
	}
	_, err := c.Do(t.Context(), provider.Request{BaseURL: srv.URL})
	wantError(t, err, sdk.CodeInvalid, "config.base_url", []string{"loopback"})
	if n := srv.hits.Load(); n != 3 {
		t.Errorf("server saw %d requests, want 3 (the call without the allowlist must not reach it)", n)
	}
}

// TestNoProxyFromEnvironment sets HTTP_PROXY and HTTPS_PROXY to a proxy
// that answers everything itself and shows the client never contacts it,
// while an environment-respecting client would.
func TestNoProxyFromEnvironment(t *testing.T) {
	proxy := newServer(t, "tcp4", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `"via the proxy"`) })
	target := newServer(t, "tcp4", ok)
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	// A name that is not localhost, so proxy rules apply to it.
	dns := fakeDNS(map[string][]netip.Addr{"crm.example.test": {netip.MustParseAddr("127.0.0.1")}})
	base := "http://crm.example.test:" + target.port()

	u, _ := url.Parse(base + "/x")
	if p, err := httpproxy.FromEnvironment().ProxyFunc()(u); err != nil || p == nil || p.Host != proxy.Listener.Addr().String() {
		t.Fatalf("control: an environment-respecting client would use proxy %v (%v), want the test proxy", p, err)
	}

	c := provider.New(provider.Options{Resolver: dns})
	resp, err := c.Do(allowed(t), provider.Request{BaseURL: base, Path: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != `{"ok":true}` || target.hits.Load() != 1 {
		t.Errorf("body %q, target hits %d: want the target's answer", resp.Body, target.hits.Load())
	}
	if n := proxy.hits.Load(); n != 0 {
		t.Errorf("the proxy got %d requests, want 0", n)
	}
	// Through HTTPClient too.
	hr, _ := http.NewRequestWithContext(allowed(t), http.MethodGet, base+"/y", nil)
	r2, err := c.HTTPClient(allowed(t)).Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if n := proxy.hits.Load(); n != 0 {
		t.Errorf("the proxy got %d requests through HTTPClient, want 0", n)
	}
}

// TestCheckAddr covers the classification of addresses the end-to-end
// matrix cannot dial, and the allowlist's precedence.
func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr   string
		allow  []netip.Prefix
		reason string // "" when allowed
	}{
		{"8.8.8.8", nil, ""},
		{"2606:4700:4700::1111", nil, ""},
		{"93.184.216.34", nil, ""},
		{"127.0.0.1", nil, "loopback"},
		{"127.255.255.254", nil, "loopback"},
		{"::1", nil, "loopback"},
		{"::ffff:127.0.0.1", nil, "loopback"},
		{"::ffff:10.0.0.1", nil, "private"},
		{"::ffff:169.254.169.254", nil, "cloud metadata"},
		{"10.255.255.255", nil, "private"},
		{"172.16.0.0", nil, "private"},
		{"172.32.0.1", nil, ""},
		{"192.168.0.1", nil, "private"},
		{"100.64.0.0", nil, "carrier-grade NAT"},
		{"100.127.255.255", nil, "carrier-grade NAT"},
		{"100.128.0.1", nil, ""},
		{"169.254.169.254", nil, "cloud metadata"},
		{"169.254.170.2", nil, "cloud metadata"},
		{"fd00:ec2::254", nil, "cloud metadata"},
		{"169.254.0.1", nil, "link-local"},
		{"fe80::1%eth0", nil, "link-local"},
		{"fc00::1", nil, "private"},
		{"ff02::1", nil, "multicast"},
		{"239.255.255.250", nil, "multicast"},
		{"0.0.0.0", nil, "unspecified"},
		{"::", nil, "unspecified"},
		{"255.255.255.255", nil, "broadcast"},
		{"0.1.2.3", nil, "reserved"},
		{"192.0.2.1", nil, "reserved"},
		{"240.0.0.1", nil, "reserved"},
		{"2001:db8::1", nil, "reserved"},
		{"64:ff9b::a00:1", nil, "reserved"},
		{"127.0.0.1", loopback, ""},
		{"::ffff:127.0.0.1", loopback, ""},
		{"::1", loopback, ""},
		{"10.1.2.3", loopback, "private"},
		{"10.1.2.3", []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, ""},
		{"10.2.0.1", []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, "private"},
		{"169.254.169.254", []netip.Prefix{{}}, "cloud metadata"}, // an invalid prefix allows nothing
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := provider.CheckAddr(netip.MustParseAddr(tt.addr), tt.allow)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckAddr(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			if err == nil || !errors.Is(err, provider.ErrEgress) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("CheckAddr(%s) = %v, want refused as %s", tt.addr, err, tt.reason)
			}
		})
	}
}

// TestEgressRefusedThroughHTTPClient shows HTTPClient has the same guard,
// and TransportError words its refusal like Do's.
func TestEgressRefusedThroughHTTPClient(t *testing.T) {
	srv := newServer(t, "tcp4", ok)
	c := provider.New(provider.Options{Name: "Acme"})
	hr, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	_, err := c.HTTPClient(context.Background()).Do(hr)
	if err == nil {
		t.Fatal("HTTPClient reached a loopback server without the allowlist")
	}
	wantError(t, c.TransportError(t.Context(), err, nil), sdk.CodeInvalid, "config.base_url",
		[]string{"Acme's address is not allowed: it is a loopback address"}, "127.0.0.1", srv.port())
	if srv.hits.Load() != 0 {
		t.Error("the server was contacted")
	}
}
