package broker

import "crmhost.dev/sdk"

// DeclaredLimits exposes the vetting of a driver's declared rate limits.
func (b *Broker) DeclaredLimits(desc sdk.Description) []sdk.RateLimit { return b.limits(desc) }
