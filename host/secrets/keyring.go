package secrets

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Keyring seals values under its primary KEK and opens values sealed under
// any KEK it holds. It keeps unwrapped DEKs in a bounded cache with a TTL.
// A Keyring is safe for concurrent use.
type Keyring struct {
	primary KEK
	keks    map[string]KEK
	ids     []string // in the order given, for error messages
	cache   *dekCache
	onErr   func(kekID string, err error)

	hits, misses atomic.Uint64
}

// Option configures a Keyring; see [NewKeyringWithOptions].
type Option func(*keyringConfig)

type keyringConfig struct {
	cacheSize int
	cacheTTL  time.Duration
	now       func() time.Time
	onErr     func(kekID string, err error)
}

// WithDEKCache bounds the unwrapped-DEK cache to size entries, each kept at
// most ttl after it was unwrapped (default [DefaultDEKCacheSize] entries,
// [DefaultDEKCacheTTL]). size <= 0 or ttl <= 0 disables the cache.
func WithDEKCache(size int, ttl time.Duration) Option {
	return func(c *keyringConfig) { c.cacheSize, c.cacheTTL = size, ttl }
}

// WithClock sets the clock the DEK cache uses for expiry (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *keyringConfig) { c.now = now }
}

// WithKEKErrorHook has fn called with the KEK's own error whenever an unwrap
// fails (for example a KMS outage or access denied), which [Keyring.Open]
// otherwise reports only as [ErrDecrypt]. Meant for server-side logs and
// metrics; KEK errors carry no key material. fn must be safe for concurrent use.
func WithKEKErrorHook(fn func(kekID string, err error)) Option {
	return func(c *keyringConfig) { c.onErr = fn }
}

// NewKeyring returns a keyring that seals under primary and opens values
// sealed under primary or any of old, with the default DEK cache. KEKs are
// told apart by ID; a repeated id keeps the first. It panics on a nil KEK.
func NewKeyring(primary KEK, old ...KEK) *Keyring {
	return NewKeyringWithOptions(primary, old)
}

// NewKeyringWithOptions is [NewKeyring] with options ([WithDEKCache],
// [WithClock], [WithKEKErrorHook]).
func NewKeyringWithOptions(primary KEK, old []KEK, opts ...Option) *Keyring {
	cfg := keyringConfig{cacheSize: DefaultDEKCacheSize, cacheTTL: DefaultDEKCacheTTL, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	k := &Keyring{primary: primary, keks: make(map[string]KEK), onErr: cfg.onErr}
	for _, kek := range append([]KEK{primary}, old...) {
		if kek == nil {
			panic("secrets: NewKeyring: nil KEK")
		}
		if _, dup := k.keks[kek.ID()]; !dup {
			k.keks[kek.ID()] = kek
			k.ids = append(k.ids, kek.ID())
		}
	}
	if cfg.cacheSize > 0 && cfg.cacheTTL > 0 {
		if cfg.now == nil {
			cfg.now = time.Now
		}
		k.cache = newDEKCache(cfg.cacheSize, cfg.cacheTTL, cfg.now)
	}
	return k
}

// PrimaryID returns the id of the KEK new values are sealed under; rows with
// another KEK id need [Keyring.Rewrap].
func (k *Keyring) PrimaryID() string { return k.primary.ID() }

// NeedsRewrap reports whether s was wrapped by a KEK other than the primary.
func (k *Keyring) NeedsRewrap(s Sealed) bool { return s.KEKID != k.primary.ID() }

// CacheStats returns how many DEK lookups the cache answered and how many
// went to a KEK (every lookup is a miss while the cache is disabled).
func (k *Keyring) CacheStats() (hits, misses uint64) {
	return k.hits.Load(), k.misses.Load()
}

// PurgeCache drops and zeroes every cached DEK, e.g. after revoking a KEK.
func (k *Keyring) PurgeCache() {
	if k.cache != nil {
		k.cache.purge()
	}
}

// Seal encrypts plaintext for the place named by aad under a fresh random
// DEK (AES-256-GCM, random 12-byte nonce) and wraps the DEK with the primary
// KEK, binding the same aad. Errors: [ErrInvalidAAD] for an incomplete aad;
// otherwise the primary KEK's wrap error (e.g. KMS unavailable) or a failing
// random source, naming the KEK id and the place but no secret.
func (k *Keyring) Seal(ctx context.Context, plaintext []byte, aad AAD) (Sealed, error) {
	if err := aad.Validate(); err != nil {
		return Sealed{}, err
	}
	dek := make([]byte, keySize)
	defer zero(dek)
	if _, err := rand.Read(dek); err != nil {
		return Sealed{}, fmt.Errorf("secrets: seal %s: generate DEK: %w", aad, err)
	}
	g, err := newGCM(dek)
	if err != nil {
		return Sealed{}, fmt.Errorf("secrets: seal %s: %w", aad, err)
	}
	ct, err := gcmSeal(g, plaintext, aad.encode(purposePayload))
	if err != nil {
		return Sealed{}, fmt.Errorf("secrets: seal %s: %w", aad, err)
	}
	wrapAAD := aad.encode(purposeDEK)
	kekID := k.primary.ID()
	wrapped, err := k.primary.Wrap(ctx, dek, wrapAAD)
	if err != nil {
		return Sealed{}, fmt.Errorf("secrets: seal %s: wrap DEK with KEK %s: %w", aad, kekID, err)
	}
	if k.cache != nil {
		k.cache.put(newCacheKey(kekID, wrapAAD, wrapped), dek)
	}
	return Sealed{Ciphertext: ct, WrappedDEK: wrapped, KEKID: kekID}, nil
}

// Open decrypts s if it was sealed for exactly the place named by aad by a
// KEK this keyring holds. Every error matches [ErrDecrypt] and says nothing
// about which check failed; in addition it matches [ErrUnknownKEK] (the
// message names the id) when s.KEKID is not in the keyring, [ErrInvalidAAD]
// for an incomplete aad, and the context's error when ctx ended during the
// unwrap. Open never returns a partial plaintext.
func (k *Keyring) Open(ctx context.Context, s Sealed, aad AAD) ([]byte, error) {
	dek, ck, cached, err := k.unwrapDEK(ctx, s, aad)
	if err != nil {
		return nil, err
	}
	defer zero(dek)
	pt, err := openPayload(dek, s.Ciphertext, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	if !cached && k.cache != nil {
		k.cache.put(ck, dek)
	}
	return pt, nil
}

// Rewrap moves s to the primary KEK: it unwraps the DEK with the KEK named
// by s.KEKID, checks that the payload opens for aad, and wraps the DEK under
// the primary. The returned Ciphertext is byte-identical to s.Ciphertext
// (payloads are not re-encrypted). A value already under the primary is
// returned as is. Errors: those of [Keyring.Open] (all matching
// [ErrDecrypt]) when s does not open, or the primary KEK's wrap error.
func (k *Keyring) Rewrap(ctx context.Context, s Sealed, aad AAD) (Sealed, error) {
	if !k.NeedsRewrap(s) {
		return s, nil
	}
	dek, _, _, err := k.unwrapDEK(ctx, s, aad)
	if err != nil {
		return Sealed{}, err
	}
	defer zero(dek)
	pt, err := openPayload(dek, s.Ciphertext, aad)
	if err != nil {
		return Sealed{}, ErrDecrypt
	}
	zero(pt)
	wrapAAD := aad.encode(purposeDEK)
	kekID := k.primary.ID()
	wrapped, err := k.primary.Wrap(ctx, dek, wrapAAD)
	if err != nil {
		return Sealed{}, fmt.Errorf("secrets: rewrap %s: wrap DEK with KEK %s: %w", aad, kekID, err)
	}
	if k.cache != nil {
		k.cache.put(newCacheKey(kekID, wrapAAD, wrapped), dek)
	}
	return Sealed{Ciphertext: bytes.Clone(s.Ciphertext), WrappedDEK: wrapped, KEKID: kekID}, nil
}

// Reseal opens s sealed for `from` and seals its plaintext again for `to`
// under a fresh DEK wrapped by the primary KEK: unlike Rewrap, the data
// key itself is replaced, which is what answers a KEK that may have been
// compromised (every DEK it wrapped could be known). The plaintext never
// leaves the keyring and is zeroed. Errors: those of [Keyring.Open] (all
// matching [ErrDecrypt]) and of [Keyring.Seal].
func (k *Keyring) Reseal(ctx context.Context, s Sealed, from, to AAD) (Sealed, error) {
	pt, err := k.Open(ctx, s, from)
	if err != nil {
		return Sealed{}, err
	}
	defer zero(pt)
	return k.Seal(ctx, pt, to)
}

// unwrapDEK returns s's DEK (a copy the caller zeroes), its cache key and
// whether it came from the cache. Errors are decrypt errors.
func (k *Keyring) unwrapDEK(ctx context.Context, s Sealed, aad AAD) ([]byte, cacheKey, bool, error) {
	if err := aad.Validate(); err != nil {
		return nil, cacheKey{}, false, &decryptError{msg: "secrets: decryption failed: " + err.Error(), cause: err}
	}
	if len(s.Ciphertext) < nonceSize+tagSize {
		return nil, cacheKey{}, false, ErrDecrypt
	}
	kek, ok := k.keks[s.KEKID]
	if !ok {
		return nil, cacheKey{}, false, k.unknownKEK(s.KEKID)
	}
	wrapAAD := aad.encode(purposeDEK)
	ck := newCacheKey(s.KEKID, wrapAAD, s.WrappedDEK)
	if k.cache != nil {
		dek := make([]byte, keySize)
		if k.cache.get(ck, dek) {
			k.hits.Add(1)
			return dek, ck, true, nil
		}
		zero(dek)
	}
	k.misses.Add(1)
	dek, err := kek.Unwrap(ctx, s.WrappedDEK, wrapAAD)
	if err != nil {
		if k.onErr != nil {
			k.onErr(s.KEKID, err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, ck, false, &decryptError{msg: "secrets: decryption failed: " + cerr.Error(), cause: cerr}
		}
		return nil, ck, false, ErrDecrypt
	}
	if len(dek) != keySize {
		zero(dek)
		return nil, ck, false, ErrDecrypt
	}
	return dek, ck, false, nil
}

func (k *Keyring) unknownKEK(id string) error {
	const maxShown = 200 // the id comes from storage; keep a forged one from flooding logs
	if len(id) > maxShown {
		id = id[:maxShown] + "..."
	}
	return &decryptError{
		msg: fmt.Sprintf("secrets: decryption failed: unknown KEK id %q (keyring holds %s); "+
			"add the KEK that sealed it to the keyring", id, strings.Join(k.ids, ", ")),
		cause: ErrUnknownKEK,
	}
}

// openPayload decrypts nonce||ct||tag with dek for aad.
func openPayload(dek, ciphertext []byte, aad AAD) ([]byte, error) {
	g, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	pt, err := gcmOpen(g, ciphertext, aad.encode(purposePayload))
	if err != nil {
		return nil, err
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// decryptError is an Open failure with a cause worth telling the operator
// (unknown KEK id, incomplete AAD, ended context). It matches ErrDecrypt and
// its cause.
type decryptError struct {
	msg   string
	cause error
}

func (e *decryptError) Error() string        { return e.msg }
func (e *decryptError) Unwrap() error        { return e.cause }
func (e *decryptError) Is(target error) bool { return target == ErrDecrypt }
