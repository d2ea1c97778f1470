package postgres

import (
	"context"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
)

// CreateTenant implements host.TenantStore.
func (s *Store) CreateTenant(ctx context.Context, t host.Tenant) (host.Tenant, error) {
	if err := t.Validate(); err != nil {
		return host.Tenant{}, err
	}
	if t.ID == "" {
		t.ID = host.NewID(host.TenantIDPrefix)
	}
	t.CreatedAt = s.stamp(t.CreatedAt)
	err := s.q.CreateTenant(ctx, db.CreateTenantParams{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt})
	if err != nil {
		return host.Tenant{}, mapErr(err, t.ID, "", "tenant "+quote(t.ID)+" already exists")
	}
	return t, nil
}

// GetTenant implements host.TenantStore.
func (s *Store) GetTenant(ctx context.Context, id string) (host.Tenant, error) {
	row, err := s.q.GetTenant(ctx, id)
	if err != nil {
		return host.Tenant{}, mapErr(err, id, "tenant "+quote(id)+" not found", "")
	}
	return tenantFromRow(row), nil
}

// ListTenants implements host.TenantStore.
func (s *Store) ListTenants(ctx context.Context) ([]host.Tenant, error) {
	rows, err := s.q.ListTenants(ctx)
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.Tenant, len(rows))
	for i, r := range rows {
		out[i] = tenantFromRow(r)
	}
	return out, nil
}

// ListTenantsPage implements host.TenantStore.
func (s *Store) ListTenantsPage(ctx context.Context, f host.TenantPage) ([]host.Tenant, error) {
	p := db.ListTenantsPageParams{AfterCreatedAt: time.Time{}, Lim: int32(host.ListLimit(f.Limit))}
	if f.After != nil {
		p.AfterCreatedAt, p.AfterID = f.After.CreatedAt.UTC(), f.After.ID
	}
	rows, err := s.q.ListTenantsPage(ctx, p)
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.Tenant, len(rows))
	for i, r := range rows {
		out[i] = tenantFromRow(r)
	}
	return out, nil
}

// DeleteTenant implements host.TenantStore.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	n, err := s.q.DeleteTenant(ctx, id)
	return notFoundIfNone(n, err, "tenant %q not found", id)
}

func tenantFromRow(r db.Tenant) host.Tenant {
	return host.Tenant{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
}
