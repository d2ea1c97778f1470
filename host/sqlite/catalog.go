package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// RegisterDriver implements host.DriverCatalog.
func (s *Store) RegisterDriver(ctx context.Context, e host.DriverEntry) (host.DriverEntry, error) {
	if err := e.Validate(); err != nil {
		return host.DriverEntry{}, err
	}
	pv, err := marshalJSON(e.ProtocolVersions, []int{})
	if err != nil {
		return host.DriverEntry{}, err
	}
	row, err := s.wq.RegisterDriver(ctx, db.RegisterDriverParams{
		Slug:             e.Slug,
		Version:          e.Version,
		Command:          e.Command,
		Sha256:           e.SHA256,
		ProtocolVersions: pv,
		RegisteredAt:     toMicros(s.stamp(e.RegisteredAt)),
	})
	if err != nil {
		return host.DriverEntry{}, mapErr(err, "", "", "")
	}
	return driverFromRow(row)
}

// GetDriver implements host.DriverCatalog.
func (s *Store) GetDriver(ctx context.Context, slug string) (host.DriverEntry, error) {
	row, err := s.rq.GetDriver(ctx, slug)
	if err != nil {
		return host.DriverEntry{}, mapErr(err, "", "driver "+quote(slug)+" not found", "")
	}
	return driverFromRow(row)
}

// ListDrivers implements host.DriverCatalog.
func (s *Store) ListDrivers(ctx context.Context) ([]host.DriverEntry, error) {
	rows, err := s.rq.ListDrivers(ctx)
	if err != nil {
		return nil, mapErr(err, "", "", "")
	}
	out := make([]host.DriverEntry, len(rows))
	for i, r := range rows {
		if out[i], err = driverFromRow(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RemoveDriver implements host.DriverCatalog.
func (s *Store) RemoveDriver(ctx context.Context, slug string) error {
	n, err := s.wq.RemoveDriver(ctx, slug)
	return notFoundIfNone(n, err, "driver %q not found", slug)
}

func driverFromRow(r db.DriverCatalog) (host.DriverEntry, error) {
	e := host.DriverEntry{
		Slug:         r.Slug,
		Version:      r.Version,
		Command:      r.Command,
		SHA256:       r.Sha256,
		RegisteredAt: fromMicros(r.RegisteredAt),
	}
	if err := json.Unmarshal([]byte(r.ProtocolVersions), &e.ProtocolVersions); err != nil {
		return host.DriverEntry{}, fmt.Errorf("sqlite: driver %s: protocol_versions: %w", r.Slug, err)
	}
	if len(e.ProtocolVersions) == 0 {
		e.ProtocolVersions = nil
	}
	return e, nil
}

// marshalJSON encodes v as JSON text, using empty for a nil slice.
func marshalJSON[T any](v []T, empty []T) (string, error) {
	if v == nil {
		v = empty
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	return string(b), nil
}
