package broker

import "crmhost.dev/sdk"

// DeclaredLimits exposes the vetting of a driver's declared rate limits.
func (b *Broker) DeclaredLimits(desc sdk.Description) []sdk.RateLimit { return b.limits(desc) }

// SetMaxCachedTenants bounds the broker's config cache (before use).
func (b *Broker) SetMaxCachedTenants(n int) { b.config.max = n }
