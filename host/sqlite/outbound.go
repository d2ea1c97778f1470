package sqlite

import (
	"time"

	"crmhost.dev/host/internal/outboundsql"
	sqlite3 "modernc.org/sqlite/lib"
)

// outboundStore is host.OutboundStore over the store's pools: the
// outbound tables share one implementation with the PostgreSQL store (see
// host/internal/outboundsql). Writes go through the single writer.
func outboundStore(s *Store) *outboundsql.Store {
	return outboundsql.New(s.w, s.r, outboundsql.Dialect{
		Name: "sqlite",
		IsUnique: func(err error) bool {
			return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) || isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
		IsForeignKey: func(err error) bool { return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
	}, func() time.Time { return s.now() })
}
