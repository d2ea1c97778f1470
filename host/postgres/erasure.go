package postgres

import (
	"context"
	"errors"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
	"github.com/jackc/pgx/v5"
)

// CreateErasure implements host.ErasureStore.
func (s *Store) CreateErasure(ctx context.Context, e host.Erasure) (host.Erasure, error) {
	return s.CreateErasureTx(ctx, e, nil)
}

// CreateErasureTx stores e like CreateErasure and calls fn in the same
// write transaction (the job queue enqueues the erasure's job there).
func (s *Store) CreateErasureTx(ctx context.Context, e host.Erasure, fn func(ctx context.Context, tx pgx.Tx, e host.Erasure) error) (host.Erasure, error) {
	if err := e.Validate(); err != nil {
		return host.Erasure{}, err
	}
	subject, err := host.EncodeSubject(e.Subject)
	if err != nil {
		return host.Erasure{}, err
	}
	if e.ID == "" {
		e.ID = host.NewID(host.ErasureIDPrefix)
	}
	receipt := string(e.Receipt)
	if receipt == "" {
		receipt = "{}"
	}
	var out host.Erasure
	err = s.inTxRaw(ctx, func(tx pgx.Tx, q *db.Queries) error {
		row, err := q.CreateErasure(ctx, db.CreateErasureParams{ID: e.ID, TenantID: e.TenantID, RequestedBy: e.RequestedBy,
			Subject: subject, PhoneHash: e.PhoneHash, EmailHash: e.EmailHash,
			ExternalIDHash: e.ExternalIDHash, Receipt: []byte(receipt), At: s.stamp(e.CreatedAt)})
		if err != nil {
			return mapErr(err, e.TenantID, "", "erasure "+quote(e.ID)+" already exists")
		}
		if out, err = erasureFromRow(row); err != nil {
			return err
		}
		if fn != nil {
			return fn(ctx, tx, out)
		}
		return nil
	})
	return out, err
}

// GetErasure implements host.ErasureStore.
func (s *Store) GetErasure(ctx context.Context, tenantID, id string) (host.Erasure, error) {
	row, err := s.q.GetErasure(ctx, db.GetErasureParams{TenantID: tenantID, ID: id})
	if err != nil {
		return host.Erasure{}, mapErr(err, tenantID, "erasure "+quote(id)+" of tenant "+quote(tenantID)+" not found", "")
	}
	return erasureFromRow(row)
}

// ListErasures implements host.ErasureStore.
func (s *Store) ListErasures(ctx context.Context, tenantID, before string, limit int) ([]host.Erasure, error) {
	p := db.ListErasuresParams{TenantID: tenantID, Lim: int32(host.ListLimit(limit))}
	if before != "" {
		cur, err := s.q.GetErasure(ctx, db.GetErasureParams{TenantID: tenantID, ID: before})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, host.BadCursor(before)
		}
		if err != nil {
			return nil, mapErr(err, tenantID, "", "")
		}
		p.BeforeID, p.BeforeAt = cur.ID, cur.CreatedAt
	}
	rows, err := s.q.ListErasures(ctx, p)
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	out := make([]host.Erasure, 0, len(rows))
	for _, r := range rows {
		e, err := erasureFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// SaveErasureReceipt implements host.ErasureStore.
func (s *Store) SaveErasureReceipt(ctx context.Context, tenantID, id string, receipt []byte, done bool) (host.Erasure, error) {
	var out host.Erasure
	err := s.inTx(ctx, func(q *db.Queries) error {
		at := s.stamp(zeroTime)
		var row db.Erasure
		var err error
		if done {
			row, err = q.FinishErasure(ctx, db.FinishErasureParams{Receipt: receipt, At: at, TenantID: tenantID, ID: id})
		} else {
			row, err = q.SaveErasureReceipt(ctx, db.SaveErasureReceiptParams{Receipt: receipt, At: at, TenantID: tenantID, ID: id})
		}
		if err != nil {
			return mapErr(err, tenantID, "erasure "+quote(id)+" of tenant "+quote(tenantID)+" not found", "")
		}
		out, err = erasureFromRow(row)
		return err
	})
	return out, err
}

func erasureFromRow(r db.Erasure) (host.Erasure, error) {
	subject, err := host.DecodeSubject(r.Subject)
	if err != nil {
		return host.Erasure{}, err
	}
	return host.Erasure{ID: r.ID, TenantID: r.TenantID, State: r.State, RequestedBy: r.RequestedBy, Subject: subject,
		PhoneHash: r.PhoneHash, EmailHash: r.EmailHash, ExternalIDHash: r.ExternalIDHash, Receipt: r.Receipt,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), FinishedAt: utcPtr(r.FinishedAt)}, nil
}
