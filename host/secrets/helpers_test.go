package secrets_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host/secrets"
)

// testKey returns a deterministic, valid local key for name.
func testKey(name string) string {
	sum := sha256.Sum256([]byte("crmhost secrets test key " + name))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func localKEK(t testing.TB, name string) *secrets.LocalKEK {
	t.Helper()
	k, err := secrets.NewLocalKEK(testKey(name))
	if err != nil {
		t.Fatalf("NewLocalKEK(%s): %v", name, err)
	}
	return k
}

var testAAD = secrets.AAD{TenantID: "tenant-1", Table: "tenant_credentials", Column: "secret", RowID: "row-1"}

func seal(t testing.TB, kr *secrets.Keyring, plaintext []byte, aad secrets.AAD) secrets.Sealed {
	t.Helper()
	s, err := kr.Seal(context.Background(), plaintext, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

// clone deep-copies s so tests can mutate it.
func clone(s secrets.Sealed) secrets.Sealed {
	return secrets.Sealed{
		Ciphertext: append([]byte(nil), s.Ciphertext...),
		WrappedDEK: append([]byte(nil), s.WrappedDEK...),
		KEKID:      s.KEKID,
	}
}

// fakeClock is an injectable clock for cache expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// renamedKEK presents a KEK under another id ("wrong key, right name").
type renamedKEK struct {
	secrets.KEK
	id string
}

func (r renamedKEK) ID() string { return r.id }

// countingKEK counts unwraps reaching the underlying KEK.
type countingKEK struct {
	secrets.KEK
	mu      sync.Mutex
	unwraps int
}

func (c *countingKEK) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	c.mu.Lock()
	c.unwraps++
	c.mu.Unlock()
	return c.KEK.Unwrap(ctx, wrapped, aad)
}

func (c *countingKEK) Unwraps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unwraps
}
