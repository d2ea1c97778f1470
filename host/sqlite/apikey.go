package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// CreateAPIKey implements host.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k host.APIKey) (host.APIKey, error) {
	if err := k.Validate(); err != nil {
		return host.APIKey{}, err
	}
	if k.ID == "" {
		k.ID = host.NewID(host.APIKeyIDPrefix)
	}
	scopes, err := marshalJSON(k.Scopes, []string{})
	if err != nil {
		return host.APIKey{}, err
	}
	row, err := s.wq.CreateAPIKey(ctx, db.CreateAPIKeyParams{
		ID:         k.ID,
		TenantID:   k.TenantID,
		Prefix:     k.Prefix,
		Hash:       k.Hash,
		Scopes:     scopes,
		CreatedAt:  toMicros(s.stamp(k.CreatedAt)),
		LastUsedAt: toNullMicros(truncPtr(k.LastUsedAt)),
		RevokedAt:  toNullMicros(truncPtr(k.RevokedAt)),
	})
	if err != nil {
		return host.APIKey{}, mapErr(err, k.TenantID, "", "API key id or prefix "+quote(k.Prefix)+" already exists")
	}
	return apiKeyFromRow(row)
}

// GetAPIKeyByPrefix implements host.APIKeyStore.
func (s *Store) GetAPIKeyByPrefix(ctx context.Context, prefix string) (host.APIKey, error) {
	row, err := s.rq.GetAPIKeyByPrefix(ctx, prefix)
	if err != nil {
		return host.APIKey{}, mapErr(err, "", "API key "+quote(prefix)+" not found", "")
	}
	return apiKeyFromRow(row)
}

// ListAPIKeys implements host.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]host.APIKey, error) {
	rows, err := s.rq.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	out := make([]host.APIKey, len(rows))
	for i, r := range rows {
		if out[i], err = apiKeyFromRow(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RevokeAPIKey implements host.APIKeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error {
	n, err := s.wq.RevokeAPIKey(ctx, db.RevokeAPIKeyParams{
		At:       sql.NullInt64{Int64: toMicros(s.stamp(at)), Valid: true},
		TenantID: tenantID,
		ID:       id,
	})
	return notFoundIfNone(n, err, "API key %q of tenant %q not found", id, tenantID)
}

// TouchAPIKey implements host.APIKeyStore.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	n, err := s.wq.TouchAPIKey(ctx, db.TouchAPIKeyParams{
		At: sql.NullInt64{Int64: toMicros(s.stamp(at)), Valid: true},
		ID: id,
	})
	return notFoundIfNone(n, err, "API key %q not found", id)
}

func apiKeyFromRow(r db.ApiKey) (host.APIKey, error) {
	k := host.APIKey{
		ID:         r.ID,
		TenantID:   r.TenantID,
		Prefix:     r.Prefix,
		Hash:       r.Hash,
		CreatedAt:  fromMicros(r.CreatedAt),
		LastUsedAt: fromNullMicros(r.LastUsedAt),
		RevokedAt:  fromNullMicros(r.RevokedAt),
	}
	if err := json.Unmarshal([]byte(r.Scopes), &k.Scopes); err != nil {
		return host.APIKey{}, fmt.Errorf("sqlite: API key %s: scopes: %w", r.ID, err)
	}
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	}
	return k, nil
}

// truncPtr returns t in stored precision, nil for nil.
func truncPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
