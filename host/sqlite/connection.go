package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// PutConnection implements host.ConnectionStore.
func (s *Store) PutConnection(ctx context.Context, c host.Connection) (host.Connection, error) {
	if err := c.Validate(); err != nil {
		return host.Connection{}, err
	}
	cfg, err := marshalConfig(c.Config)
	if err != nil {
		return host.Connection{}, err
	}
	updated := s.stamp(c.UpdatedAt)
	created := updated
	if !c.CreatedAt.IsZero() {
		created = s.stamp(c.CreatedAt)
	}
	row, err := s.wq.PutConnection(ctx, db.PutConnectionParams{
		TenantID:     c.TenantID,
		Provider:     c.Provider,
		Status:       string(c.Status),
		StatusReason: c.StatusReason,
		Config:       cfg,
		CreatedAt:    toMicros(created),
		UpdatedAt:    toMicros(updated),
	})
	if err != nil {
		return host.Connection{}, mapErr(err, c.TenantID, "", "")
	}
	return connectionFromRow(row)
}

// GetConnection implements host.ConnectionStore.
func (s *Store) GetConnection(ctx context.Context, tenantID string) (host.Connection, error) {
	row, err := s.rq.GetConnection(ctx, tenantID)
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
	n, err := s.wq.SetConnectionStatus(ctx, db.SetConnectionStatusParams{
		Status:       string(status),
		StatusReason: reason,
		UpdatedAt:    toMicros(s.stamp(zeroTime)),
		TenantID:     tenantID,
	})
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

// DeleteConnection implements host.ConnectionStore.
func (s *Store) DeleteConnection(ctx context.Context, tenantID string) error {
	n, err := s.wq.DeleteConnection(ctx, tenantID)
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

func connectionFromRow(r db.Connection) (host.Connection, error) {
	cfg := map[string]string{}
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return host.Connection{}, fmt.Errorf("sqlite: connection %s: config: %w", r.TenantID, err)
	}
	return host.Connection{
		TenantID:     r.TenantID,
		Provider:     r.Provider,
		Status:       host.ConnectionStatus(r.Status),
		StatusReason: r.StatusReason,
		Config:       cfg,
		CreatedAt:    fromMicros(r.CreatedAt),
		UpdatedAt:    fromMicros(r.UpdatedAt),
	}, nil
}

func marshalConfig(cfg map[string]string) (string, error) {
	if cfg == nil {
		cfg = map[string]string{}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("sqlite: config: %w", err)
	}
	return string(b), nil
}
