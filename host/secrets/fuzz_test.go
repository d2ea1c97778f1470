package secrets_test

import (
	"bytes"
	"context"
	"testing"

	"crmhost.dev/host/secrets"
)

// FuzzOpen feeds arbitrary sealed values to Open: it must never panic, and
// nothing but the genuine value may open.
func FuzzOpen(f *testing.F) {
	// A key of this process only: with -fuzz, inputs are sealed in the
	// coordinator and run in workers, where they must count as forgeries.
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		f.Fatal(err)
	}
	k1, err := secrets.NewLocalKEK(key)
	if err != nil {
		f.Fatal(err)
	}
	kr := secrets.NewKeyringWithOptions(k1, nil, secrets.WithDEKCache(0, 0))
	genuine := seal(f, kr, []byte("genuine"), testAAD)

	f.Add(genuine.Ciphertext, genuine.WrappedDEK, genuine.KEKID, testAAD.RowID)
	f.Add([]byte{}, []byte{}, "", "")
	f.Add(make([]byte, 28), make([]byte, 60), k1.ID(), "row-1")
	f.Add(genuine.Ciphertext[:27], genuine.WrappedDEK, k1.ID(), "row-1")
	f.Add(genuine.Ciphertext, genuine.WrappedDEK[1:], k1.ID(), "row-1")
	f.Add(genuine.Ciphertext, genuine.WrappedDEK, "local:ffffffffffffffff", "row-1")

	f.Fuzz(func(t *testing.T, ct, wrapped []byte, kekID, rowID string) {
		s := secrets.Sealed{Ciphertext: ct, WrappedDEK: wrapped, KEKID: kekID}
		aad := testAAD
		aad.RowID = rowID
		pt, err := kr.Open(context.Background(), s, aad)
		isGenuine := bytes.Equal(ct, genuine.Ciphertext) && bytes.Equal(wrapped, genuine.WrappedDEK) &&
			kekID == genuine.KEKID && rowID == testAAD.RowID
		switch {
		case err == nil && !isGenuine:
			t.Fatalf("forged value opened to %q", pt)
		case err == nil && string(pt) != "genuine":
			t.Fatalf("genuine value opened to %q", pt)
		case err != nil && isGenuine:
			t.Fatalf("genuine value failed: %v", err)
		case err != nil && pt != nil:
			t.Fatalf("Open returned plaintext with error %v", err)
		}
	})
}
