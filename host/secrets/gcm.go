package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

const (
	keySize   = 32 // AES-256
	nonceSize = 12 // GCM standard nonce
	tagSize   = 16 // GCM full tag
)

var errShort = errors.New("secrets: ciphertext too short")

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, errors.New("secrets: key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
}

// gcmSeal returns nonce || ciphertext || tag with a fresh random nonce.
func gcmSeal(g cipher.AEAD, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return g.Seal(out, out[:nonceSize], plaintext, aad), nil
}

// gcmOpen reverses gcmSeal.
func gcmOpen(g cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, errShort
	}
	return g.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
}
