// Package apikeys issues and verifies the public API's keys.
//
// A key looks like "crmk_<prefix>_<secret>": the prefix (12 base32
// characters) is stored in the clear to find the row, the secret (26 base32
// characters, 130 bits) only as its SHA-256. A fast hash is enough because
// the secret is random, not a password; comparison is constant-time. The
// key is shown once, when it is issued.
package apikeys
