package outboundsql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/host"
)

// Dialect is what differs between the databases.
type Dialect struct {
	// Name prefixes wrapped errors ("sqlite", "postgres").
	Name string
	// Numbered placeholders ($1, $2) instead of ?.
	Numbered bool
	// IsUnique and IsForeignKey classify constraint violations.
	IsUnique     func(error) bool
	IsForeignKey func(error) bool
}

// Store implements host.OutboundStore. It is safe for concurrent use.
type Store struct {
	w, r *sql.DB
	d    Dialect
	now  func() time.Time
}

// New returns a Store writing through w and reading through r (the same
// pool for both is fine); now is read at each call, so a store's clock
// set after New applies.
func New(w, r *sql.DB, d Dialect, now func() time.Time) *Store {
	return &Store{w: w, r: r, d: d, now: now}
}

// q rebinds a query written with ? placeholders.
func (s *Store) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// tx runs fn in a write transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(err)
	}
	return nil
}

// wrap names the dialect in an untyped error; typed host errors pass.
func (s *Store) wrap(err error) error {
	var he *host.Error
	if err == nil || errors.As(err, &he) {
		return err
	}
	return fmt.Errorf("%s: %w", s.d.Name, err)
}

// mapErr turns constraint violations into host errors.
func (s *Store) mapErr(err error, tenantID, conflict string) error {
	switch {
	case err == nil:
		return nil
	case s.d.IsUnique(err) && conflict != "":
		return host.Conflict("%s", conflict)
	case s.d.IsForeignKey(err):
		return host.NotFound("tenant %q not found", tenantID)
	}
	return s.wrap(err)
}

// tenantExists is CodeNotFound when the tenant does not exist (for the
// tables that keep rows after their tenant, and so have no foreign key).
func (s *Store) tenantExists(ctx context.Context, tx *sql.Tx, tenantID string) error {
	var one int
	err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM tenants WHERE id = ?`), tenantID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return host.NotFound("tenant %q not found", tenantID)
	}
	return s.wrap(err)
}

// stamp returns t, or now when zero, in stored precision (UTC, µs).
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
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

func truncPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", &host.Error{Code: host.CodeInvalid, Message: "cannot be encoded as JSON", Cause: err}
	}
	return string(b), nil
}

var _ host.OutboundStore = (*Store)(nil)
