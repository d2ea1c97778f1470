package secrets

import "errors"

// Sentinel errors. Compare with errors.Is; messages carry context but never
// key material, plaintext or ciphertext.
var (
	// ErrDecrypt is matched by every error returned from [Keyring.Open],
	// [OpenJSON] and the unwrap step of [Keyring.Rewrap]. It does not say
	// which step failed (wrapped key, payload, associated data), so it gives
	// an attacker who tampers with stored rows no oracle.
	ErrDecrypt = errors.New("secrets: decryption failed")

	// ErrUnknownKEK is returned (together with ErrDecrypt) when a sealed
	// value names a KEK id the keyring does not hold. The message names the
	// id, which is not secret.
	ErrUnknownKEK = errors.New("secrets: unknown KEK id")

	// ErrInvalidAAD is returned when an [AAD] has an empty field.
	ErrInvalidAAD = errors.New("secrets: invalid associated data")

	// ErrInvalidKey is returned by [NewLocalKEK] for a key that is not
	// exactly 32 random bytes in base64. The message never contains the key.
	ErrInvalidKey = errors.New("secrets: invalid local encryption key")

	// ErrInvalidKeyURI is returned by [NewAWSKMS] for a malformed key URI.
	ErrInvalidKeyURI = errors.New("secrets: invalid KMS key URI")
)
