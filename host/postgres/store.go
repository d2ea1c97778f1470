package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/outboundsql"
	"crmhost.dev/host/postgres/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a host.Store on a PostgreSQL database. It is safe for
// concurrent use, also by several processes.
type Store struct {
	now       func() time.Time
	pool      *pgxpool.Pool
	q         *db.Queries
	noMigrate bool
	sql       *sql.DB // the pool through database/sql, for the outbound tables
	*outboundsql.Store
}

// Option configures a Store.
type Option func(*Store)

// WithoutMigrate makes Open check the schema instead of migrating it, for
// a process whose database role may not change the schema: Open then
// refuses a database with pending migrations (an error wrapping
// host.ErrSchemaOutdated, naming them).
func WithoutMigrate() Option {
	return func(s *Store) { s.noMigrate = true }
}

// WithClock sets the clock the store uses for timestamps its callers leave
// zero (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open connects to the database at url (a postgres:// URL or key=value
// DSN; pool settings such as pool_max_conns may be given in it), checks
// that it answers and applies pending migrations (see WithoutMigrate).
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, host.Errorf(host.CodeInvalid, "postgres: bad database URL: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{now: time.Now, pool: pool, q: db.New(pool)}
	s.Store, s.sql = outboundStore(s)
	for _, o := range opts {
		o(s)
	}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.migrateOrCheck(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrateOrCheck applies pending migrations, or with WithoutMigrate
// refuses a database that has some.
func (s *Store) migrateOrCheck(ctx context.Context) error {
	if !s.noMigrate {
		return s.Migrate(ctx)
	}
	pending, err := s.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("postgres: %w: %d migrations not applied (%s)", host.ErrSchemaOutdated, len(pending), strings.Join(pending, ", "))
	}
	return nil
}

// Pool returns the store's connection pool, for components that share the
// database (e.g. a job queue). Closing the store closes it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	_ = s.sql.Close()
	s.pool.Close()
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(s.q.WithTx(tx))
	})
}

// zeroTime asks stamp for now.
var zeroTime time.Time

// stamp returns t, or the store's now when t is zero, in stored precision.
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// trunc returns t in stored precision.
func trunc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// truncPtr returns *t in stored precision, nil for nil.
func truncPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := trunc(*t)
	return &u
}

// utcPtr returns *t in UTC, nil for nil (pgx reads times in time.Local).
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// bound converts a filter bound to stored precision, rounding up to the
// next microsecond so that "at >= t" and "at < t" mean the same as on the
// unrounded time. (PostgreSQL itself would round to nearest.)
func bound(t time.Time) time.Time {
	u := trunc(t)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u
}

// nonEmpty returns nil for an empty slice, so stores agree on "no bytes".
func nonEmpty[T any](b []T) []T {
	if len(b) == 0 {
		return nil
	}
	return b
}

func quote(s string) string { return strconv.Quote(s) }

// SQLSTATEs mapped to host errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// mapErr turns driver errors into host errors: no rows into NotFound (with
// the message notFound), unique violations into Conflict (with conflict),
// a foreign key violation into a NotFound of the tenant.
func mapErr(err error, tenantID, notFound, conflict string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows) && notFound != "":
		return host.NotFound("%s", notFound)
	case sqlState(err) == uniqueViolation && conflict != "":
		return host.Conflict("%s", conflict)
	case sqlState(err) == foreignKeyViolation:
		return host.NotFound("tenant %q not found", tenantID)
	}
	return fmt.Errorf("postgres: %w", err)
}

// notFoundIfNone returns a NotFound error when an exec touched no row.
func notFoundIfNone(n int64, err error, format string, args ...any) error {
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if n == 0 {
		return host.NotFound(format, args...)
	}
	return nil
}

var _ host.Store = (*Store)(nil)
