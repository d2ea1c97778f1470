package sqlite

import (
	"context"
	"database/sql"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// CreateOperator implements host.OperatorStore.
func (s *Store) CreateOperator(ctx context.Context, o host.Operator) (host.Operator, error) {
	if err := o.Validate(); err != nil {
		return host.Operator{}, err
	}
	if o.ID == "" {
		o.ID = host.NewID(host.OperatorIDPrefix)
	}
	row, err := s.wq.CreateOperator(ctx, db.CreateOperatorParams{
		ID:         o.ID,
		Name:       o.Name,
		Prefix:     o.Prefix,
		Hash:       o.Hash,
		CreatedAt:  toMicros(s.stamp(o.CreatedAt)),
		LastUsedAt: toNullMicros(truncPtr(o.LastUsedAt)),
		RevokedAt:  toNullMicros(truncPtr(o.RevokedAt)),
	})
	if err != nil {
		return host.Operator{}, mapErr(err, "", "", "an active operator is already named "+quote(o.Name)+" (or its id or token prefix is taken)")
	}
	return operatorFromRow(row), nil
}

// GetOperatorByPrefix implements host.OperatorStore.
func (s *Store) GetOperatorByPrefix(ctx context.Context, prefix string) (host.Operator, error) {
	row, err := s.rq.GetOperatorByPrefix(ctx, prefix)
	if err != nil {
		return host.Operator{}, mapErr(err, "", "operator token "+quote(prefix)+" not found", "")
	}
	return operatorFromRow(row), nil
}

// ListOperators implements host.OperatorStore.
func (s *Store) ListOperators(ctx context.Context) ([]host.Operator, error) {
	rows, err := s.rq.ListOperators(ctx)
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.Operator, len(rows))
	for i, r := range rows {
		out[i] = operatorFromRow(r)
	}
	return out, nil
}

// RevokeOperator implements host.OperatorStore.
func (s *Store) RevokeOperator(ctx context.Context, name string, at time.Time) error {
	n, err := s.wq.RevokeOperator(ctx, db.RevokeOperatorParams{
		At:   sql.NullInt64{Int64: toMicros(s.stamp(at)), Valid: true},
		Name: name,
	})
	return notFoundIfNone(n, err, "no active operator is named %q", name)
}

// TouchOperator implements host.OperatorStore.
func (s *Store) TouchOperator(ctx context.Context, id string, at time.Time) error {
	n, err := s.wq.TouchOperator(ctx, db.TouchOperatorParams{
		At: sql.NullInt64{Int64: toMicros(s.stamp(at)), Valid: true},
		ID: id,
	})
	return notFoundIfNone(n, err, "operator %q not found", id)
}

func operatorFromRow(r db.Operator) host.Operator {
	return host.Operator{
		ID:         r.ID,
		Name:       r.Name,
		Prefix:     r.Prefix,
		Hash:       r.Hash,
		CreatedAt:  fromMicros(r.CreatedAt),
		LastUsedAt: fromNullMicros(r.LastUsedAt),
		RevokedAt:  fromNullMicros(r.RevokedAt),
	}
}
