package broker

import (
	"context"
	"sync"
	"time"

	"crmhost.dev/host"
)

// configCache keeps each tenant's connection and mapping overrides for a
// short time, so a burst of tool calls does not read them from the store on
// every call. Writes made through this broker invalidate at once; writes
// made by another replica are seen within the TTL. A zero TTL disables it.
type configCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	tenants map[string]cachedConfig
}

type cachedConfig struct {
	conn      host.Connection
	overrides []host.FieldMapping
	at        time.Time
}

// maxCachedTenants bounds the cache; past it, it starts over.
const maxCachedTenants = 10_000

func (c *configCache) get(tenantID string) (cachedConfig, bool) {
	if c.ttl <= 0 {
		return cachedConfig{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tenants[tenantID]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return cachedConfig{}, false
	}
	return e, true
}

func (c *configCache) put(tenantID string, e cachedConfig) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil || len(c.tenants) >= maxCachedTenants {
		c.tenants = map[string]cachedConfig{}
	}
	e.at = c.now()
	c.tenants[tenantID] = e
}

// Forget drops a tenant's cached configuration; call it after changing the
// tenant's connection or mappings behind the broker's back (deleting the
// tenant, say).
func (b *Broker) Forget(tenantID string) {
	b.config.mu.Lock()
	delete(b.config.tenants, tenantID)
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
