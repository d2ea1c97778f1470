package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/outboundsql"
	"crmhost.dev/host/sqlite/internal/db"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is a host.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	now       func() time.Time
	noMigrate bool
	w         *sql.DB // exactly one connection: the single writer
	r         *sql.DB // readers
	wq        *db.Queries
	rq        *db.Queries
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

// busyTimeout bounds how long a connection waits for a lock held by
// another process (within this process the write pool already serialises).
const busyTimeout = 10 * time.Second

// Open opens (creating if needed) the database file at path and applies
// pending migrations (see WithoutMigrate). path must name a file: an
// in-memory database cannot be shared by the read and write pools, so
// tests use a file in t.TempDir(). Errors: CodeInvalid for an unusable
// path; host.ErrSchemaOutdated wrapped (WithoutMigrate); otherwise the
// error of opening or migrating.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || strings.Contains(path, ":memory:") || strings.HasPrefix(path, "file:") || strings.ContainsAny(path, "?#") {
		return nil, host.Errorf(host.CodeInvalid, "sqlite: path %q must be a plain file path", path)
	}
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1", busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s := &Store{now: time.Now, w: w, r: r, wq: db.New(w), rq: db.New(r)}
	s.Store = outboundStore(s)
	for _, o := range opts {
		o(s)
	}
	// Migrate first: it creates the file and switches it to WAL before
	// any reader opens it.
	if err := s.migrateOrCheck(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// Prepared once per pool (database/sql re-prepares per connection as
	// needed): modernc's SQLite otherwise parses every statement each time.
	var err2 error
	if s.wq, err2 = db.Prepare(ctx, w); err2 == nil {
		s.rq, err2 = db.Prepare(ctx, r)
	}
	if err2 != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: prepare statements: %w", err2)
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
		return fmt.Errorf("sqlite: %w: %d migrations not applied (%s)", host.ErrSchemaOutdated, len(pending), strings.Join(pending, ", "))
	}
	return nil
}

// Ping checks that both pools can reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// DB returns the store's writer pool (exactly one connection, transactions
// BEGIN IMMEDIATE), for components that share the file and must write in
// the store's transactions (e.g. a job queue): sharing the single writer
// serialises their writes with the store's, so neither sees SQLITE_BUSY.
// Never hold its connection while calling the store. Closing the store
// closes it.
func (s *Store) DB() *sql.DB { return s.w }

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	for _, q := range []*db.Queries{s.rq, s.wq} {
		if q != nil {
			errs = append(errs, q.Close())
		}
	}
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE), committing when
// it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(q *db.Queries) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(s.wq.WithTx(tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// stamp returns t, or the store's now when t is zero, in stored precision.
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// zeroTime asks stamp for now.
var zeroTime time.Time

func quote(s string) string { return strconv.Quote(s) }

// Times are stored as microseconds since the epoch.

func toMicros(t time.Time) int64 { return t.UnixMicro() }

// boundMicros converts a filter bound, rounding up to the next microsecond
// so that "at >= t" and "at < t" mean the same as on the unrounded time.
func boundMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func toNullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// nonEmpty returns nil for an empty slice, so stores agree on "no bytes".
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// isConstraint reports whether err is the SQLite extended result code.
func isConstraint(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

// mapErr turns driver errors into host errors: no rows into NotFound (with
// the message notFound), unique/primary key violations into Conflict (with
// conflict), a foreign key violation into a NotFound of the tenant.
func mapErr(err error, tenantID, notFound, conflict string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows) && notFound != "":
		return host.NotFound("%s", notFound)
	case (isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) || isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)) && conflict != "":
		return host.Conflict("%s", conflict)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY):
		return host.NotFound("tenant %q not found", tenantID)
	}
	return fmt.Errorf("sqlite: %w", err)
}

// notFoundIfNone returns a NotFound error when an exec touched no row.
func notFoundIfNone(n int64, err error, format string, args ...any) error {
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if n == 0 {
		return host.NotFound(format, args...)
	}
	return nil
}

var _ host.Store = (*Store)(nil)
