package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
	"github.com/jackc/pgx/v5"
)

// CreateLead implements host.LeadStore.
func (s *Store) CreateLead(ctx context.Context, l host.Lead) (host.Lead, error) {
	return s.CreateLeadTx(ctx, l, nil)
}

// CreateLeadTx stores l like CreateLead and, in the same transaction, calls
// fn with that transaction and the lead as stored; the lead is committed
// only when fn returns nil, and fn's writes only with the lead. The job
// queue (host/jobs) uses it to enqueue the lead's write atomically with the
// lead: a lead is never stored without its job, nor a job without its
// lead. A nil fn is allowed. Errors: those of CreateLead, and fn's.
func (s *Store) CreateLeadTx(ctx context.Context, l host.Lead, fn func(ctx context.Context, tx pgx.Tx, l host.Lead) error) (host.Lead, error) {
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
	var out host.Lead
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := s.q.WithTx(tx).CreateLead(ctx, db.CreateLeadParams{
			ID:             l.ID,
			TenantID:       l.TenantID,
			Fields:         fields,
			IdempotencyKey: l.IdempotencyKey,
			CreatedAt:      created,
			UpdatedAt:      created,
		})
		if err != nil {
			return mapErr(err, l.TenantID, "", "lead "+quote(l.ID)+" already exists")
		}
		if out, err = leadFromRow(row); err != nil {
			return err
		}
		if fn != nil {
			return fn(ctx, tx, out)
		}
		return nil
	})
	if err != nil {
		return host.Lead{}, err
	}
	return out, nil
}

// GetLead implements host.LeadStore.
func (s *Store) GetLead(ctx context.Context, tenantID, id string) (host.Lead, error) {
	row, err := s.q.GetLead(ctx, db.GetLeadParams{TenantID: tenantID, ID: id})
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
	p := db.ListLeadsParams{TenantID: tenantID, Status: string(f.Status), Lim: int32(host.ListLimit(f.Limit))}
	if f.Before != "" {
		cur, err := s.q.GetLead(ctx, db.GetLeadParams{TenantID: tenantID, ID: f.Before})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, &host.Error{Code: host.CodeInvalid, Field: "before", Message: fmt.Sprintf("%q is not a lead of this tenant", f.Before)}
		}
		if err != nil {
			return nil, mapErr(err, tenantID, "", "")
		}
		p.BeforeID, p.BeforeAt = cur.ID, cur.CreatedAt
	}
	rows, err := s.q.ListLeads(ctx, p)
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
	row, err := s.q.MarkLeadWritten(ctx, db.MarkLeadWrittenParams{
		ExternalID: externalID,
		RecordUrl:  recordURL,
		At:         s.stamp(zeroTime),
		TenantID:   tenantID,
		ID:         id,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return host.Lead{}, s.leadNotUpdated(ctx, tenantID, id, "already written")
	}
	if err != nil {
		return host.Lead{}, mapErr(err, tenantID, "", "")
	}
	return leadFromRow(row)
}

// MarkLeadAttempt implements host.LeadStore.
func (s *Store) MarkLeadAttempt(ctx context.Context, tenantID, id, lastError string, failed bool) (host.Lead, error) {
	status := host.LeadPending
	if failed {
		status = host.LeadFailed
	}
	row, err := s.q.MarkLeadAttempt(ctx, db.MarkLeadAttemptParams{
		Status:    string(status),
		LastError: host.TruncateLeadError(lastError),
		At:        s.stamp(zeroTime),
		TenantID:  tenantID,
		ID:        id,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return host.Lead{}, s.leadNotUpdated(ctx, tenantID, id, "no longer pending")
	}
	if err != nil {
		return host.Lead{}, mapErr(err, tenantID, "", "")
	}
	return leadFromRow(row)
}

// leadNotUpdated explains an update that matched no row: the lead does not
// exist (for this tenant), or it is in a state the update refuses. Leads
// are never deleted but with their tenant, so the answer cannot go stale in
// a way that matters.
func (s *Store) leadNotUpdated(ctx context.Context, tenantID, id, why string) error {
	cur, err := s.q.GetLead(ctx, db.GetLeadParams{TenantID: tenantID, ID: id})
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
		CreatedAt:      r.CreatedAt.UTC(),
		UpdatedAt:      r.UpdatedAt.UTC(),
		WrittenAt:      utcPtr(r.WrittenAt),
	}
	if err := json.Unmarshal(r.Fields, &l.Fields); err != nil {
		return host.Lead{}, fmt.Errorf("postgres: lead %s: fields: %w", r.ID, err)
	}
	return l, nil
}
