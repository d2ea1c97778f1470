package secrets

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// Default DEK cache bounds; see [WithDEKCache].
const (
	DefaultDEKCacheSize = 1024
	DefaultDEKCacheTTL  = 5 * time.Minute
)

// cacheKey identifies one unwrap: a hash of the KEK id, the wrap AAD and the
// wrapped DEK. Binding the AAD means a hit is only ever served for exactly
// the (KEK, wrapped DEK, place) triple the KEK itself once verified.
type cacheKey [sha256.Size]byte

func newCacheKey(kekID string, wrapAAD, wrapped []byte) cacheKey {
	h := sha256.New()
	for _, b := range [][]byte{[]byte(kekID), wrapAAD, wrapped} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var k cacheKey
	h.Sum(k[:0])
	return k
}

type cacheEntry struct {
	key     cacheKey
	dek     [keySize]byte
	expires time.Time
}

// dekCache is a bounded LRU of unwrapped DEKs whose entries expire a fixed
// ttl after insertion (use does not extend them), so no DEK stays in memory
// longer than ttl after its last unwrap. Evicted entries are zeroed. It is
// safe for concurrent use; get copies out, so callers may zero their copy.
type dekCache struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu sync.Mutex
	ll *list.List // front = most recently used; values are *cacheEntry
	m  map[cacheKey]*list.Element
}

func newDEKCache(size int, ttl time.Duration, now func() time.Time) *dekCache {
	return &dekCache{size: size, ttl: ttl, now: now, ll: list.New(), m: make(map[cacheKey]*list.Element)}
}

// get copies the DEK for k into dst and reports whether it was present and
// fresh.
func (c *dekCache) get(k cacheKey, dst []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		return false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.remove(el)
		return false
	}
	c.ll.MoveToFront(el)
	copy(dst, e.dek[:])
	return true
}

// put stores a copy of dek (which must be keySize bytes) under k.
func (c *dekCache) put(k cacheKey, dek []byte) {
	if len(dek) != keySize {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	expires := c.now().Add(c.ttl)
	if el, ok := c.m[k]; ok {
		e := el.Value.(*cacheEntry)
		e.expires = expires
		c.ll.MoveToFront(el)
		return
	}
	e := &cacheEntry{key: k, expires: expires}
	copy(e.dek[:], dek)
	c.m[k] = c.ll.PushFront(e)
	for c.ll.Len() > c.size {
		c.remove(c.ll.Back())
	}
}

// purge drops and zeroes every entry.
func (c *dekCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.ll.Front(); el != nil; el = c.ll.Front() {
		c.remove(el)
	}
}

// remove unlinks el and zeroes its DEK; c.mu must be held.
func (c *dekCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.ll.Remove(el)
	delete(c.m, e.key)
	zero(e.dek[:])
}
