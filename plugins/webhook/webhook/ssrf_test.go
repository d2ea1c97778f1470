package webhook_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
	"golang.org/x/net/dns/dnsmessage"
)

// TestSSRF: an endpoint URL at a loopback, private, link-local or metadata
// address, an IPv4-mapped one, a host name resolving to a private address,
// or an endpoint redirecting to one is refused when the tenant connects
// (TestConnection, ListObjects) and at call time, with an invalid error
// naming config.base_url and saying why, never the address. Calls carry no
// egress allowlist here, as in production.
func TestSSRF(t *testing.T) {
	d := webhook.NewWith(webhook.Options{Attempts: 1, Resolver: fakeDNS(map[string][]netip.Addr{
		"crm.tenant.example": {netip.MustParseAddr("10.1.2.3")},
		"v6.tenant.example":  {netip.MustParseAddr("fd12::1")},
	})})
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		t.Cleanup(cancel)
		return c
	}
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer redirector.Close()
	for _, tc := range []struct{ name, url, why string }{
		{"127.0.0.1", "http://127.0.0.1:8080/hook", "loopback"},
		{"::1", "http://[::1]:8080/hook", "loopback"},
		{"10/8", "https://10.0.0.7/hook", "private network"},
		{"172.16/12", "https://172.20.1.1/hook", "private network"},
		{"192.168/16", "https://192.168.1.20/hook", "private network"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", "cloud metadata"},
		{"::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]:8080/hook", "loopback"},
		{"name resolving to 10/8", "https://crm.tenant.example/hook", "private network"},
		{"name resolving to fc00::/7", "https://v6.tenant.example/hook", "private network"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: tc.url}, Secret: map[string]string{"signing_secret": fake.DefaultSecret}}
			_, err := d.TestConnection(ctx(t), conn)
			checkRefused(t, "connect (TestConnection)", err, tc.why)
			_, err = d.ListObjects(ctx(t), conn)
			checkRefused(t, "connect (ListObjects)", err, tc.why)
			_, err = d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Phone: "+14155550100", Objects: []string{"customers"}})
			checkRefused(t, "call (LookupCustomer)", err, tc.why)
			_, err = d.CreateRecord(ctx(t), conn, sdk.CreateInput{Object: "customers", Fields: map[string]any{"email": "a@example.com"}})
			checkRefused(t, "call (CreateRecord)", err, tc.why)
		})
	}
	t.Run("redirect to the metadata address", func(t *testing.T) {
		// The endpoint itself is let through (as in dev mode); its
		// redirect is not followed.
		conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: redirector.URL}, Secret: map[string]string{"signing_secret": fake.DefaultSecret}}
		_, err := d.TestConnection(allowed(t), conn)
		e := wantError(t, err, sdk.CodeInvalid, "config."+sdk.ConfigBaseURL, "302 Found", "redirect")
		if strings.Contains(e.Message, "169.254") {
			t.Errorf("message names the redirect target: %q", e.Message)
		}
	})
}

func checkRefused(t *testing.T, when string, err error, why string) {
	t.Helper()
	var e *sdk.Error
	if err == nil || !asError(err, &e) || e.Code != sdk.CodeInvalid || e.Field != "config."+sdk.ConfigBaseURL {
		t.Errorf("%s: %v, want invalid naming config.base_url", when, err)
		return
	}
	if !strings.Contains(e.Message, why) || !strings.Contains(e.Message, "not allowed") {
		t.Errorf("%s: message %q does not say the address is not allowed (%s)", when, e.Message, why)
	}
	for _, leak := range []string{"127.0.0.1", "10.0.0.7", "10.1.2.3", "169.254", "192.168", "172.20", "::1", "8080"} {
		if strings.Contains(e.Message, leak) {
			t.Errorf("%s: message %q names the address (%s)", when, e.Message, leak)
		}
	}
}

func asError(err error, e **sdk.Error) bool {
	se := sdk.AsError(err)
	*e = se
	return se != nil && se.Code != sdk.CodeInternal
}

// fakeDNS answers A and AAAA queries for zone's names, NXDOMAIN otherwise,
// without touching the network.
func fakeDNS(zone map[string][]netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, srv := net.Pipe()
		go serveDNS(srv, zone)
		return client, nil
	}}
}

func serveDNS(c net.Conn, zone map[string][]netip.Addr) {
	defer c.Close()
	for {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(msg)
		if err != nil {
			return
		}
		q, err := p.Question()
		if err != nil {
			return
		}
		addrs, found := zone[strings.TrimSuffix(q.Name.String(), ".")]
		rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
		if !found {
			rh.RCode = dnsmessage.RCodeNameError
		}
		b := dnsmessage.NewBuilder(nil, rh)
		_ = b.StartQuestions()
		_ = b.Question(q)
		_ = b.StartAnswers()
		for _, a := range addrs {
			rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			switch {
			case a.Is4() && q.Type == dnsmessage.TypeA:
				_ = b.AResource(rr, dnsmessage.AResource{A: a.As4()})
			case a.Is6() && q.Type == dnsmessage.TypeAAAA:
				_ = b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: a.As16()})
			}
		}
		out, err := b.Finish()
		if err != nil {
			return
		}
		binary.BigEndian.PutUint16(l[:], uint16(len(out)))
		if _, err := c.Write(append(l[:], out...)); err != nil {
			return
		}
	}
}
