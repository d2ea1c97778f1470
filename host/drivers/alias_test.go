package drivers_test

import (
	"testing"

	"crmhost.dev/host"
	"crmhost.dev/host/drivers"
)

// TestRegisterAs: a slug served by another driver's binary is catalog
// data: RegisterAs stores an entry of its own naming the binary, calls
// through that slug launch it, and the launch is refused once the
// binary's own slug is no longer registered with the same checksum (a
// binary describing another driver is not launched on its own say-so).
func TestRegisterAs(t *testing.T) {
	dir := pluginDir(t)
	cat := &memCatalog{entries: map[string]host.DriverEntry{}}
	m := drivers.NewManager(cat, drivers.Options{PluginDir: dir})
	t.Cleanup(m.Close)
	if _, err := m.RegisterAs(t.Context(), cat, "crm-driver-testdriver", "Not A Slug"); host.CodeOf(err) != host.CodeInvalid {
		t.Fatalf("RegisterAs with a bad slug: %v, want invalid", err)
	}
	own, err := m.Register(t.Context(), cat, "crm-driver-testdriver", "")
	if err != nil {
		t.Fatal(err)
	}
	alias, err := m.RegisterAs(t.Context(), cat, "crm-driver-testdriver", "partner")
	if err != nil {
		t.Fatal(err)
	}
	if alias.Slug != "partner" || alias.Command != own.Command || alias.SHA256 != own.SHA256 {
		t.Fatalf("alias entry %+v, want partner on %+v's binary", alias, own)
	}
	if err := lookup(m, t.Context(), "partner", "a@example.com"); err != nil {
		t.Fatalf("a call through the alias: %v", err)
	}

	m.Forget("partner")
	changed := own
	changed.SHA256 = "0000"
	cat.RegisterDriver(t.Context(), changed)
	if err := lookup(m, t.Context(), "partner", "a@example.com"); host.CodeOf(err) != host.CodeDriverUnavailable {
		t.Fatalf("the alias once its binary's own entry names another checksum: %v, want driver_unavailable", err)
	}
}
