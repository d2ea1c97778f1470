package secrets

import (
	"context"
	"encoding/json"
	"fmt"
)

// SealJSON marshals v to JSON and seals it with kr for aad (the host stores
// credential maps, map[string]string, this way). The JSON buffer is zeroed
// afterwards. Errors: a JSON marshal error naming only v's type, or those of
// [Keyring.Seal].
func SealJSON(ctx context.Context, kr *Keyring, v any, aad AAD) (Sealed, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Sealed{}, fmt.Errorf("secrets: seal %s: cannot encode %T as JSON", aad, v)
	}
	defer zero(b)
	return kr.Seal(ctx, b, aad)
}

// OpenJSON opens s with kr for aad and unmarshals the JSON into out, a
// pointer. The plaintext is zeroed afterwards (strings in out are copies).
// Errors: those of [Keyring.Open] (matching [ErrDecrypt]), or, when the
// plaintext is not JSON that fits out, an error naming only out's type (the
// JSON decoder's own messages can quote plaintext, so they are dropped).
func OpenJSON(ctx context.Context, kr *Keyring, s Sealed, aad AAD, out any) error {
	b, err := kr.Open(ctx, s, aad)
	if err != nil {
		return err
	}
	defer zero(b)
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("secrets: open %s: decrypted value does not decode as JSON into %T", aad, out)
	}
	return nil
}
