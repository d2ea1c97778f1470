package postgres

import (
	"context"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
)

// CreateAPIKey implements host.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k host.APIKey) (host.APIKey, error) {
	if err := k.Validate(); err != nil {
		return host.APIKey{}, err
	}
	if k.ID == "" {
		k.ID = host.NewID(host.APIKeyIDPrefix)
	}
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	row, err := s.q.CreateAPIKey(ctx, db.CreateAPIKeyParams{
		ID:         k.ID,
		TenantID:   k.TenantID,
		Prefix:     k.Prefix,
		Hash:       k.Hash,
		Scopes:     scopes,
		CreatedAt:  s.stamp(k.CreatedAt),
		LastUsedAt: truncPtr(k.LastUsedAt),
		RevokedAt:  truncPtr(k.RevokedAt),
	})
	if err != nil {
		return host.APIKey{}, mapErr(err, k.TenantID, "", "API key id or prefix "+quote(k.Prefix)+" already exists")
	}
	return apiKeyFromRow(row), nil
}

// GetAPIKeyByPrefix implements host.APIKeyStore.
func (s *Store) GetAPIKeyByPrefix(ctx context.Context, prefix string) (host.APIKey, error) {
	row, err := s.q.GetAPIKeyByPrefix(ctx, prefix)
	if err != nil {
		return host.APIKey{}, mapErr(err, "", "API key "+quote(prefix)+" not found", "")
	}
	return apiKeyFromRow(row), nil
}

// ListAPIKeys implements host.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]host.APIKey, error) {
	rows, err := s.q.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	out := make([]host.APIKey, len(rows))
	for i, r := range rows {
		out[i] = apiKeyFromRow(r)
	}
	return out, nil
}

// RevokeAPIKey implements host.APIKeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error {
	n, err := s.q.RevokeAPIKey(ctx, db.RevokeAPIKeyParams{At: s.stamp(at), TenantID: tenantID, ID: id})
	return notFoundIfNone(n, err, "API key %q of tenant %q not found", id, tenantID)
}

// TouchAPIKey implements host.APIKeyStore.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	n, err := s.q.TouchAPIKey(ctx, db.TouchAPIKeyParams{At: s.stamp(at), ID: id})
	return notFoundIfNone(n, err, "API key %q not found", id)
}

func apiKeyFromRow(r db.ApiKey) host.APIKey {
	return host.APIKey{
		ID:         r.ID,
		TenantID:   r.TenantID,
		Prefix:     r.Prefix,
		Hash:       r.Hash,
		Scopes:     nonEmpty(r.Scopes),
		CreatedAt:  r.CreatedAt.UTC(),
		LastUsedAt: utcPtr(r.LastUsedAt),
		RevokedAt:  utcPtr(r.RevokedAt),
	}
}
