package sqlite

import (
	"context"
	"database/sql"

	"crmhost.dev/host"
)

// Leads are mirrored rows of class lead (see mirror.go); host.LeadView
// serves the LeadStore over them.

// CreateLead implements host.LeadStore.
func (s *Store) CreateLead(ctx context.Context, l host.Lead) (host.Lead, error) {
	return s.CreateLeadTx(ctx, l, nil)
}

// CreateLeadTx stores l like CreateLead and, in the same write transaction,
// calls fn with that transaction and the lead as stored; the lead is
// committed only when fn returns nil, and fn's writes only with the lead.
// The job queue (host/jobs) uses it to enqueue the lead's write atomically
// with the lead. fn must not use the store's other methods: the store has
// a single writer connection, which fn's transaction holds. A nil fn is
// allowed. Errors: those of CreateLead, and fn's.
func (s *Store) CreateLeadTx(ctx context.Context, l host.Lead, fn func(ctx context.Context, tx *sql.Tx, l host.Lead) error) (host.Lead, error) {
	if err := l.Validate(); err != nil {
		return host.Lead{}, err
	}
	rows, err := s.CreateMirrorRowsTx(ctx, []host.MirrorRow{l.MirrorRow()}, func(ctx context.Context, tx *sql.Tx, rows []host.MirrorRow) error {
		if fn != nil {
			return fn(ctx, tx, rows[0].Lead())
		}
		return nil
	})
	if err != nil {
		return host.Lead{}, err
	}
	return rows[0].Lead(), nil
}

// GetLead implements host.LeadStore.
func (s *Store) GetLead(ctx context.Context, tenantID, id string) (host.Lead, error) {
	return host.LeadView{Rows: s}.GetLead(ctx, tenantID, id)
}

// ListLeads implements host.LeadStore.
func (s *Store) ListLeads(ctx context.Context, tenantID string, f host.LeadFilter) ([]host.Lead, error) {
	return host.LeadView{Rows: s}.ListLeads(ctx, tenantID, f)
}

// MarkLeadWritten implements host.LeadStore.
func (s *Store) MarkLeadWritten(ctx context.Context, tenantID, id, externalID, recordURL string) (host.Lead, error) {
	return host.LeadView{Rows: s}.MarkLeadWritten(ctx, tenantID, id, externalID, recordURL)
}

// MarkLeadAttempt implements host.LeadStore.
func (s *Store) MarkLeadAttempt(ctx context.Context, tenantID, id, lastError string, failed bool) (host.Lead, error) {
	return host.LeadView{Rows: s}.MarkLeadAttempt(ctx, tenantID, id, lastError, failed)
}
