package host

import (
	"context"
	"time"
)

// Tenant is one customer of the host: the owner of a connection, its
// credential, mappings, API keys and idempotency records.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Validate returns a CodeInvalid error when t cannot be stored.
func (t Tenant) Validate() error {
	if t.Name == "" {
		return invalid("name", "is required")
	}
	return nil
}

// TenantStore keeps tenants.
type TenantStore interface {
	// CreateTenant stores t and returns it as stored. An empty ID is
	// generated (NewID(TenantIDPrefix)) and a zero CreatedAt set to now.
	// Errors: CodeInvalid for an empty name, CodeConflict when the ID
	// is taken.
	CreateTenant(ctx context.Context, t Tenant) (Tenant, error)
	// GetTenant returns the tenant with id, CodeNotFound if there is none.
	GetTenant(ctx context.Context, id string) (Tenant, error)
	// ListTenants returns every tenant, oldest first (ties by ID).
	ListTenants(ctx context.Context) ([]Tenant, error)
	// DeleteTenant removes the tenant and, by cascade, its connection,
	// credential, field mappings, API keys and idempotency records. Audit
	// entries are kept: the log outlives what it describes.
	// Errors: CodeNotFound.
	DeleteTenant(ctx context.Context, id string) error
}
