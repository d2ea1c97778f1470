package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/pgtest"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/storetest"
)

// open opens a store on url, closed when the test ends.
func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	admin := pgtest.AdminURL(t)
	storetest.Run(t, func(t *testing.T) host.Store {
		return open(t, pgtest.Fresh(t, admin))
	})
}

// TestMigrateConcurrently opens one fresh database from several goroutines
// at once, as replicas starting together would: every Open succeeds and
// each migration is recorded once.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.Fresh(t, pgtest.AdminURL(t))
	const n = 4
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	var versions, distinct int
	err := stores[0].Pool().QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&versions, &distinct)
	if err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if versions == 0 || versions != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions, want one row per version", versions, distinct)
	}
	// Re-running is a no-op.
	if err := stores[1].Migrate(t.Context()); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	admin := pgtest.AdminURL(t)
	tests := []struct {
		name string
		url  string
	}{
		{"BadURL", "postgres://%zz"},
		{"NoSuchDatabase", pgtest.WithDatabase(t, admin, "crmhost_test_does_not_exist")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := postgres.Open(ctx, tc.url)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	url := pgtest.Fresh(t, pgtest.AdminURL(t))
	storetest.RunMigrations(t, func(t *testing.T, migrate bool) (host.Store, error) {
		var opts []postgres.Option
		if !migrate {
			opts = append(opts, postgres.WithoutMigrate())
		}
		s, err := postgres.Open(t.Context(), url, opts...)
		if err == nil {
			t.Cleanup(func() { s.Close() })
		}
		return s, err
	}, func(s host.Store) ([]string, error) { return s.(*postgres.Store).Pending(t.Context()) })
}
