package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
)

// PutConnection implements host.ConnectionStore.
func (s *Store) PutConnection(ctx context.Context, c host.Connection) (host.Connection, error) {
	if err := c.Validate(); err != nil {
		return host.Connection{}, err
	}
	cfg := c.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return host.Connection{}, fmt.Errorf("postgres: config: %w", err)
	}
	updated := s.stamp(c.UpdatedAt)
	created := updated
	if !c.CreatedAt.IsZero() {
		created = s.stamp(c.CreatedAt)
	}
	row, err := s.q.PutConnection(ctx, db.PutConnectionParams{
		TenantID:     c.TenantID,
		Provider:     c.Provider,
		Status:       string(c.Status),
		StatusReason: c.StatusReason,
		Config:       raw,
		CreatedAt:    created,
		UpdatedAt:    updated,
	})
	if err != nil {
		return host.Connection{}, mapErr(err, c.TenantID, "", "")
	}
	return connectionFromRow(row)
}

// GetConnection implements host.ConnectionStore.
func (s *Store) GetConnection(ctx context.Context, tenantID string) (host.Connection, error) {
	row, err := s.q.GetConnection(ctx, tenantID)
	if err != nil {
		return host.Connection{}, mapErr(err, tenantID, "connection of tenant "+quote(tenantID)+" not found", "")
	}
	return connectionFromRow(row)
}

// SetConnectionStatus implements host.ConnectionStore.
func (s *Store) SetConnectionStatus(ctx context.Context, tenantID string, status host.ConnectionStatus, reason string) error {
	if !status.Valid() {
		return host.Errorf(host.CodeInvalid, "%q is not a connection status", status)
	}
	n, err := s.q.SetConnectionStatus(ctx, db.SetConnectionStatusParams{
		Status:       string(status),
		StatusReason: reason,
		UpdatedAt:    s.stamp(zeroTime),
		TenantID:     tenantID,
	})
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

// DeleteConnection implements host.ConnectionStore.
func (s *Store) DeleteConnection(ctx context.Context, tenantID string) error {
	n, err := s.q.DeleteConnection(ctx, tenantID)
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

func connectionFromRow(r db.Connection) (host.Connection, error) {
	cfg := map[string]string{}
	if err := json.Unmarshal(r.Config, &cfg); err != nil {
		return host.Connection{}, fmt.Errorf("postgres: connection %s: config: %w", r.TenantID, err)
	}
	return host.Connection{
		TenantID:     r.TenantID,
		Provider:     r.Provider,
		Status:       host.ConnectionStatus(r.Status),
		StatusReason: r.StatusReason,
		Config:       cfg,
		CreatedAt:    r.CreatedAt.UTC(),
		UpdatedAt:    r.UpdatedAt.UTC(),
	}, nil
}
