// Package postgres is host.Store on PostgreSQL through pgx/v5 and
// pgxpool: the store for running several host replicas against one
// database (DATABASE_URL). It passes the same storetest conformance suite
// as host/sqlite.
//
// Concurrency is the database's job: the credential version check is a
// single conditional UPDATE, idempotency claims are INSERT ... ON CONFLICT
// DO UPDATE ... WHERE expired, so concurrent callers on any replica are
// safe without application locks. Migrations take a transaction-scoped
// advisory lock, so replicas starting at once apply each migration once.
//
// The schema is the numbered files in migrations/, embedded and applied in
// order by Migrate (and by Open). Queries live in queries/; the Go code in
// internal/db is generated from them by sqlc, pinned as a tool of the host
// module (its PostgreSQL parser needs cgo, so generating needs a C
// compiler; building this package does not). After changing either
// directory, regenerate with go generate.
package postgres

//go:generate go tool sqlc generate
