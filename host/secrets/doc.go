// Package secrets encrypts tenant credentials at rest.
//
// The host stores every tenant's CRM credentials (OAuth refresh tokens, API
// keys, passwords) in its database. A database dump, a backup left in a bucket
// or a read-only SQL injection must not hand those credentials out, and a
// ciphertext copied from one tenant's row into another's must not decrypt
// there. This package is the only place that turns such a secret into bytes
// that may be stored, and back.
//
// # Envelope encryption
//
// Each row gets a fresh random 256-bit data encryption key (DEK). The payload
// is sealed with AES-256-GCM under the DEK (12-byte random nonce, 16-byte
// tag); the DEK is then wrapped by a key encryption key (KEK) and stored next
// to the ciphertext together with the KEK's id (see [Sealed]). KEKs come from
// a provider:
//
//   - [LocalKEK]: 32 random bytes from CRM_CREDENTIAL_ENCRYPTION_KEY,
//     expanded with HKDF-SHA256. For development, CI and single-node installs.
//     Passphrases are refused.
//   - [KMSKEK]: a remote key held by a cloud KMS and reached through tink-go's
//     KMS integrations ([NewAWSKMS] for AWS); the key never leaves the KMS.
//
// # Binding
//
// Both the payload and the wrapped DEK are authenticated together with an
// [AAD] naming the tenant, table, column and row the value belongs to, so a
// ciphertext moved to another place fails to open.
//
// # Rotation
//
// A [Keyring] seals under its primary KEK and opens with any KEK it holds,
// chosen by the id recorded in the row. Rotating a KEK means putting the new
// one first, keeping the old one for reading, and calling [Keyring.Rewrap] on
// every row for which [Keyring.NeedsRewrap] is true: only the wrapped DEK
// changes, payloads are not re-encrypted.
//
// # Caching
//
// Unwrapping a DEK may be a network round trip to a KMS, so unwrapped DEKs are
// kept in a small bounded cache with a short time to live ([WithDEKCache]).
// Failures are never cached.
//
// # Errors
//
// Every failure to open a value is reported as an error matching [ErrDecrypt]
// with errors.Is, deliberately without saying which step failed. Error
// messages never contain plaintext, keys or ciphertext; [Sealed] and the KEK
// types format themselves without their bytes, so they are safe to log.
package secrets
