package host

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"crmhost.dev/sdk"
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
	Config map[string]string
	// AccountID is the provider account the connection belongs to (portal
	// id, org id, site id), learned at connect or from a credential
	// update; inbound webhooks are routed by it. Empty when unknown.
	AccountID string
	// Objects is the connection's own object list (the driver's
	// ListObjects answer) as of ObjectsAt; nil when the driver's objects do
	// not depend on the connection or were never listed.
	Objects   []sdk.ObjectInfo
	ObjectsAt *time.Time
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
	// SetConnectionAccount records the provider account id of the
	// tenant's connection (UpdatedAt now). Errors: CodeNotFound.
	SetConnectionAccount(ctx context.Context, tenantID, accountID string) error
	// SetConnectionObjects stores the connection's object list as of at
	// (nil clears it). Errors: CodeNotFound.
	SetConnectionObjects(ctx context.Context, tenantID string, objects []sdk.ObjectInfo, at time.Time) error
	// ConnectionsByAccount returns the connections to provider's account
	// accountID, ordered by tenant id (several tenants may share one
	// account); none is not an error. Errors: CodeInvalid for an empty
	// provider or account.
	ConnectionsByAccount(ctx context.Context, provider, accountID string) ([]Connection, error)
}

// EncodeObjects encodes a connection's object list for storage: nil stays
// nil (never listed), an empty list is "[]". Both stores use it.
func EncodeObjects(objs []sdk.ObjectInfo) ([]byte, error) {
	if objs == nil {
		return nil, nil
	}
	b, err := json.Marshal(objs)
	if err != nil {
		return nil, fmt.Errorf("objects: %w", err)
	}
	return b, nil
}

// DecodeObjects reads what EncodeObjects stored; valid false (SQL NULL)
// is nil.
func DecodeObjects(b []byte, valid bool) ([]sdk.ObjectInfo, error) {
	if !valid {
		return nil, nil
	}
	out := []sdk.ObjectInfo{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("objects: %w", err)
	}
	return out, nil
}
