package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
	"github.com/jackc/pgx/v5"
)

// claimAttempts bounds ClaimIdempotency's retries when the record it lost
// to vanishes (released or pruned) before it can be read.
const claimAttempts = 5

// ClaimIdempotency implements host.IdempotencyStore. The claim is one
// INSERT ... ON CONFLICT DO UPDATE ... WHERE expired: PostgreSQL serialises
// concurrent claims of one key on the row, so exactly one inserts (or
// replaces an expired record) and the others update nothing and read the
// winner's record.
func (s *Store) ClaimIdempotency(ctx context.Context, rec host.IdempotencyRecord) (*host.IdempotencyRecord, bool, error) {
	now := s.stamp(rec.CreatedAt)
	if err := rec.ValidateClaim(now); err != nil {
		return nil, false, err
	}
	p := db.ClaimIdempotencyParams{
		TenantID:    rec.TenantID,
		Key:         rec.Key,
		RequestHash: rec.RequestHash,
		CreatedAt:   now,
		ExpiresAt:   trunc(rec.ExpiresAt),
	}
	for range claimAttempts {
		n, err := s.q.ClaimIdempotency(ctx, p)
		if err != nil {
			return nil, false, mapErr(err, rec.TenantID, "", "")
		}
		if n > 0 {
			return nil, true, nil
		}
		row, err := s.q.GetIdempotency(ctx, db.GetIdempotencyParams{TenantID: rec.TenantID, Key: rec.Key})
		if errors.Is(err, pgx.ErrNoRows) {
			continue // released or pruned in between: claim again
		}
		if err != nil {
			return nil, false, mapErr(err, rec.TenantID, "", "")
		}
		existing := idempotencyFromRow(row)
		return &existing, false, nil
	}
	return nil, false, fmt.Errorf("postgres: claim idempotency key %q: record kept vanishing", rec.Key)
}

// CompleteIdempotency implements host.IdempotencyStore.
func (s *Store) CompleteIdempotency(ctx context.Context, tenantID, key string, status int, response []byte) error {
	n, err := s.q.CompleteIdempotency(ctx, db.CompleteIdempotencyParams{
		StatusCode: int32(status),
		Response:   nonEmpty(response),
		TenantID:   tenantID,
		Key:        key,
	})
	if err != nil || n > 0 {
		return mapErr(err, tenantID, "", "")
	}
	_, err = s.q.GetIdempotency(ctx, db.GetIdempotencyParams{TenantID: tenantID, Key: key})
	if errors.Is(err, pgx.ErrNoRows) {
		return host.NotFound("idempotency key %q of tenant %q not found", key, tenantID)
	}
	if err != nil {
		return mapErr(err, tenantID, "", "")
	}
	return host.Conflict("idempotency key %q of tenant %q is already done", key, tenantID)
}

// ReleaseIdempotency implements host.IdempotencyStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, tenantID, key string) error {
	n, err := s.q.ReleaseIdempotency(ctx, db.ReleaseIdempotencyParams{TenantID: tenantID, Key: key})
	return notFoundIfNone(n, err, "no running claim of idempotency key %q of tenant %q", key, tenantID)
}

// GetIdempotency implements host.IdempotencyStore.
func (s *Store) GetIdempotency(ctx context.Context, tenantID, key string) (host.IdempotencyRecord, error) {
	row, err := s.q.GetIdempotency(ctx, db.GetIdempotencyParams{TenantID: tenantID, Key: key})
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
	n, err := s.q.PruneIdempotency(ctx, db.PruneIdempotencyParams{Before: bound(before), Lim: int32(min(limit, math.MaxInt32))})
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
		CreatedAt:   r.CreatedAt.UTC(),
		ExpiresAt:   r.ExpiresAt.UTC(),
	}
}
