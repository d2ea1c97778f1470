package postgres

import (
	"context"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
)

// SetMapping implements host.MappingStore.
func (s *Store) SetMapping(ctx context.Context, m host.FieldMapping) (host.FieldMapping, error) {
	if err := m.Validate(); err != nil {
		return host.FieldMapping{}, err
	}
	row, err := s.q.SetMapping(ctx, db.SetMappingParams{
		TenantID:  m.TenantID,
		Kind:      string(m.Kind),
		Key:       m.Key,
		Target:    m.Target,
		UpdatedAt: s.stamp(m.UpdatedAt),
	})
	if err != nil {
		return host.FieldMapping{}, mapErr(err, m.TenantID, "", "")
	}
	return mappingFromRow(row), nil
}

// DeleteMapping implements host.MappingStore.
func (s *Store) DeleteMapping(ctx context.Context, tenantID string, kind host.MappingKind, key string) error {
	n, err := s.q.DeleteMapping(ctx, db.DeleteMappingParams{TenantID: tenantID, Kind: string(kind), Key: key})
	return notFoundIfNone(n, err, "%s mapping %q of tenant %q not found", kind, key, tenantID)
}

// ListMappings implements host.MappingStore.
func (s *Store) ListMappings(ctx context.Context, tenantID string, kind host.MappingKind) ([]host.FieldMapping, error) {
	var rows []db.FieldMapping
	var err error
	switch {
	case kind == "":
		rows, err = s.q.ListMappings(ctx, tenantID)
	case kind.Valid():
		rows, err = s.q.ListMappingsByKind(ctx, db.ListMappingsByKindParams{TenantID: tenantID, Kind: string(kind)})
	default:
		return nil, host.Errorf(host.CodeInvalid, "%q is not a mapping kind", kind)
	}
	if err != nil {
		return nil, mapErr(err, tenantID, "", "")
	}
	out := make([]host.FieldMapping, len(rows))
	for i, r := range rows {
		out[i] = mappingFromRow(r)
	}
	return out, nil
}

func mappingFromRow(r db.FieldMapping) host.FieldMapping {
	return host.FieldMapping{
		TenantID:  r.TenantID,
		Kind:      host.MappingKind(r.Kind),
		Key:       r.Key,
		Target:    r.Target,
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}
