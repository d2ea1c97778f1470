package host

import (
	"context"
	"time"
)

// MappingKind says which direction or purpose a field mapping serves.
type MappingKind string

// Mapping kinds.
const (
	// MappingRead maps a provider field to a canonical key on the way out.
	MappingRead MappingKind = "read"
	// MappingWrite maps a canonical key to a provider field on the way in.
	MappingWrite MappingKind = "write"
	// MappingObject maps a canonical object ("lead") to a provider object.
	MappingObject MappingKind = "object"
	// MappingTrigger maps a canonical event to a provider trigger.
	MappingTrigger MappingKind = "trigger"
)

// Valid reports whether k is one of the mapping kinds.
func (k MappingKind) Valid() bool {
	switch k {
	case MappingRead, MappingWrite, MappingObject, MappingTrigger:
		return true
	}
	return false
}

// FieldMapping is one tenant override of a driver's default mapping.
type FieldMapping struct {
	TenantID string
	Kind     MappingKind
	// Key is canonical, e.g. "lead.budget_max".
	Key string
	// Target is the provider's field path, e.g. "properties.budget__c".
	Target    string
	UpdatedAt time.Time
}

// Validate returns a CodeInvalid error when m cannot be stored.
func (m FieldMapping) Validate() error {
	switch {
	case m.TenantID == "":
		return invalid("tenant_id", "is required")
	case !m.Kind.Valid():
		return invalid("kind", "%q is not a mapping kind", m.Kind)
	case m.Key == "":
		return invalid("key", "is required")
	case m.Target == "":
		return invalid("target", "is required")
	}
	return nil
}

// MappingStore keeps tenants' field mappings, unique by (tenant, kind, key).
type MappingStore interface {
	// SetMapping creates or replaces the mapping for (tenant, kind, key)
	// and returns it as stored; a zero UpdatedAt is set to now.
	// Errors: CodeInvalid, CodeNotFound when the tenant does not exist.
	SetMapping(ctx context.Context, m FieldMapping) (FieldMapping, error)
	// DeleteMapping removes one mapping. Errors: CodeNotFound.
	DeleteMapping(ctx context.Context, tenantID string, kind MappingKind, key string) error
	// ListMappings returns the tenant's mappings of kind (every kind when
	// kind is ""), ordered by kind then key. Errors: CodeInvalid for an
	// unknown kind.
	ListMappings(ctx context.Context, tenantID string, kind MappingKind) ([]FieldMapping, error)
}
