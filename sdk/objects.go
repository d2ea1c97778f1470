package sdk

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Canonical object names the sdk knows of; providers' own objects keep
// their names.
const (
	ObjectCustomer     = "customer"
	ObjectLead         = "lead"
	ObjectDeal         = "deal"
	ObjectCase         = "case"
	ObjectBooking      = "booking"
	ObjectConversation = "conversation"
)

// normalizeObject fills in o.Verbs when empty (every record verb the
// driver implements; lookup only for customer and lead objects) and drops
// the verbs the driver cannot serve (delete without Deleter, erase without
// Eraser, unknown names), so an ObjectInfo never claims more than the code
// does.
func normalizeObject(o ObjectInfo, caps Capabilities) ObjectInfo {
	verbs := o.Verbs
	if len(verbs) == 0 {
		verbs = []string{VerbSearchRecords, VerbCreateRecord, VerbUpdateRecord, VerbListRecent, VerbDeleteRecord, VerbEraseRecord}
		if o.Canonical == ObjectCustomer || o.Canonical == ObjectLead {
			verbs = append(verbs, VerbLookupCustomer)
		}
	}
	out := make([]string, 0, len(verbs))
	for _, v := range ObjectVerbs {
		if !slices.Contains(verbs, v) || (v == VerbDeleteRecord && !caps.Delete) || (v == VerbEraseRecord && !caps.Erase) {
			continue
		}
		out = append(out, v)
	}
	o.Verbs = out
	return o
}

// verbWords says what a verb does, for messages.
var verbWords = map[string]string{
	VerbLookupCustomer: "look up customers in", VerbSearchRecords: "search", VerbCreateRecord: "create",
	VerbUpdateRecord: "update", VerbListRecent: "list recent", VerbDeleteRecord: "delete", VerbEraseRecord: "erase",
}

// unsupportedVerb is the error for a verb o does not support: the
// provider's limitation as the driver worded it, or a generic message.
// Delete and erase answer CodeDeleteUnsupported, other verbs
// CodeUnsupported.
func unsupportedVerb(slug string, o ObjectInfo, verb string) *Error {
	code := CodeUnsupported
	if verb == VerbDeleteRecord || verb == VerbEraseRecord {
		code = CodeDeleteUnsupported
	}
	msg := o.Unsupported[verb]
	if msg == "" {
		msg = fmt.Sprintf("%s cannot %s %s records", slug, verbWords[verb], o.Name)
	}
	return &Error{Code: code, Message: msg}
}

// objectCache keeps each connection's ListObjects answer for a while, so
// checking a verb on a connection-specific object costs one provider round
// trip per connection per TTL, not one per call.
type objectCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]cachedObjects
	flight  map[[32]byte]*objectsFlight
}

type cachedObjects struct {
	objects []ObjectInfo
	at      time.Time
}

type objectsFlight struct {
	done    chan struct{}
	objects []ObjectInfo
	err     error
}

const maxCachedConnections = 10_000

// connKey fingerprints a connection (config, secret, account): two tenants
// never share an entry.
func connKey(c Connection) [32]byte {
	h := sha256.New()
	for _, m := range []map[string]string{c.Config, c.Secret} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			writeLenPrefixed(h, k)
			writeLenPrefixed(h, m[k])
		}
		writeLenPrefixed(h, "|")
	}
	writeLenPrefixed(h, c.AccountID)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func writeLenPrefixed(h interface{ Write([]byte) (int, error) }, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// get returns the connection's objects, from the cache or list (one call
// per connection at a time).
func (c *objectCache) get(ctx context.Context, conn Connection, list func(context.Context) ([]ObjectInfo, error)) ([]ObjectInfo, error) {
	key := connKey(conn)
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && c.now().Sub(e.at) < c.ttl {
		c.mu.Unlock()
		return e.objects, nil
	}
	if f, ok := c.flight[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.objects, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &objectsFlight{done: make(chan struct{})}
	if c.flight == nil {
		c.flight = map[[32]byte]*objectsFlight{}
	}
	c.flight[key] = f
	c.mu.Unlock()

	f.objects, f.err = list(ctx)
	c.mu.Lock()
	delete(c.flight, key)
	if f.err == nil {
		if c.entries == nil || len(c.entries) >= maxCachedConnections {
			c.entries = map[[32]byte]cachedObjects{}
		}
		c.entries[key] = cachedObjects{objects: f.objects, at: c.now()}
	}
	c.mu.Unlock()
	close(f.done)
	return f.objects, f.err
}

func objectNames(objs []ObjectInfo) string {
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		if !slices.Contains(names, o.Name) {
			names = append(names, o.Name)
		}
	}
	return strings.Join(names, ", ")
}

func findObject(objs []ObjectInfo, name string) (ObjectInfo, bool) {
	for _, o := range objs {
		if o.Name == name {
			return o, true
		}
	}
	return ObjectInfo{}, false
}

// forget drops the connection's cached objects (ListObjects asked afresh).
func (c *objectCache) forget(conn Connection) {
	c.mu.Lock()
	delete(c.entries, connKey(conn))
	c.mu.Unlock()
}
