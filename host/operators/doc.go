// Package operators issues, verifies and revokes the credentials of named
// operators: the people (or automations) allowed on the operator routes.
//
// Each operator has a name and a token of its own; audit rows carry the
// name, so the trail says who connected a tenant or registered a driver.
// A token looks like "crmo_<prefix>_<secret>": the prefix (12 base32
// characters) is stored in the clear to find the row, the secret (26 base32
// characters, 130 bits) only as its SHA-256 (random, not a password, so a
// fast hash is enough); comparison is constant-time. The token is shown
// once, when it is issued. Operators are created and revoked on the
// command line (crmhost operator create|list|revoke), never over HTTP, so
// a leaked token cannot mint more.
//
// Sign-in by an identity provider (OIDC, for the console) slots in beside
// the tokens: the provider's verified login maps to an operator by Name
// (the same ValidOperatorName rules fit an e-mail address), and a session
// cookie then stands for that operator exactly as a token does. host/http
// only needs the resulting host.Operator; how it was proven is this
// package's concern.
package operators
