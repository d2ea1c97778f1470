package host

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Tenant is one customer of the host: the owner of a connection, its
// credential, mappings, API keys and idempotency records.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// MaxTenantName bounds a tenant's name, in bytes.
const MaxTenantName = 200

// Validate returns a CodeInvalid error naming "name" when t cannot be
// stored: a name that is empty or only spaces, longer than MaxTenantName,
// or holding control characters or invalid UTF-8.
func (t Tenant) Validate() error {
	switch {
	case strings.TrimSpace(t.Name) == "":
		return invalid("name", "is required and must not be blank")
	case len(t.Name) > MaxTenantName:
		return invalid("name", "is %d bytes long; at most %d are allowed", len(t.Name), MaxTenantName)
	case !utf8.ValidString(t.Name) || strings.IndexFunc(t.Name, unicode.IsControl) >= 0:
		return invalid("name", "must be UTF-8 text without control characters")
	}
	return nil
}

// TenantStore keeps tenants.
type TenantStore interface {
	// CreateTenant stores t and returns it as stored. An empty ID is
	// generated (NewID(TenantIDPrefix)) and a zero CreatedAt set to now.
	// Errors: CodeInvalid for a name Validate refuses, CodeConflict when
	// the ID is taken.
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
