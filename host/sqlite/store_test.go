package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite"
	"crmhost.dev/host/storetest"
)

// openFile opens a store on path, closed when the test ends.
func openFile(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) host.Store {
		return openFile(t, filepath.Join(t.TempDir(), "crmhost.db"))
	})
}

// TestSharedFile opens one file from several goroutines at once, as
// processes starting together would, then writes through all of them at
// once: every Open succeeds, migrations are recorded once, and no writer
// fails with SQLITE_BUSY.
func TestSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	const n = 4
	stores := make([]*sqlite.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(t.Context(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	tn, err := stores[0].CreateTenant(t.Context(), host.Tenant{Name: "shared"})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	const writes = 25
	werrs := make(chan error, n*writes)
	for i, s := range stores {
		wg.Go(func() {
			for j := range writes {
				_, err := s.AppendAudit(t.Context(), host.AuditEntry{TenantID: tn.ID, ActorType: host.ActorSystem, Action: "test.write", Outcome: host.OutcomeOK, Detail: fmt.Sprint(i, j)})
				if err != nil {
					werrs <- err
				}
			}
		})
	}
	wg.Wait()
	close(werrs)
	for err := range werrs {
		t.Errorf("concurrent write: %v", err)
	}
	got, err := stores[n-1].ListAudit(t.Context(), host.AuditFilter{TenantID: tn.ID, Limit: host.MaxListLimit})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if len(got) != n*writes {
		t.Errorf("ListAudit: %d entries, want %d", len(got), n*writes)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions, want one row per version", rows, distinct)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
}

// TestReopen checks that data survives closing and reopening the file and
// that reopening (migrating a current schema) is a no-op.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reopen.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tn, err := s.CreateTenant(t.Context(), host.Tenant{Name: "durable"})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2 := openFile(t, path)
	got, err := s2.GetTenant(t.Context(), tn.ID)
	if err != nil {
		t.Fatalf("GetTenant after reopen: %v", err)
	}
	if got != tn {
		t.Errorf("GetTenant after reopen = %+v, want %+v", got, tn)
	}
}

// TestClock checks that WithClock stamps what callers leave zero.
func TestClock(t *testing.T) {
	fixed := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 7200))
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "clock.db"), sqlite.WithClock(func() time.Time { return fixed }))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	tn, err := s.CreateTenant(t.Context(), host.Tenant{Name: "clocked"})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if want := fixed.UTC().Truncate(time.Microsecond); !tn.CreatedAt.Equal(want) || tn.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v", tn.CreatedAt, want)
	}
}

func TestOpenInvalid(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		t.Run(path, func(t *testing.T) {
			s, err := sqlite.Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", path)
			}
			var he *host.Error
			if !errors.As(err, &he) || he.Code != host.CodeInvalid {
				t.Errorf("Open(%q) = %v, want a CodeInvalid *host.Error", path, err)
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crmhost.db")
	storetest.RunMigrations(t, func(t *testing.T, migrate bool) (host.Store, error) {
		var opts []sqlite.Option
		if !migrate {
			opts = append(opts, sqlite.WithoutMigrate())
		}
		s, err := sqlite.Open(t.Context(), path, opts...)
		if err == nil {
			t.Cleanup(func() { s.Close() })
		}
		return s, err
	}, func(s host.Store) ([]string, error) { return s.(*sqlite.Store).Pending(t.Context()) })
}
