package postgres_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/storetest"
	"github.com/jackc/pgx/v5"
)

const envURL = "CRMHOST_TEST_POSTGRES_URL"

// adminURL returns the server URL tests create their databases through.
// Unset, it skips the test, unless CI is set: CI must run these tests, so
// there it fails instead.
func adminURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, and CI is: the PostgreSQL store tests must run in CI", envURL)
		}
		t.Skipf("%s is not set: skipping the PostgreSQL store tests (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", envURL)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", envURL, err)
	}
	return u
}

// freshDatabase creates an empty database on the server at admin, drops
// it when the test ends, and returns its URL. Any failure to reach the
// server fails the test: a configured database that is down is an error,
// never a skip.
func freshDatabase(t *testing.T, admin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", envURL, err)
	}
	defer conn.Close(ctx)
	name := "crmhost_test_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() is already done here.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

// withDatabase returns admin with its database replaced by name; admin is
// a postgres:// URL or a key=value DSN.
func withDatabase(t *testing.T, admin, name string) string {
	t.Helper()
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatalf("%s: %v", envURL, err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return admin + " dbname=" + name
}

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
	admin := adminURL(t)
	storetest.Run(t, func(t *testing.T) host.Store {
		return open(t, freshDatabase(t, admin))
	})
}

// TestMigrateConcurrently opens one fresh database from several goroutines
// at once, as replicas starting together would: every Open succeeds and
// each migration is recorded once.
func TestMigrateConcurrently(t *testing.T) {
	url := freshDatabase(t, adminURL(t))
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
	admin := adminURL(t)
	tests := []struct {
		name string
		url  string
	}{
		{"BadURL", "postgres://%zz"},
		{"NoSuchDatabase", withDatabase(t, admin, "crmhost_test_does_not_exist")},
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
