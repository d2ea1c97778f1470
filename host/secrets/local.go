package secrets

import (
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// LocalKeyEnv is the environment variable cmd/crmhost reads the local KEK
// from. The package itself never reads the environment.
const LocalKeyEnv = "CRM_CREDENTIAL_ENCRYPTION_KEY"

// HKDF info strings; changing them changes every derived key and id.
const (
	hkdfInfoWrap        = "crmhost kek v1"
	hkdfInfoFingerprint = "crmhost kek fingerprint v1"
	localIDPrefix       = "local:"
	fingerprintSize     = 8
	minDistinctBytes    = 16 // 32 random bytes have ~30 distinct values; < 16 is never chance
)

const keyAdvice = `it must be exactly 32 random bytes, base64-encoded; ` +
	`generate one with "openssl rand -base64 32" or "crmhost secrets genkey"`

// LocalKEK is a KEK held in process memory, derived from 32 random bytes
// (the value of CRM_CREDENTIAL_ENCRYPTION_KEY). It suits development, CI and
// single-node installs; production fleets should prefer a KMS ([NewAWSKMS]).
// Its id is a fingerprint, "local:" followed by 16 hex digits, derived with
// HKDF so it reveals nothing about the key.
type LocalKEK struct {
	id   string
	aead cipher.AEAD
}

// NewLocalKEK parses b64, standard or URL-safe base64, padded or not
// (surrounding whitespace is ignored), which must decode to exactly 32 random
// bytes. It refuses with an error matching [ErrInvalidKey] an empty value, a
// passphrase or anything else that is not base64, hex, a wrong length and
// low-entropy keys (all zero, a repeated byte, single-case text). The error
// explains how to generate a key and never contains the value.
//
// The key is expanded with HKDF-SHA256 into an AES-256-GCM wrapping key and
// a separate fingerprint for [LocalKEK.ID].
func NewLocalKEK(b64 string) (*LocalKEK, error) {
	raw, err := parseLocalKey(b64)
	if err != nil {
		return nil, err
	}
	defer zero(raw)
	wk, err := hkdf.Key(sha256.New, raw, nil, hkdfInfoWrap, keySize)
	if err != nil {
		return nil, fmt.Errorf("secrets: derive wrapping key: %w", err)
	}
	defer zero(wk)
	fp, err := hkdf.Key(sha256.New, raw, nil, hkdfInfoFingerprint, fingerprintSize)
	if err != nil {
		return nil, fmt.Errorf("secrets: derive key fingerprint: %w", err)
	}
	g, err := newGCM(wk)
	if err != nil {
		return nil, fmt.Errorf("secrets: local KEK: %w", err)
	}
	return &LocalKEK{id: localIDPrefix + hex.EncodeToString(fp), aead: g}, nil
}

// GenerateLocalKey returns 32 bytes from crypto/rand in padded standard
// base64, suitable for CRM_CREDENTIAL_ENCRYPTION_KEY and [NewLocalKEK]. It
// fails only if the system's random source does.
func GenerateLocalKey() (string, error) {
	b := make([]byte, keySize)
	defer zero(b)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secrets: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// ID returns "local:<fingerprint>".
func (k *LocalKEK) ID() string { return k.id }

// Wrap seals dek with AES-256-GCM under the wrapping key, binding aad. It
// returns nonce || ciphertext || tag. ctx is unused: the key is local.
func (k *LocalKEK) Wrap(_ context.Context, dek, aad []byte) ([]byte, error) {
	out, err := gcmSeal(k.aead, dek, aad)
	if err != nil {
		return nil, fmt.Errorf("secrets: local KEK wrap: %w", err)
	}
	return out, nil
}

// Unwrap reverses Wrap. It returns an opaque error if wrapped or aad were
// altered or another key wrapped it.
func (k *LocalKEK) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	dek, err := gcmOpen(k.aead, wrapped, aad)
	if err != nil {
		return nil, errors.New("secrets: local KEK unwrap failed")
	}
	return dek, nil
}

// String formats the KEK by id only.
func (k *LocalKEK) String() string { return "LocalKEK(" + k.id + ")" }

// GoString formats the KEK by id only, so %#v cannot print key state.
func (k *LocalKEK) GoString() string { return k.String() }

// parseLocalKey decodes and vets a local key; every error matches
// ErrInvalidKey and none contains the input.
func parseLocalKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	refuse := func(reason string) ([]byte, error) {
		return nil, fmt.Errorf("%w (%s): %s; %s", ErrInvalidKey, LocalKeyEnv, reason, keyAdvice)
	}
	if s == "" {
		return refuse("the value is empty")
	}
	if len(s) == 2*keySize && isHex(s) {
		return refuse(`the value looks hex-encoded ("openssl rand -hex 32"), not base64`)
	}
	raw, ok := decodeBase64(s)
	if !ok {
		return refuse("the value is not base64 (a passphrase is not a key)")
	}
	if len(raw) != keySize {
		zero(raw)
		return refuse(fmt.Sprintf("the value decodes to %d bytes, not 32", len(raw)))
	}
	if distinct(raw) < minDistinctBytes || !mixedCase(s) {
		zero(raw)
		return refuse("the value has too little entropy to be random (all zero, a repeated byte or a pattern, or text rather than a random key)")
	}
	return raw, nil
}

// decodeBase64 accepts standard and URL-safe alphabets, padded or not.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func distinct(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}

// mixedCase reports whether s holds both upper- and lower-case letters. The
// base64 text of 32 random bytes lacks one of them with probability ~4e-10;
// a word-like passphrase that happens to decode to 32 bytes usually does.
func mixedCase(s string) bool {
	var upper, lower bool
	for _, c := range s {
		upper = upper || ('A' <= c && c <= 'Z')
		lower = lower || ('a' <= c && c <= 'z')
	}
	return upper && lower
}

var _ KEK = (*LocalKEK)(nil)
