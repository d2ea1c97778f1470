package broker

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/mapping"
	"crmhost.dev/sdk"
)

// configCache keeps each tenant's connection and mapping overrides for a
// short time, so a burst of tool calls does not read them from the store on
// every call. Writes made through this broker invalidate at once; writes
// made by another replica are seen within the TTL. A zero TTL disables it.
type configCache struct {
	ttl time.Duration
	now func() time.Time
	max int // the size bound; 0 is maxCachedTenants

	// hits and misses count lookups of configurations (0) and credentials
	// (1); see Broker.CacheStats.
	hits, misses [2]atomic.Uint64

	mu      sync.Mutex
	tenants map[string]cachedConfig
	// creds are the tenants' sealed credential rows (ciphertext and
	// wrapped DEK, never a decrypted secret), so a burst of calls opens
	// them without a store read each; the keyring's DEK cache spares the
	// KEK. Only a call's first use of the secret (unseal) reads them from
	// here: refreshes and updates read the store, under its lock.
	creds map[string]cachedCredential
}

type cachedCredential struct {
	cred host.Credential
	at   time.Time
}

type cachedConfig struct {
	conn      host.Connection
	overrides []host.FieldMapping
	at        time.Time
	// resolved is the mapping resolved from overrides and the description
	// named by resolvedFor, so calls within the TTL share it (a Mapping is
	// read-only once resolved).
	resolved    *mapping.Mapping
	resolvedFor descKey
}

// descKey names a driver description: a restarted or upgraded driver's
// description, or a connection's own object list, is another one.
type descKey struct {
	slug, version string
	objects       *sdk.ObjectInfo // the first of its objects, by identity
	n             int
}

func keyOf(d sdk.Description) descKey {
	k := descKey{slug: d.Slug, version: d.DriverVersion, n: len(d.Objects)}
	if len(d.Objects) > 0 {
		k.objects = &d.Objects[0]
	}
	return k
}

// mapping returns the tenant's mapping for desc, resolved from the cached
// overrides once per TTL, or by resolve when nothing fresh is cached.
func (c *configCache) mapping(tenantID string, desc sdk.Description, resolve func() *mapping.Mapping) *mapping.Mapping {
	if c.ttl <= 0 {
		return resolve()
	}
	k := keyOf(desc)
	c.mu.Lock()
	e, ok := c.tenants[tenantID]
	c.mu.Unlock()
	fresh := ok && c.now().Sub(e.at) < c.ttl
	if fresh && e.resolved != nil && e.resolvedFor == k {
		return e.resolved
	}
	m := resolve()
	if fresh {
		c.mu.Lock()
		if cur, ok := c.tenants[tenantID]; ok && cur.at == e.at {
			cur.resolved, cur.resolvedFor = m, k
			c.tenants[tenantID] = cur
		}
		c.mu.Unlock()
	}
	return m
}

// maxCachedTenants bounds the cache (configCache.max when zero). Past it,
// the expired entries go; if that frees nothing, it starts over.
const maxCachedTenants = 10_000

// bound is the cache's size bound.
func (c *configCache) bound() int {
	if c.max > 0 {
		return c.max
	}
	return maxCachedTenants
}

func (c *configCache) get(tenantID string) (cachedConfig, bool) {
	if c.ttl <= 0 {
		return cachedConfig{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tenants[tenantID]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		c.misses[0].Add(1)
		return cachedConfig{}, false
	}
	c.hits[0].Add(1)
	return e, true
}

func (c *configCache) put(tenantID string, e cachedConfig) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil {
		c.tenants = map[string]cachedConfig{}
	}
	if len(c.tenants) >= c.bound() {
		now := c.now()
		for id, e := range c.tenants {
			if now.Sub(e.at) >= c.ttl {
				delete(c.tenants, id)
			}
		}
		if len(c.tenants) >= c.bound() {
			c.tenants = map[string]cachedConfig{}
		}
	}
	e.at = c.now()
	c.tenants[tenantID] = e
}

func (c *configCache) getCredential(tenantID string) (host.Credential, bool) {
	if c.ttl <= 0 {
		return host.Credential{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.creds[tenantID]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		c.misses[1].Add(1)
		return host.Credential{}, false
	}
	c.hits[1].Add(1)
	return e.cred, true
}

// CacheStats counts the config cache's answers since the broker started:
// tenant configurations (connection and mappings) and sealed credential
// rows found fresh in it (hits) or read from the store (misses). With a
// zero ConfigCacheTTL nothing is counted.
type CacheStats struct {
	ConfigHits, ConfigMisses         uint64
	CredentialHits, CredentialMisses uint64
}

// CacheStats returns the config cache's counts.
func (b *Broker) CacheStats() CacheStats {
	c := &b.config
	return CacheStats{ConfigHits: c.hits[0].Load(), ConfigMisses: c.misses[0].Load(),
		CredentialHits: c.hits[1].Load(), CredentialMisses: c.misses[1].Load()}
}

func (c *configCache) putCredential(tenantID string, cred host.Credential) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.creds == nil {
		c.creds = map[string]cachedCredential{}
	}
	if len(c.creds) >= c.bound() {
		now := c.now()
		for id, e := range c.creds {
			if now.Sub(e.at) >= c.ttl {
				delete(c.creds, id)
			}
		}
		if len(c.creds) >= c.bound() {
			c.creds = map[string]cachedCredential{}
		}
	}
	c.creds[tenantID] = cachedCredential{cred: cred, at: c.now()}
}

// Forget drops a tenant's cached configuration and credential; call it
// after changing the tenant's connection, mappings or credential behind
// the broker's back (deleting the tenant, say).
func (b *Broker) Forget(tenantID string) {
	b.config.mu.Lock()
	delete(b.config.tenants, tenantID)
	delete(b.config.creds, tenantID)
	b.config.mu.Unlock()
}

// loadConfig returns the tenant's connection and mapping overrides, from
// the cache when fresh. Errors: as GetConnection and ListMappings.
func (b *Broker) loadConfig(ctx context.Context, tenantID string) (host.Connection, []host.FieldMapping, error) {
	if e, ok := b.config.get(tenantID); ok {
		return e.conn, e.overrides, nil
	}
	conn, err := b.store.GetConnection(ctx, tenantID)
	if err != nil {
		return conn, nil, err
	}
	overrides, err := b.store.ListMappings(ctx, tenantID, "")
	if err != nil {
		return conn, nil, err
	}
	b.config.put(tenantID, cachedConfig{conn: conn, overrides: overrides})
	return conn, overrides, nil
}
