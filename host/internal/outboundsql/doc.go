// Package outboundsql is the one implementation of host.OutboundStore
// that both stores embed: host/sqlite over its database/sql pools, and
// host/postgres over a database/sql view of its pgx pool. The outbound
// tables (migration 0008 in each dialect) are declared alike in both,
// times as microseconds and structured values as JSON text, so the
// queries differ only in their placeholders, and the conversion code is
// written once instead of once per dialect.
package outboundsql
