package broker_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/internal/memdriver"
)

// TestConfigCache: with a TTL the broker reads a tenant's connection and
// mappings once per TTL; its own writes apply at once; writes behind its
// back apply after the TTL or Forget.
func TestConfigCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, broker.Options{ConfigCacheTTL: time.Minute, Now: func() time.Time { return now }})
	ten := f.connected("acme")
	lookup := func() error {
		_, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "nobody@example.com"})
		return err
	}
	if err := lookup(); err != nil {
		t.Fatal(err)
	}

	// Behind the broker's back: cached until the TTL passes.
	if err := f.store.SetConnectionStatus(ctx(t), ten, host.ConnectionNeedsReauth, "revoked elsewhere"); err != nil {
		t.Fatal(err)
	}
	if err := lookup(); err != nil {
		t.Fatalf("within the TTL the cached connection serves: %v", err)
	}
	now = now.Add(time.Minute)
	if err := lookup(); host.CodeOf(err) != host.CodeNotConnected {
		t.Fatalf("after the TTL: %v, want not_connected", err)
	}

	// Through the broker: at once.
	if _, _, err := f.b.Test(ctx(t), operator, ten); err != nil {
		t.Fatal(err)
	}
	if err := lookup(); err != nil {
		t.Fatalf("after the broker's own test: %v", err)
	}
	if _, err := f.b.SetMapping(ctx(t), operator, host.FieldMapping{TenantID: ten, Kind: host.MappingObject, Key: "contact", Target: "people"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.SearchRecords(ctx(t), agent, ten, broker.SearchInput{Object: "contact", Query: "x"}); err != nil {
		t.Fatalf("a mapping set through the broker applies at once: %v", err)
	}

	// Forget drops the entry.
	if err := f.store.SetConnectionStatus(ctx(t), ten, host.ConnectionNeedsReauth, "revoked elsewhere"); err != nil {
		t.Fatal(err)
	}
	f.b.Forget(ten)
	if err := lookup(); host.CodeOf(err) != host.CodeNotConnected {
		t.Fatalf("after Forget: %v, want not_connected", err)
	}
}

// TestCredentialCache: with a TTL a call opens the tenant's sealed
// credential row as cached (audited as the version it opened), a row
// replaced behind the broker's back is used after the TTL or Forget, and
// one stored through the broker at once.
func TestCredentialCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, broker.Options{ConfigCacheTTL: time.Minute, Now: func() time.Time { return now }})
	ten := f.connected("acme")
	openedVersion := func(what string) string {
		t.Helper()
		if _, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "nobody@example.com"}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		rows := f.audit(ten, "credential.decrypt")
		if len(rows) == 0 {
			t.Fatalf("%s: no credential.decrypt audit row", what)
		}
		return rows[0].Detail
	}
	first := openedVersion("first lookup")
	planted := f.plant(ten, map[string]string{"account": "acme", "api_key": memdriver.GoodKey})
	want := fmt.Sprintf("version %d", planted.Version)
	before := f.b.CacheStats()
	if got := openedVersion("within the TTL"); got != first {
		t.Fatalf("within the TTL the cached row serves: opened %q, want %q", got, first)
	}
	if st := f.b.CacheStats(); st.CredentialHits != before.CredentialHits+1 || st.ConfigHits != before.ConfigHits+1 || st.CredentialMisses != before.CredentialMisses {
		t.Errorf("cache stats %+v after a lookup within the TTL (before %+v), want one more config and credential hit each", st, before)
	}
	now = now.Add(time.Minute)
	if got := openedVersion("after the TTL"); got != want {
		t.Fatalf("after the TTL: opened %q, want %q", got, want)
	}
	planted = f.plant(ten, map[string]string{"account": "acme", "api_key": memdriver.GoodKey})
	f.b.Forget(ten)
	if got, want := openedVersion("after Forget"), fmt.Sprintf("version %d", planted.Version); got != want {
		t.Fatalf("after Forget: opened %q, want %q", got, want)
	}
	// Reconnecting through the broker stores a new version, used at once.
	if _, res, err := f.b.Connect(ctx(t), operator, ten, broker.ConnectInput{Provider: "mem",
		Credentials: map[string]string{"account": "acme", "api_key": memdriver.GoodKey}}); err != nil || !res.OK {
		t.Fatalf("reconnect: %+v, %v", res, err)
	}
	stored, _ := f.secret(ten)
	if got, want := openedVersion("after a reconnect"), fmt.Sprintf("version %d", stored.Version); got != want {
		t.Fatalf("after a reconnect through the broker: opened %q, want %q", got, want)
	}
}

// TestConfigCacheBound: a full cache drops its expired entries and keeps
// the fresh ones, rather than starting over.
func TestConfigCacheBound(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, broker.Options{ConfigCacheTTL: time.Minute, Now: func() time.Time { return now }})
	f.b.SetMaxCachedTenants(3)
	var tenants []string
	for _, name := range []string{"a", "b", "c", "d"} {
		tenants = append(tenants, f.connected(name))
	}
	lookup := func(ten string) {
		t.Helper()
		if _, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "nobody@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ten := range tenants[:2] { // a and b cached, then expire
		lookup(ten)
	}
	now = now.Add(2 * time.Minute)
	lookup(tenants[2]) // c: cached fresh (3 entries: a, b expired)
	lookup(tenants[3]) // d: the cache is full; a and b go, c stays
	before := f.b.CacheStats()
	lookup(tenants[2])
	if st := f.b.CacheStats(); st.ConfigHits != before.ConfigHits+1 {
		t.Errorf("c after the cache filled: %d config hits, want %d (the fresh entry kept)", st.ConfigHits, before.ConfigHits+1)
	}
}
