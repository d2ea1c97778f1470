// Package pgtest gives tests a fresh PostgreSQL database of their own on
// the server named by CRMHOST_TEST_POSTGRES_URL, dropped when the test
// ends, so packages run in parallel and reruns start clean. Unset, the
// test is skipped, unless CI is set: there (and whenever the server is
// unreachable) the test fails instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the PostgreSQL server tests use.
const EnvURL = "CRMHOST_TEST_POSTGRES_URL"

// AdminURL returns the server URL tests create their databases through.
// Unset, it skips the test, unless CI is set: CI must run these tests, so
// there it fails instead.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, and CI is: the PostgreSQL tests must run in CI", EnvURL)
		}
		t.Skipf("%s is not set: skipping the PostgreSQL tests (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvURL)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", EnvURL, err)
	}
	return u
}

// Fresh creates an empty database on the server at admin, drops
// it when the test ends, and returns its URL. Any failure to reach the
// server fails the test: a configured database that is down is an error,
// never a skip.
func Fresh(t testing.TB, admin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", EnvURL, err)
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
	return WithDatabase(t, admin, name)
}

// WithDatabase returns admin with its database replaced by name; admin is
// a postgres:// URL or a key=value DSN.
func WithDatabase(t testing.TB, admin, name string) string {
	t.Helper()
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatalf("%s: %v", EnvURL, err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return admin + " dbname=" + name
}

// Database returns the URL of a fresh database for t.
func Database(t testing.TB) string {
	t.Helper()
	return Fresh(t, AdminURL(t))
}
