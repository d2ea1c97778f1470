package postgres

import (
	"context"
	"math"
	"strconv"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/auditsql"
	"crmhost.dev/host/postgres/internal/db"
	"github.com/jackc/pgx/v5"
)

// AppendAudit implements host.AuditStore.
func (s *Store) AppendAudit(ctx context.Context, e host.AuditEntry) (host.AuditEntry, error) {
	if err := e.Validate(); err != nil {
		return host.AuditEntry{}, err
	}
	e.At = s.stamp(e.At)
	id, err := s.q.AppendAudit(ctx, auditParams(e))
	if err != nil {
		return host.AuditEntry{}, mapErr(err, e.TenantID, "", "")
	}
	e.ID = id
	return e, nil
}

// AppendAudits implements host.AuditStore: in one transaction, one
// multi-row INSERT per auditsql.MaxInsertRows entries.
func (s *Store) AppendAudits(ctx context.Context, entries []host.AuditEntry) error {
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	if len(entries) == 0 {
		return nil
	}
	stamped := make([]host.AuditEntry, len(entries))
	for i, e := range entries {
		e.At = s.stamp(e.At)
		stamped[i] = e
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for len(stamped) > 0 {
			n := min(len(stamped), auditsql.MaxInsertRows)
			q, args := auditsql.Insert(stamped[:n], pgDialect)
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return mapErr(err, stamped[0].TenantID, "", "")
			}
			stamped = stamped[n:]
		}
		return nil
	})
}

// pgDialect is auditsql's view of PostgreSQL: $n placeholders, times as
// timestamptz (bounds rounded up, see bound).
var pgDialect = auditsql.Dialect{
	Param: func(n int) string { return "$" + strconv.Itoa(n) },
	Time:  func(t time.Time) any { return bound(t) },
}

// ListAudit implements host.AuditStore, with the query auditsql builds
// for f.
func (s *Store) ListAudit(ctx context.Context, f host.AuditFilter) ([]host.AuditEntry, error) {
	q, args := auditsql.List(f, pgDialect)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, f.TenantID, "", "")
	}
	defer rows.Close()
	out := []host.AuditEntry{}
	for rows.Next() {
		var e host.AuditEntry
		var actor string
		if err := rows.Scan(&e.ID, &e.At, &e.TenantID, &actor, &e.ActorID, &e.Action, &e.RequestID, &e.ConversationID, &e.Outcome, &e.Detail); err != nil {
			return nil, mapErr(err, f.TenantID, "", "")
		}
		e.At, e.ActorType = e.At.UTC(), host.ActorType(actor)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, f.TenantID, "", "")
	}
	return out, nil
}

// PruneAudit implements host.AuditStore.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := host.ValidatePruneLimit(limit); err != nil {
		return 0, err
	}
	n, err := s.q.PruneAudit(ctx, db.PruneAuditParams{Before: bound(before), Lim: int32(min(limit, math.MaxInt32))})
	if err != nil {
		return 0, mapErr(err, "", "", "")
	}
	return n, nil
}

func auditParams(e host.AuditEntry) db.AppendAuditParams {
	return db.AppendAuditParams{
		At:             e.At,
		TenantID:       e.TenantID,
		ActorType:      string(e.ActorType),
		ActorID:        e.ActorID,
		Action:         e.Action,
		RequestID:      e.RequestID,
		ConversationID: e.ConversationID,
		Outcome:        e.Outcome,
		Detail:         e.Detail,
	}
}
