package sdk

import (
	"context"
	"net/netip"
)

type egressAllowKey struct{}

// WithEgressAllow returns ctx carrying the address prefixes the provider
// toolkit (sdk/provider) lets a driver reach although its egress guard
// refuses them otherwise: loopback, private, link-local, CGNAT, multicast
// and metadata addresses. Only the host sets it, in the call envelope
// (dev mode and tests allow loopback); nothing in a tenant's connection can.
func WithEgressAllow(ctx context.Context, prefixes []netip.Prefix) context.Context {
	if len(prefixes) == 0 {
		return ctx
	}
	return context.WithValue(ctx, egressAllowKey{}, prefixes)
}

// EgressAllow returns the prefixes ctx allows (see WithEgressAllow), or nil.
func EgressAllow(ctx context.Context) []netip.Prefix {
	p, _ := ctx.Value(egressAllowKey{}).([]netip.Prefix)
	return p
}
