package secrets_test

import (
	"context"
	"testing"

	"crmhost.dev/host/secrets"
)

func BenchmarkSealOpen(b *testing.B) {
	plaintext := []byte(`{"client_id":"abc","client_secret":"0123456789abcdef","refresh_token":"1//0gAbCdEfGhIjKlMnOpQrStUvWxYz"}`)
	kek := localKEK(b, "bench")
	for _, bc := range []struct {
		name string
		kr   *secrets.Keyring
	}{
		{"cached", secrets.NewKeyring(kek)},
		{"uncached", secrets.NewKeyringWithOptions(kek, nil, secrets.WithDEKCache(0, 0))},
	} {
		b.Run(bc.name+"/seal+open", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(plaintext)))
			for b.Loop() {
				s, err := bc.kr.Seal(ctx, plaintext, testAAD)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := bc.kr.Open(ctx, s, testAAD); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/open", func(b *testing.B) {
			ctx := context.Background()
			s := seal(b, bc.kr, plaintext, testAAD)
			b.ReportAllocs()
			b.SetBytes(int64(len(plaintext)))
			for b.Loop() {
				if _, err := bc.kr.Open(ctx, s, testAAD); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
