package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
	"crmhost.dev/sdk"
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
	objs, err := host.EncodeObjects(c.Objects)
	if err != nil {
		return host.Connection{}, err
	}
	row, err := s.wq.PutConnection(ctx, db.PutConnectionParams{
		TenantID:     c.TenantID,
		Provider:     c.Provider,
		Status:       string(c.Status),
		StatusReason: c.StatusReason,
		Config:       cfg,
		AccountID:    c.AccountID,
		Objects:      sql.NullString{String: string(objs), Valid: objs != nil},
		ObjectsAt:    toNullMicros(objectsAt(c)),
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

// SetConnectionAccount implements host.ConnectionStore.
func (s *Store) SetConnectionAccount(ctx context.Context, tenantID, accountID string) error {
	n, err := s.wq.SetConnectionAccount(ctx, db.SetConnectionAccountParams{
		AccountID: accountID, UpdatedAt: toMicros(s.stamp(zeroTime)), TenantID: tenantID})
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

// SetConnectionObjects implements host.ConnectionStore.
func (s *Store) SetConnectionObjects(ctx context.Context, tenantID string, objects []sdk.ObjectInfo, at time.Time) error {
	objs, err := host.EncodeObjects(objects)
	if err != nil {
		return err
	}
	stamp := s.stamp(at)
	n, err := s.wq.SetConnectionObjects(ctx, db.SetConnectionObjectsParams{
		Objects:   sql.NullString{String: string(objs), Valid: objs != nil},
		ObjectsAt: toNullMicros(stampIf(objs != nil, stamp)),
		TenantID:  tenantID})
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

// ConnectionsByAccount implements host.ConnectionStore.
func (s *Store) ConnectionsByAccount(ctx context.Context, provider, accountID string) ([]host.Connection, error) {
	if provider == "" || accountID == "" {
		return nil, host.Errorf(host.CodeInvalid, "a provider and an account id are required")
	}
	rows, err := s.rq.ConnectionsByAccount(ctx, db.ConnectionsByAccountParams{Provider: provider, AccountID: accountID})
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
	n, err := s.wq.DeleteConnection(ctx, tenantID)
	return notFoundIfNone(n, err, "connection of tenant %q not found", tenantID)
}

func connectionFromRow(r db.Connection) (host.Connection, error) {
	cfg := map[string]string{}
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return host.Connection{}, fmt.Errorf("sqlite: connection %s: config: %w", r.TenantID, err)
	}
	objs, err := host.DecodeObjects([]byte(r.Objects.String), r.Objects.Valid)
	if err != nil {
		return host.Connection{}, fmt.Errorf("sqlite: connection %s: %w", r.TenantID, err)
	}
	return host.Connection{
		TenantID:     r.TenantID,
		Provider:     r.Provider,
		Status:       host.ConnectionStatus(r.Status),
		StatusReason: r.StatusReason,
		Config:       cfg,
		AccountID:    r.AccountID,
		Objects:      objs,
		ObjectsAt:    fromNullMicros(r.ObjectsAt),
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

// objectsAt is when c's objects were listed: nil without objects.
func objectsAt(c host.Connection) *time.Time {
	if c.Objects == nil {
		return nil
	}
	return c.ObjectsAt
}

func stampIf(ok bool, t time.Time) *time.Time {
	if !ok {
		return nil
	}
	return &t
}
