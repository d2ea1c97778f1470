package host

import (
	"context"
	"time"
)

// APIKey is a public API consumer's key. Only a hash of the secret part is
// stored; Prefix is the public part used to find the row.
type APIKey struct {
	ID       string
	TenantID string
	// Prefix is the key's public lookup part, unique across all tenants.
	Prefix string
	// Hash is the hash of the secret part (never the secret itself).
	Hash       []byte
	Scopes     []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Validate returns a CodeInvalid error when k cannot be stored.
func (k APIKey) Validate() error {
	switch {
	case k.TenantID == "":
		return invalid("tenant_id", "is required")
	case k.Prefix == "":
		return invalid("prefix", "is required")
	case len(k.Hash) == 0:
		return invalid("hash", "is required")
	}
	return nil
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// CreateAPIKey stores k and returns it as stored. An empty ID is
	// generated (NewID(APIKeyIDPrefix)), a zero CreatedAt set to now;
	// LastUsedAt and RevokedAt are stored as given.
	// Errors: CodeInvalid, CodeConflict when the ID or prefix is taken,
	// CodeNotFound when the tenant does not exist.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// GetAPIKeyByPrefix returns the key with prefix, revoked or not: the
	// caller checks RevokedAt and the hash. Errors: CodeNotFound.
	GetAPIKeyByPrefix(ctx context.Context, prefix string) (APIKey, error)
	// ListAPIKeys returns the tenant's keys, oldest first (ties by ID).
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	// RevokeAPIKey marks the tenant's key id revoked at `at`. Revoking a
	// revoked key keeps the first time and is not an error.
	// Errors: CodeNotFound when the tenant has no key id.
	RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error
	// TouchAPIKey records a use of key id at `at`; LastUsedAt never moves
	// backwards. Errors: CodeNotFound.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}
