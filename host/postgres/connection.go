package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
	"crmhost.dev/sdk"
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
	objs, err := host.EncodeObjects(c.Objects)
	if err != nil {
		return host.Connection{}, err
	}
	var objsAt *time.Time
	if objs != nil {
		objsAt = truncPtr(c.ObjectsAt)
	}
	row, err := s.q.PutConnection(ctx, db.PutConnectionParams{
		TenantID:     c.TenantID,
		Provider:     c.Provider,
		Status:       string(c.Status),
		StatusReason: c.StatusReason,
		Config:       raw,
		AccountID:    c.AccountID,
		Objects:      objs,
		ObjectsAt:    objsAt,
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

// SetConnectionAccount implements host.ConnectionStore.
func (s *Store) SetConnectionAccount(ctx context.Context, tenantID, accountID string) error {
	n, err := s.q.SetConnectionAccount(ctx, db.SetConnectionAccountParams{
		AccountID: accountID, UpdatedAt: s.stamp(zeroTime), TenantID: tenantID})
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

// SetConnectionObjects implements host.ConnectionStore.
func (s *Store) SetConnectionObjects(ctx context.Context, tenantID string, objects []sdk.ObjectInfo, at time.Time) error {
	objs, err := host.EncodeObjects(objects)
	if err != nil {
		return err
	}
	var stamp *time.Time
	if objs != nil {
		t := s.stamp(at)
		stamp = &t
	}
	n, err := s.q.SetConnectionObjects(ctx, db.SetConnectionObjectsParams{Objects: objs, ObjectsAt: stamp, TenantID: tenantID})
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

// ConnectionsByAccount implements host.ConnectionStore.
func (s *Store) ConnectionsByAccount(ctx context.Context, provider, accountID string) ([]host.Connection, error) {
	if provider == "" || accountID == "" {
		return nil, host.Errorf(host.CodeInvalid, "a provider and an account id are required")
	}
	rows, err := s.q.ConnectionsByAccount(ctx, db.ConnectionsByAccountParams{Provider: provider, AccountID: accountID})
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.Connection, 0, len(rows))
	for _, r := range rows {
		c, err := connectionFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
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
	objs, err := host.DecodeObjects(r.Objects, r.Objects != nil)
	if err != nil {
		return host.Connection{}, fmt.Errorf("postgres: connection %s: %w", r.TenantID, err)
	}
	return host.Connection{
		TenantID:     r.TenantID,
		Provider:     r.Provider,
		Status:       host.ConnectionStatus(r.Status),
		StatusReason: r.StatusReason,
		Config:       cfg,
		AccountID:    r.AccountID,
		Objects:      objs,
		ObjectsAt:    utcPtr(r.ObjectsAt),
		CreatedAt:    r.CreatedAt.UTC(),
		UpdatedAt:    r.UpdatedAt.UTC(),
	}, nil
}
