package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// ClaimIdempotency implements host.IdempotencyStore. The upsert and the
// read of a live record run in one IMMEDIATE transaction on the single
// writer connection, so claims are serialised.
func (s *Store) ClaimIdempotency(ctx context.Context, rec host.IdempotencyRecord) (*host.IdempotencyRecord, bool, error) {
	now := s.stamp(rec.CreatedAt)
	if err := rec.ValidateClaim(now); err != nil {
		return nil, false, err
	}
	rec.CreatedAt = now
	rec.ExpiresAt = rec.ExpiresAt.UTC().Truncate(time.Microsecond)
	var existing *host.IdempotencyRecord
	err := s.inTx(ctx, func(q *db.Queries) error {
		n, err := q.ClaimIdempotency(ctx, db.ClaimIdempotencyParams{
			TenantID:    rec.TenantID,
			Key:         rec.Key,
			RequestHash: rec.RequestHash,
			CreatedAt:   toMicros(rec.CreatedAt),
			ExpiresAt:   toMicros(rec.ExpiresAt),
		})
		if err != nil {
			return mapErr(err, rec.TenantID, "", "")
		}
		if n > 0 {
			return nil
		}
		row, err := q.GetIdempotency(ctx, db.GetIdempotencyParams{TenantID: rec.TenantID, Key: rec.Key})
		if err != nil {
			return mapErr(err, rec.TenantID, "", "")
		}
		r := idempotencyFromRow(row)
		existing = &r
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return existing, existing == nil, nil
}

// CompleteIdempotency implements host.IdempotencyStore.
func (s *Store) CompleteIdempotency(ctx context.Context, tenantID, key string, status int, response []byte) error {
	return s.inTx(ctx, func(q *db.Queries) error {
		n, err := q.CompleteIdempotency(ctx, db.CompleteIdempotencyParams{
			StatusCode: int64(status),
			Response:   nonEmpty(response),
			TenantID:   tenantID,
			Key:        key,
		})
		if err != nil || n > 0 {
			return mapErr(err, tenantID, "", "")
		}
		_, err = q.GetIdempotency(ctx, db.GetIdempotencyParams{TenantID: tenantID, Key: key})
		if errors.Is(err, sql.ErrNoRows) {
			return host.NotFound("idempotency key %q of tenant %q not found", key, tenantID)
		}
		if err != nil {
			return mapErr(err, tenantID, "", "")
		}
		return host.Conflict("idempotency key %q of tenant %q is already done", key, tenantID)
	})
}

// ReleaseIdempotency implements host.IdempotencyStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, tenantID, key string) error {
	n, err := s.wq.ReleaseIdempotency(ctx, db.ReleaseIdempotencyParams{TenantID: tenantID, Key: key})
	return notFoundIfNone(n, err, "no running claim of idempotency key %q of tenant %q", key, tenantID)
}

// GetIdempotency implements host.IdempotencyStore.
func (s *Store) GetIdempotency(ctx context.Context, tenantID, key string) (host.IdempotencyRecord, error) {
	row, err := s.rq.GetIdempotency(ctx, db.GetIdempotencyParams{TenantID: tenantID, Key: key})
	if err != nil {
		return host.IdempotencyRecord{}, mapErr(err, tenantID,
			"idempotency key "+quote(key)+" of tenant "+quote(tenantID)+" not found", "")
	}
	return idempotencyFromRow(row), nil
}

// PruneIdempotency implements host.IdempotencyStore.
func (s *Store) PruneIdempotency(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := host.ValidatePruneLimit(limit); err != nil {
		return 0, err
	}
	n, err := s.wq.PruneIdempotency(ctx, db.PruneIdempotencyParams{Before: boundMicros(before), Lim: int64(limit)})
	if err != nil {
		return 0, mapErr(err, "", "", "")
	}
	return n, nil
}

func idempotencyFromRow(r db.IdempotencyKey) host.IdempotencyRecord {
	return host.IdempotencyRecord{
		TenantID:    r.TenantID,
		Key:         r.Key,
		RequestHash: r.RequestHash,
		State:       host.IdempotencyState(r.State),
		StatusCode:  int(r.StatusCode),
		Response:    nonEmpty(r.Response),
		CreatedAt:   fromMicros(r.CreatedAt),
		ExpiresAt:   fromMicros(r.ExpiresAt),
	}
}
