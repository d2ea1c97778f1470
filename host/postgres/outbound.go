package postgres

import (
	"database/sql"
	"time"

	"crmhost.dev/host/internal/outboundsql"
	"github.com/jackc/pgx/v5/stdlib"
)

// outboundStore is host.OutboundStore over a database/sql view of the
// pool: the outbound tables share one implementation with the SQLite store
// (see host/internal/outboundsql).
func outboundStore(s *Store) (*outboundsql.Store, *sql.DB) {
	db := stdlib.OpenDBFromPool(s.pool)
	return outboundsql.New(db, db, outboundsql.Dialect{
		Name:         "postgres",
		Numbered:     true,
		IsUnique:     func(err error) bool { return sqlState(err) == uniqueViolation },
		IsForeignKey: func(err error) bool { return sqlState(err) == foreignKeyViolation },
	}, func() time.Time { return s.now() }), db
}
