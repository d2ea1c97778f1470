// Package oauth runs the host's side of the OAuth authorization-code
// connect flow: it renders a driver's authorize URL template with the
// connection's config, adds the platform app's client id, the scopes, a
// single-use state bound to the tenant, the operator and an expiry, and a
// PKCE (S256) challenge where the provider supports it; and on the
// provider's callback it consumes the state (once, before its expiry) and
// hands back what the flow was started with. Exchanging the code is the
// driver's job (its Authorize knows the provider's quirks); sealing and
// testing the result is the broker's.
package oauth
