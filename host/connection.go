package host

import (
	"context"
	"time"
)

// ConnectionStatus is the state of a tenant's connection to its CRM.
type ConnectionStatus string

// Connection statuses.
const (
	// ConnectionPending: created, credentials not yet proven.
	ConnectionPending ConnectionStatus = "pending"
	// ConnectionActive: TestConnection succeeded; calls are served.
	ConnectionActive ConnectionStatus = "active"
	// ConnectionFailed: the last test or call failed for a non-auth reason.
	ConnectionFailed ConnectionStatus = "failed"
	// ConnectionNeedsReauth: the provider rejected the credential and a
	// refresh did not help; an operator must reconnect.
	ConnectionNeedsReauth ConnectionStatus = "needs_reauth"
)

// Valid reports whether s is one of the connection statuses.
func (s ConnectionStatus) Valid() bool {
	switch s {
	case ConnectionPending, ConnectionActive, ConnectionFailed, ConnectionNeedsReauth:
		return true
	}
	return false
}

// Connection is a tenant's link to its CRM: which driver serves it and the
// non-secret configuration the driver needs (instance URL, data centre...).
// A tenant has at most one. The secret half lives in Credential.
type Connection struct {
	TenantID string
	// Provider is the driver slug ("acme").
	Provider     string
	Status       ConnectionStatus
	StatusReason string
	// Config is non-secret; never put a credential here.
	Config    map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate returns a CodeInvalid error when c cannot be stored.
func (c Connection) Validate() error {
	switch {
	case c.TenantID == "":
		return invalid("tenant_id", "is required")
	case c.Provider == "":
		return invalid("provider", "is required")
	case !c.Status.Valid():
		return invalid("status", "%q is not a connection status", c.Status)
	}
	return nil
}

// ConnectionStore keeps each tenant's single connection.
type ConnectionStore interface {
	// PutConnection creates or replaces the tenant's connection and returns
	// it as stored. On create CreatedAt is kept if set, else now; on
	// replace the stored CreatedAt is kept. UpdatedAt is set to now unless
	// given. A nil Config is stored as empty.
	// Errors: CodeInvalid, CodeNotFound when the tenant does not exist.
	PutConnection(ctx context.Context, c Connection) (Connection, error)
	// GetConnection returns the tenant's connection.
	// Errors: CodeNotFound when the tenant has none.
	GetConnection(ctx context.Context, tenantID string) (Connection, error)
	// SetConnectionStatus changes only the status, its reason and UpdatedAt.
	// Errors: CodeInvalid for an unknown status, CodeNotFound.
	SetConnectionStatus(ctx context.Context, tenantID string, status ConnectionStatus, reason string) error
	// DeleteConnection removes the tenant's connection (its credential is
	// separate: see DeleteCredential). Errors: CodeNotFound.
	DeleteConnection(ctx context.Context, tenantID string) error
}
