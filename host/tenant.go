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
	// ListTenantsPage returns the page of tenants after f.After, oldest
	// first (ties by ID), at most f.Limit of them (ListLimit applies): a
	// keyset page on (created_at, id), as cheap at the thousandth page as
	// at the first. Pass the last tenant of a page (TenantCursor.Of) as
	// the next page's After.
	ListTenantsPage(ctx context.Context, f TenantPage) ([]Tenant, error)
	// DeleteTenant removes the tenant and, by cascade, its connection,
	// credential, field mappings, API keys and idempotency records. Audit
	// entries are kept: the log outlives what it describes.
	// Errors: CodeNotFound.
	DeleteTenant(ctx context.Context, id string) error
}

// TenantPage selects a page of ListTenantsPage.
type TenantPage struct {
	// After is the cursor: only tenants after it in (CreatedAt, ID)
	// order. Nil starts at the oldest.
	After *TenantCursor
	// Limit caps the page (ListLimit applies).
	Limit int
}

// TenantCursor is a position in the tenant list: the last tenant of a
// page.
type TenantCursor struct {
	CreatedAt time.Time
	ID        string
}

// CursorOf returns the cursor after t.
func CursorOf(t Tenant) *TenantCursor { return &TenantCursor{CreatedAt: t.CreatedAt, ID: t.ID} }
