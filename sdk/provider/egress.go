package provider

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"syscall"

	"code.dny.dev/ssrf"
)

// ErrEgress is the Cause of the CodeInvalid error a call gets when the
// egress guard refuses the address its provider's host name resolved to.
var ErrEgress = errors.New("provider address not allowed")

// egressError is what the guard answers a refused dial with. Its reason
// names the kind of address, never the address or port.
type egressError struct{ reason string }

func (e *egressError) Error() string { return "address not allowed: " + e.reason }
func (e *egressError) Unwrap() error { return ErrEgress }

// guardian classifies what the named checks below leave over: every other
// IANA special-purpose range, IPv4 and IPv6 (code.dny.dev/ssrf). Any port
// is allowed: self-hosted providers listen on their own.
var guardian = ssrf.New(ssrf.WithAnyPort())

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	broadcast = netip.MustParseAddr("255.255.255.255")
	// metadata are the cloud instance-metadata endpoints (AWS, GCP, Azure,
	// OpenStack: 169.254.169.254; AWS IPv6; ECS task metadata; Alibaba).
	metadata = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"),
		netip.MustParseAddr("fd00:ec2::254"),
		netip.MustParseAddr("169.254.170.2"),
		netip.MustParseAddr("100.100.100.200"),
	}
)

// guard is the egress check of one transport: every connection it dials is
// checked after DNS resolution, against the address the socket is about to
// connect to. allow is the host's allowlist the transport was made for.
type guard struct{ allow []netip.Prefix }

// control is a net.Dialer ControlContext.
func (g guard) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return &egressError{"it is not a TCP address"}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &egressError{"its address could not be read"}
	}
	return g.check(ap.Addr())
}

// check refuses addr unless it is a public internet address or inside the
// allowlist. IPv4-mapped IPv6 addresses are judged as the IPv4 address they
// carry.
func (g guard) check(addr netip.Addr) error {
	a := addr.Unmap().WithZone("")
	for _, p := range g.allow {
		if p.Contains(a) {
			return nil
		}
	}
	if r := reason(a); r != "" {
		return &egressError{r}
	}
	return nil
}

// reason says in words why a is not a public address, or "" when it is.
func reason(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "it is not an IP address"
	case slices.Contains(metadata, a):
		return "it is a cloud metadata address"
	case a.IsLoopback():
		return "it is a loopback address"
	case a.IsUnspecified():
		return "it is the unspecified address"
	case a == broadcast:
		return "it is the broadcast address"
	case a.IsMulticast():
		return "it is a multicast address"
	case a.IsLinkLocalUnicast():
		return "it is a link-local address"
	case a.IsPrivate():
		return "it is in a private network range"
	case cgnat.Contains(a):
		return "it is in the carrier-grade NAT range"
	case guardian.SafeAddr(a) != nil:
		return "it is in a reserved or special-purpose range"
	}
	return ""
}

// allowKey is the canonical form of an allowlist: one transport (and one
// connection pool) exists per distinct key, so a connection dialed under
// an allowlist is never reused by a call without it.
func allowKey(allow []netip.Prefix) (string, []netip.Prefix) {
	out := make([]netip.Prefix, 0, len(allow))
	for _, p := range allow {
		if p.IsValid() {
			out = append(out, p.Masked())
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
	out = slices.Compact(out)
	keys := make([]string, len(out))
	for i, p := range out {
		keys[i] = p.String()
	}
	return strings.Join(keys, ","), out
}
