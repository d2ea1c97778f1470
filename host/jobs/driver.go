package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/sqlite"
	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// newPostgres runs River on the store's pgx pool, after applying or
// checking River's migrations (Options.Migrate).
func newPostgres(ctx context.Context, st *postgres.Store, o Options) (engine, error) {
	driver := riverpgxv5.New(st.Pool())
	if o.Migrate {
		if _, err := migratePostgres(ctx, st, o.Logger); err != nil {
			return nil, err
		}
	} else if err := check(ctx, driver, o.Logger); err != nil {
		return nil, err
	}
	return newEngine[pgx.Tx](driver, st, o)
}

// migratePostgres applies River's migrations under a session advisory
// lock, so processes migrating together wait for each other instead of
// racing to create the same tables. The lock is held on a connection of
// its own, outside the pool: a process starting several runners at once
// then never has all the pool's connections waiting for the lock while
// its holder needs one to migrate.
func migratePostgres(ctx context.Context, st *postgres.Store, logger hclog.Logger) ([]int, error) {
	lock, err := pgx.ConnectConfig(ctx, st.Pool().Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	// Closing the session releases the lock, whatever happened.
	defer lock.Close(context.WithoutCancel(ctx))
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("jobs: migrate: lock: %w", err)
	}
	m, err := rivermigrate.New(riverpgxv5.New(st.Pool()), &rivermigrate.Config{Logger: riverLogger(logger)})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	return versions(res), nil
}

// migrationLock is the advisory lock key River's migrations run under
// ("crmrivr" in ASCII; the store's own migrations use another).
const migrationLock int64 = 0x63726d72697672

// newSQLite runs River on the store's writer pool: one connection, so
// River's writes and the store's are serialised in the process and none
// fails with SQLITE_BUSY (riversqlite asks for exactly this), and a lead
// and its job share a transaction on it. River's queries are short; the
// workers' own store calls happen outside River's transactions.
func newSQLite(ctx context.Context, st *sqlite.Store, o Options) (engine, error) {
	driver := riversqlite.New(st.DB())
	if o.Migrate {
		if _, err := migrateSQLite(ctx, st, o.Logger); err != nil {
			return nil, err
		}
	} else if err := check(ctx, driver, o.Logger); err != nil {
		return nil, err
	}
	return newEngine[*sql.Tx](driver, st, o)
}

// migrateSQLite applies River's migrations in one IMMEDIATE transaction,
// which serialises processes migrating together on the same file and
// applies all or nothing. (rivermigrate deprecates MigrateTx because some
// PostgreSQL migrations, such as enum additions, cannot share a
// transaction; SQLite's DDL is transactional throughout.)
func migrateSQLite(ctx context.Context, st *sqlite.Store, logger hclog.Logger) ([]int, error) {
	m, err := rivermigrate.New(riversqlite.New(st.DB()), &rivermigrate.Config{Logger: riverLogger(logger)})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil) //nolint:staticcheck // see above
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("jobs: migrate: commit: %w", err)
	}
	return versions(res), nil
}

func versions(res *rivermigrate.MigrateResult) []int {
	var out []int
	for _, v := range res.Versions {
		out = append(out, v.Version)
	}
	return out
}

// check refuses a database whose River tables are missing or behind,
// changing nothing. Errors: host.ErrSchemaOutdated wrapped, with River's
// account of what is missing.
func check[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], logger hclog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: riverLogger(logger)})
	if err != nil {
		return fmt.Errorf("jobs: check migrations: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: check migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("jobs: %w: the job queue's tables are missing or behind (%s)", host.ErrSchemaOutdated, strings.Join(res.Messages, "; "))
	}
	return nil
}
