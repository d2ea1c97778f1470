// Package contract holds the custom-webhook bridge's published contract:
// openapi.json, an OpenAPI 3.1 document whose webhooks are the envelopes
// the driver sends to a tenant's endpoint (one per verb) with the answers
// the endpoint must give. The README explains it in words; this is the
// machine-readable form a tenant's team can generate or check a receiver
// from, and the one the receiver fake validates every request against.
package contract

import _ "embed"

// OpenAPI is the contract document (OpenAPI 3.1, webhooks only).
//
//go:embed openapi.json
var OpenAPI []byte
