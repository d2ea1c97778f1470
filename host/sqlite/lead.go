package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// CreateLead implements host.LeadStore.
func (s *Store) CreateLead(ctx context.Context, l host.Lead) (host.Lead, error) {
	return s.CreateLeadTx(ctx, l, nil)
}

// CreateLeadTx stores l like CreateLead and, in the same write transaction,
// calls fn with that transaction and the lead as stored; the lead is
// committed only when fn returns nil, and fn's writes only with the lead.
// The job queue (host/jobs) uses it to enqueue the lead's write atomically
// with the lead: a lead is never stored without its job, nor a job without
// its lead. fn must not use the store's other methods: the store has a
// single writer connection, which fn's transaction holds. A nil fn is
// allowed. Errors: those of CreateLead, and fn's.
func (s *Store) CreateLeadTx(ctx context.Context, l host.Lead, fn func(ctx context.Context, tx *sql.Tx, l host.Lead) error) (host.Lead, error) {
	if err := l.Validate(); err != nil {
		return host.Lead{}, err
	}
	fields, err := json.Marshal(l.Fields)
	if err != nil {
		return host.Lead{}, &host.Error{Code: host.CodeInvalid, Field: "fields", Message: "cannot be encoded as JSON", Cause: err}
	}
	if l.ID == "" {
		l.ID = host.NewID(host.LeadIDPrefix)
	}
	created := s.stamp(l.CreatedAt)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return host.Lead{}, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	row, err := s.wq.WithTx(tx).CreateLead(ctx, db.CreateLeadParams{
		ID:             l.ID,
		TenantID:       l.TenantID,
		Fields:         string(fields),
		IdempotencyKey: l.IdempotencyKey,
		CreatedAt:      toMicros(created),
		UpdatedAt:      toMicros(created),
	})
	if err != nil {
		return host.Lead{}, mapErr(err, l.TenantID, "", "lead "+quote(l.ID)+" already exists")
	}
	out, err := leadFromRow(row)
	if err != nil {
		return host.Lead{}, err
	}
	if fn != nil {
		if err := fn(ctx, tx, out); err != nil {
			return host.Lead{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return host.Lead{}, fmt.Errorf("sqlite: commit: %w", err)
	}
	return out, nil
}

// GetLead implements host.LeadStore.
func (s *Store) GetLead(ctx context.Context, tenantID, id string) (host.Lead, error) {
	row, err := s.rq.GetLead(ctx, db.GetLeadParams{TenantID: tenantID, ID: id})
	if err != nil {
		return host.Lead{}, mapErr(err, tenantID, leadNotFound(tenantID, id), "")
	}
	return leadFromRow(row)
}

// ListLeads implements host.LeadStore.
func (s *Store) ListLeads(ctx context.Context, tenantID string, f host.LeadFilter) ([]host.Lead, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "status", Message: fmt.Sprintf("%q is not a lead status", f.Status)}
	}
	p := db.ListLeadsParams{TenantID: tenantID, Status: string(f.Status), Lim: int64(host.ListLimit(f.Limit))}
	if f.Before != "" {
		cur, err := s.rq.GetLead(ctx, db.GetLeadParams{TenantID: tenantID, ID: f.Before})
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &host.Error{Code: host.CodeInvalid, Field: "before", Message: fmt.Sprintf("%q is not a lead of this tenant", f.Before)}
		}
		if err != nil {
			return nil, mapErr(err, tenantID, "", "")
		}
		p.BeforeID, p.BeforeAt = cur.ID, cur.CreatedAt
	}
	rows, err := s.rq.ListLeads(ctx, p)
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	out := make([]host.Lead, len(rows))
	for i, r := range rows {
		if out[i], err = leadFromRow(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MarkLeadWritten implements host.LeadStore.
func (s *Store) MarkLeadWritten(ctx context.Context, tenantID, id, externalID, recordURL string) (host.Lead, error) {
	var out host.Lead
	err := s.inTx(ctx, func(q *db.Queries) error {
		row, err := q.MarkLeadWritten(ctx, db.MarkLeadWrittenParams{
			ExternalID: externalID,
			RecordUrl:  recordURL,
			At:         toMicros(s.stamp(zeroTime)),
			TenantID:   tenantID,
			ID:         id,
		})
		if errors.Is(err, sql.ErrNoRows) {
			return s.leadNotUpdated(ctx, q, tenantID, id, "already written")
		}
		if err != nil {
			return mapErr(err, tenantID, "", "")
		}
		out, err = leadFromRow(row)
		return err
	})
	return out, err
}

// MarkLeadAttempt implements host.LeadStore.
func (s *Store) MarkLeadAttempt(ctx context.Context, tenantID, id, lastError string, failed bool) (host.Lead, error) {
	status := host.LeadPending
	if failed {
		status = host.LeadFailed
	}
	var out host.Lead
	err := s.inTx(ctx, func(q *db.Queries) error {
		row, err := q.MarkLeadAttempt(ctx, db.MarkLeadAttemptParams{
			Status:    string(status),
			LastError: host.TruncateLeadError(lastError),
			At:        toMicros(s.stamp(zeroTime)),
			TenantID:  tenantID,
			ID:        id,
		})
		if errors.Is(err, sql.ErrNoRows) {
			return s.leadNotUpdated(ctx, q, tenantID, id, "no longer pending")
		}
		if err != nil {
			return mapErr(err, tenantID, "", "")
		}
		out, err = leadFromRow(row)
		return err
	})
	return out, err
}

// leadNotUpdated explains an update that matched no row: the lead does not
// exist (for this tenant), or it is in a state the update refuses.
func (s *Store) leadNotUpdated(ctx context.Context, q *db.Queries, tenantID, id, why string) error {
	cur, err := q.GetLead(ctx, db.GetLeadParams{TenantID: tenantID, ID: id})
	if err != nil {
		return mapErr(err, tenantID, leadNotFound(tenantID, id), "")
	}
	return host.Conflict("lead %q is %s (status %s)", id, why, cur.Status)
}

func leadNotFound(tenantID, id string) string {
	return "lead " + quote(id) + " of tenant " + quote(tenantID) + " not found"
}

func leadFromRow(r db.Lead) (host.Lead, error) {
	l := host.Lead{
		ID:             r.ID,
		TenantID:       r.TenantID,
		IdempotencyKey: r.IdempotencyKey,
		Status:         host.LeadStatus(r.Status),
		ExternalID:     r.ExternalID,
		RecordURL:      r.RecordUrl,
		Attempts:       int(r.Attempts),
		LastError:      r.LastError,
		CreatedAt:      fromMicros(r.CreatedAt),
		UpdatedAt:      fromMicros(r.UpdatedAt),
		WrittenAt:      fromNullMicros(r.WrittenAt),
	}
	if err := json.Unmarshal([]byte(r.Fields), &l.Fields); err != nil {
		return host.Lead{}, fmt.Errorf("sqlite: lead %s: fields: %w", r.ID, err)
	}
	return l, nil
}
