package jobs

import (
	"context"
	"database/sql"
	"fmt"

	"crmhost.dev/host/postgres"
	"crmhost.dev/host/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// newPostgres runs River on the store's pgx pool. River's migrations run
// under a session advisory lock, so replicas starting together wait for
// each other instead of racing to create the same tables. The lock is held
// on a connection of its own, outside the pool: a process starting several
// runners at once then never has all the pool's connections waiting for
// the lock while its holder needs one to migrate.
func newPostgres(ctx context.Context, st *postgres.Store, o Options) (engine, error) {
	driver := riverpgxv5.New(st.Pool())
	lock, err := pgx.ConnectConfig(ctx, st.Pool().Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	// Closing the session releases the lock, whatever happened.
	defer lock.Close(context.WithoutCancel(ctx))
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("jobs: migrate: lock: %w", err)
	}
	if err := migrate(ctx, driver, o); err != nil {
		return nil, err
	}
	return newEngine[pgx.Tx](driver, st, o)
}

// migrationLock is the advisory lock key River's migrations run under
// ("crmrivr" in ASCII; the store's own migrations use another).
const migrationLock int64 = 0x63726d72697672

// newSQLite runs River on the store's writer pool: one connection, so
// River's writes and the store's are serialised in the process and none
// fails with SQLITE_BUSY (riversqlite asks for exactly this), and a lead
// and its job share a transaction on it. River's queries are short; the
// workers' own store calls happen outside River's transactions.
//
// River's migrations run in one IMMEDIATE transaction, which serialises
// runners starting together, in this process or another on the same file,
// and applies all or nothing. (rivermigrate deprecates MigrateTx because
// some PostgreSQL migrations, such as enum additions, cannot share a
// transaction; SQLite's DDL is transactional throughout.)
func newSQLite(ctx context.Context, st *sqlite.Store, o Options) (engine, error) {
	driver := riversqlite.New(st.DB())
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: riverLogger(o)})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil { //nolint:staticcheck // see above
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("jobs: migrate: commit: %w", err)
	}
	return newEngine[*sql.Tx](driver, st, o)
}

// migrate applies River's pending migrations, each in its own transaction.
func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], o Options) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: riverLogger(o)})
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}
