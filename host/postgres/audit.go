package postgres

import (
	"context"
	"math"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
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

// AppendAudits implements host.AuditStore.
func (s *Store) AppendAudits(ctx context.Context, entries []host.AuditEntry) error {
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	return s.inTx(ctx, func(q *db.Queries) error {
		for _, e := range entries {
			e.At = s.stamp(e.At)
			_, err := q.AppendAudit(ctx, auditParams(e))
			if err != nil {
				return mapErr(err, e.TenantID, "", "")
			}
		}
		return nil
	})
}

// ListAudit implements host.AuditStore.
func (s *Store) ListAudit(ctx context.Context, f host.AuditFilter) ([]host.AuditEntry, error) {
	p := db.ListAuditParams{
		TenantID:       f.TenantID,
		Action:         f.Action,
		ActorID:        f.ActorID,
		Outcome:        f.Outcome,
		RequestID:      f.RequestID,
		ConversationID: f.ConversationID,
		BeforeID:       f.BeforeID,
		Lim:            int32(host.ListLimit(f.Limit)),
	}
	if !f.Since.IsZero() {
		since := bound(f.Since)
		p.Since = &since
	}
	if !f.Until.IsZero() {
		until := bound(f.Until)
		p.Until = &until
	}
	rows, err := s.q.ListAudit(ctx, p)
	if err != nil {
		return nil, mapErr(err, f.TenantID, "", "")
	}
	out := make([]host.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = host.AuditEntry{
			ID:             r.ID,
			At:             r.At.UTC(),
			TenantID:       r.TenantID,
			ActorType:      host.ActorType(r.ActorType),
			ActorID:        r.ActorID,
			Action:         r.Action,
			RequestID:      r.RequestID,
			ConversationID: r.ConversationID,
			Outcome:        r.Outcome,
			Detail:         r.Detail,
		}
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
