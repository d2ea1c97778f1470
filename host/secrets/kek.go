package secrets

import "context"

// KEK is a key encryption key: it wraps and unwraps data encryption keys.
// Implementations must be safe for concurrent use.
//
// The aad passed to Wrap must be passed unchanged to Unwrap; implementations
// must authenticate it (an AEAD's associated data, or a KMS encryption
// context), so a wrapped DEK moved to another row fails to unwrap.
type KEK interface {
	// ID names the key without revealing it. It is stored next to every
	// wrapped DEK and selects the KEK on open, so it must be stable for a
	// given key and distinct between keys.
	ID() string
	// Wrap encrypts dek. It must not retain dek.
	Wrap(ctx context.Context, dek, aad []byte) ([]byte, error)
	// Unwrap decrypts what Wrap returned. It fails if wrapped or aad were
	// altered or if another key wrapped it.
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// zero overwrites b; used on DEK and key buffers once they are done with.
func zero(b []byte) {
	clear(b)
}
