package postgres

import (
	"context"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
)

// RegisterDriver implements host.DriverCatalog.
func (s *Store) RegisterDriver(ctx context.Context, e host.DriverEntry) (host.DriverEntry, error) {
	if err := e.Validate(); err != nil {
		return host.DriverEntry{}, err
	}
	pv := make([]int32, len(e.ProtocolVersions))
	for i, v := range e.ProtocolVersions {
		pv[i] = int32(v)
	}
	row, err := s.q.RegisterDriver(ctx, db.RegisterDriverParams{
		Slug:             e.Slug,
		Version:          e.Version,
		Command:          e.Command,
		Sha256:           e.SHA256,
		ProtocolVersions: pv,
		RegisteredAt:     s.stamp(e.RegisteredAt),
	})
	if err != nil {
		return host.DriverEntry{}, mapErr(err, "", "", "")
	}
	return driverFromRow(row), nil
}

// GetDriver implements host.DriverCatalog.
func (s *Store) GetDriver(ctx context.Context, slug string) (host.DriverEntry, error) {
	row, err := s.q.GetDriver(ctx, slug)
	if err != nil {
		return host.DriverEntry{}, mapErr(err, "", "driver "+quote(slug)+" not found", "")
	}
	return driverFromRow(row), nil
}

// ListDrivers implements host.DriverCatalog.
func (s *Store) ListDrivers(ctx context.Context) ([]host.DriverEntry, error) {
	rows, err := s.q.ListDrivers(ctx)
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.DriverEntry, len(rows))
	for i, r := range rows {
		out[i] = driverFromRow(r)
	}
	return out, nil
}

// RemoveDriver implements host.DriverCatalog.
func (s *Store) RemoveDriver(ctx context.Context, slug string) error {
	n, err := s.q.RemoveDriver(ctx, slug)
	return notFoundIfNone(n, err, "driver %q not found", slug)
}

func driverFromRow(r db.DriverCatalog) host.DriverEntry {
	var pv []int
	for _, v := range r.ProtocolVersions {
		pv = append(pv, int(v))
	}
	return host.DriverEntry{
		Slug:             r.Slug,
		Version:          r.Version,
		Command:          r.Command,
		SHA256:           r.Sha256,
		ProtocolVersions: pv,
		RegisteredAt:     r.RegisteredAt.UTC(),
	}
}
