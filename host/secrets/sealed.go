package secrets

import (
	"fmt"
	"log/slog"
)

// Sealed is an encrypted value as stored in a row: the payload, the DEK it
// was sealed with (wrapped by a KEK) and that KEK's id. None of it is secret
// on its own, but it formats itself without its bytes so a stray log line
// cannot copy ciphertext around.
type Sealed struct {
	// Ciphertext is nonce (12 bytes) || AES-256-GCM ciphertext || tag (16 bytes).
	Ciphertext []byte
	// WrappedDEK is the per-row data encryption key as wrapped by the KEK.
	WrappedDEK []byte
	// KEKID is the [KEK.ID] of the KEK that wrapped WrappedDEK.
	KEKID string
}

// String describes s by KEK id and sizes only.
func (s Sealed) String() string {
	return fmt.Sprintf("Sealed{KEKID: %q, Ciphertext: %d bytes, WrappedDEK: %d bytes}",
		s.KEKID, len(s.Ciphertext), len(s.WrappedDEK))
}

// GoString is String, so %#v does not dump bytes either.
func (s Sealed) GoString() string { return s.String() }

// LogValue implements slog.LogValuer with the same fields as String.
func (s Sealed) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kek_id", s.KEKID),
		slog.Int("ciphertext_bytes", len(s.Ciphertext)),
		slog.Int("wrapped_dek_bytes", len(s.WrappedDEK)),
	)
}

var (
	_ fmt.Stringer   = Sealed{}
	_ fmt.GoStringer = Sealed{}
	_ slog.LogValuer = Sealed{}
)
