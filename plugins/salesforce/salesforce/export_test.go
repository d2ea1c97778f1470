package salesforce

import "crmhost.dev/sdk"

// Internals exposed to the external salesforce_test package.
var (
	Classify = classify
	Quote    = quote
	SOSLTerm = soslTerm
)

// TrustedURL reports whether the driver would send a token to raw.
func TrustedURL(conn sdk.Connection, raw string) bool {
	_, ok := trustedURL(conn, raw)
	return ok
}
