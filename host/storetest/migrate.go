package storetest

import (
	"errors"
	"strings"
	"testing"

	"crmhost.dev/host"
)

// RunMigrations checks the schema check both stores make when opened
// without migrating. open opens a store on one fresh, empty database for
// the whole run, applying its migrations when migrate is set, else only
// checking them; it arranges (t.Cleanup) for the store to be closed.
func RunMigrations(t *testing.T, open func(t *testing.T, migrate bool) (host.Store, error), pending func(s host.Store) ([]string, error)) {
	t.Helper()
	_, err := open(t, false)
	if !errors.Is(err, host.ErrSchemaOutdated) {
		t.Fatalf("open without migrating on an empty database: %v, want ErrSchemaOutdated", err)
	}
	if !strings.Contains(err.Error(), "0001_") {
		t.Errorf("the refusal does not name the missing migrations: %v", err)
	}
	s, err := open(t, true)
	if err != nil {
		t.Fatalf("open migrating: %v", err)
	}
	if p, err := pending(s); err != nil || len(p) != 0 {
		t.Fatalf("after migrating, pending %q (%v), want none", p, err)
	}
	s, err = open(t, false)
	if err != nil {
		t.Fatalf("open without migrating on a current database: %v", err)
	}
	if p, err := pending(s); err != nil || len(p) != 0 {
		t.Errorf("pending %q (%v), want none", p, err)
	}
	if _, err := s.CreateTenant(t.Context(), host.Tenant{Name: "after migrate"}); err != nil {
		t.Errorf("a store opened without migrating cannot write: %v", err)
	}
}
