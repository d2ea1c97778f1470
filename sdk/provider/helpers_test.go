package provider_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"crmhost.dev/sdk"
	"golang.org/x/net/dns/dnsmessage"
)

// loopback is the allowlist dev mode and tests put in the call's context.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// allowed returns t's context carrying the loopback allowlist.
func allowed(t *testing.T) context.Context {
	return sdk.WithEgressAllow(t.Context(), loopback)
}

// server is a loopback test server that counts the requests it gets.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

// newServer starts a server on 127.0.0.1 (network "tcp4") or ::1 ("tcp6"),
// after applying configure to its http.Server.
func newServer(t *testing.T, network string, h http.HandlerFunc, configure ...func(*http.Server)) *server {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "tcp6" {
		addr = "[::1]:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen %s: %v", network, err)
	}
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	s.Listener = ln
	for _, f := range configure {
		f(s.Config)
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// ok answers 200 with a small JSON body.
func ok(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
}

// port is the server's port.
func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

// wantError fails unless err is an *sdk.Error with code and field whose
// message contains every one of contains and none of absent.
func wantError(t *testing.T, err error, code sdk.Code, field string, contains []string, absent ...string) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *sdk.Error %s", err, err, code)
	}
	if e.Code != code || e.Field != field {
		t.Errorf("error = %v, want code %s field %q", err, code, field)
	}
	for _, s := range contains {
		if !strings.Contains(e.Message, s) {
			t.Errorf("message %q does not contain %q", e.Message, s)
		}
	}
	for _, s := range absent {
		if s != "" && strings.Contains(e.Message, s) {
			t.Errorf("message %q contains %q", e.Message, s)
		}
	}
	return e
}

// fakeDNS returns a resolver that answers A and AAAA queries for the names
// in zone (without the trailing dot) and NXDOMAIN for every other name,
// without touching the network.
func fakeDNS(zone map[string][]netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, srv := net.Pipe()
		go serveDNS(srv, zone)
		return client, nil
	}}
}

// serveDNS answers DNS-over-stream queries (2-byte length prefix) on c.
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
