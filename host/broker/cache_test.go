package broker_test

import (
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
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
