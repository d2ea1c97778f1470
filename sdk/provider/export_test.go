package provider

import "net/netip"

// CheckAddr is the egress guard's decision for one address under an
// allowlist, for the external tests.
func CheckAddr(a netip.Addr, allow []netip.Prefix) error { return guard{allow}.check(a) }
