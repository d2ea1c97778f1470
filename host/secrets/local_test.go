package secrets_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"crmhost.dev/host/secrets"
)

func TestNewLocalKEKParsing(t *testing.T) {
	raw := sha256.Sum256([]byte("parsing"))
	std := base64.StdEncoding.EncodeToString(raw[:])
	wantID, err := secrets.NewLocalKEK(std)
	if err != nil {
		t.Fatalf("NewLocalKEK(std): %v", err)
	}

	zeros := make([]byte, 32)
	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"std padded", std, true},
		{"std unpadded", base64.RawStdEncoding.EncodeToString(raw[:]), true},
		{"url padded", base64.URLEncoding.EncodeToString(raw[:]), true},
		{"url unpadded", base64.RawURLEncoding.EncodeToString(raw[:]), true},
		{"trailing newline", std + "\n", true},
		{"surrounding spaces", "  " + std + "\t", true},

		{"empty", "", false},
		{"whitespace", " \n\t ", false},
		{"passphrase", "correct horse battery staple", false},
		{"passphrase, base64-shaped", "thisismysupersecretpasswordforcrmhost123456", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"31 bytes", base64.StdEncoding.EncodeToString(raw[:31]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(raw[:], 1)), false},
		{"64 bytes", base64.StdEncoding.EncodeToString(bytes.Repeat(raw[:], 2)), false},
		{"all zero", base64.StdEncoding.EncodeToString(zeros), false},
		{"repeated byte", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32)), false},
		{"short pattern", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1, 2, 3, 4}, 8)), false},
		{"hex", hex.EncodeToString(raw[:]), false},
		{"mixed alphabets", std[:10] + "+-" + std[12:], false},
		{"not base64", "!!!!" + std[4:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := secrets.NewLocalKEK(tt.input)
			if tt.ok {
				if err != nil {
					t.Fatalf("NewLocalKEK: %v", err)
				}
				if k.ID() != wantID.ID() {
					t.Errorf("ID() = %q, want %q (same key, other encoding)", k.ID(), wantID.ID())
				}
				return
			}
			if err == nil {
				t.Fatalf("NewLocalKEK accepted %s", tt.name)
			}
			if !errors.Is(err, secrets.ErrInvalidKey) {
				t.Errorf("err = %v, want ErrInvalidKey", err)
			}
			msg := err.Error()
			if in := strings.TrimSpace(tt.input); len(in) >= 4 && strings.Contains(msg, in) {
				t.Errorf("error echoes the input: %q", msg)
			}
			for _, want := range []string{"openssl rand -base64 32", "crmhost secrets genkey", secrets.LocalKeyEnv} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestLocalKEKID(t *testing.T) {
	k1, k1again, k2 := localKEK(t, "k1"), localKEK(t, "k1"), localKEK(t, "k2")
	if !regexp.MustCompile(`^local:[0-9a-f]{16}$`).MatchString(k1.ID()) {
		t.Errorf("ID() = %q, want local:<16 hex digits>", k1.ID())
	}
	if k1.ID() != k1again.ID() {
		t.Errorf("same key, different ids: %q, %q", k1.ID(), k1again.ID())
	}
	if k1.ID() == k2.ID() {
		t.Errorf("different keys share id %q", k1.ID())
	}
	raw, _ := base64.StdEncoding.DecodeString(testKey("k1"))
	if strings.Contains(k1.ID(), hex.EncodeToString(raw[:8])) {
		t.Error("ID() reveals key bytes")
	}
}

func TestLocalKEKWrapBindsAAD(t *testing.T) {
	ctx := context.Background()
	k := localKEK(t, "k1")
	dek := bytes.Repeat([]byte{7}, 32)
	w, err := k.Wrap(ctx, dek, []byte("aad-1"))
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if got, err := k.Unwrap(ctx, w, []byte("aad-1")); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap = %x, %v; want the DEK", got, err)
	}
	if _, err := k.Unwrap(ctx, w, []byte("aad-2")); err == nil {
		t.Error("Unwrap with other aad succeeded")
	}
	if _, err := localKEK(t, "k2").Unwrap(ctx, w, []byte("aad-1")); err == nil {
		t.Error("Unwrap with other key succeeded")
	}
}

func TestGenerateLocalKey(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		key, err := secrets.GenerateLocalKey()
		if err != nil {
			t.Fatalf("GenerateLocalKey: %v", err)
		}
		raw, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(raw) != 32 {
			t.Fatalf("GenerateLocalKey() decodes to %d bytes, %v; want 32 bytes of std base64", len(raw), err)
		}
		if _, err := secrets.NewLocalKEK(key); err != nil {
			t.Fatalf("NewLocalKEK(generated): %v", err)
		}
		if seen[key] {
			t.Fatal("GenerateLocalKey repeated a key")
		}
		seen[key] = true
	}
}
