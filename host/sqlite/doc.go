// Package sqlite is crmhost's embedded default store: host.Store on a
// single SQLite file through modernc.org/sqlite (pure Go, no cgo), so the
// host runs with no database to install. It passes the same storetest
// conformance suite as host/postgres.
//
// The file runs in WAL mode with foreign keys on. Writes go through a pool
// of exactly one connection, so concurrent writers queue in Go instead of
// failing with SQLITE_BUSY; reads use a separate pool and never wait for a
// writer. Times are stored as INTEGER microseconds since the Unix epoch.
//
// The schema is the numbered files in migrations/, embedded and applied in
// order by Migrate (and by Open). Queries live in queries/; the Go code in
// internal/db is generated from them by sqlc, pinned as a tool of the host
// module. After changing either directory, regenerate with go generate.
package sqlite

//go:generate go tool sqlc generate
