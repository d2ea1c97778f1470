package host

import (
	"context"
	"time"
)

// Credential is a tenant's current secret, sealed by host/secrets: the
// payload encrypted under a per-row DEK, the DEK wrapped by the KEK named
// KEKID. The store never sees plaintext.
type Credential struct {
	TenantID string
	// Version starts at 1 and increments on every PutCredential; it is the
	// optimistic-concurrency token (a token refresh that lost a race must
	// not overwrite the winner's newer token).
	Version    int
	Ciphertext []byte
	WrappedDEK []byte
	KEKID      string
	// ExpiresAt is when the secret (e.g. an OAuth access token) expires;
	// nil when it does not.
	ExpiresAt *time.Time
	// RotatedAt is when the DEK was last re-wrapped under a new KEK; nil
	// when never.
	RotatedAt *time.Time
	// CreatedAt is when this version was stored.
	CreatedAt time.Time
	// RefreshingSince is set while this version's refresh token is out at
	// the provider (see OAuthStore.MarkRefreshing); nil otherwise.
	RefreshingSince *time.Time
}

// Validate returns a CodeInvalid error when c cannot be stored.
func (c Credential) Validate() error {
	switch {
	case c.TenantID == "":
		return invalid("tenant_id", "is required")
	case len(c.Ciphertext) == 0:
		return invalid("ciphertext", "is required")
	case len(c.WrappedDEK) == 0:
		return invalid("wrapped_dek", "is required")
	case c.KEKID == "":
		return invalid("kek_id", "is required")
	}
	return nil
}

// CredentialStore keeps each tenant's current credential.
type CredentialStore interface {
	// PutCredential stores c as the tenant's credential with version
	// expectVersion+1 and returns it as stored (c.Version is ignored).
	// expectVersion 0 creates: CodeConflict if the tenant already has a
	// credential. expectVersion n > 0 replaces version n: CodeConflict if
	// the stored version is not n (or there is none). A zero CreatedAt is
	// set to now.
	// Errors: CodeInvalid, CodeConflict, CodeNotFound when the tenant does
	// not exist.
	PutCredential(ctx context.Context, c Credential, expectVersion int) (Credential, error)
	// GetCredential returns the tenant's credential. Errors: CodeNotFound.
	GetCredential(ctx context.Context, tenantID string) (Credential, error)
	// ListCredentials returns up to limit credentials (ListLimit applies)
	// with tenant IDs greater than after, in tenant ID order: pass the last
	// TenantID of a page to get the next. Key rotation walks it in batches.
	ListCredentials(ctx context.Context, after string, limit int) ([]Credential, error)
	// RewrapCredential replaces only the wrapped DEK and KEK id of version
	// `version` of the tenant's credential and sets RotatedAt; the version
	// does not change (the ciphertext is the same).
	// Errors: CodeInvalid, CodeNotFound when the tenant has no credential,
	// CodeConflict when its version is not `version`.
	RewrapCredential(ctx context.Context, tenantID string, version int, wrappedDEK []byte, kekID string, rotatedAt time.Time) error
	// DeleteCredential removes the tenant's credential. Errors: CodeNotFound.
	DeleteCredential(ctx context.Context, tenantID string) error
}
