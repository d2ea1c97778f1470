package host

import (
	"context"
	"time"
)

// AppCredential is the platform's sealed app credentials for one driver:
// the OAuth client id and secret, partner keys or webhook signing secrets
// the driver's Describe declares as AppCredentialFields. They are the same
// for every tenant of the driver, stored once by an operator, and sent to
// the driver with every call (never as part of a tenant's connection).
// Sealed like a tenant's Credential: the store never sees plaintext.
type AppCredential struct {
	// Slug is the driver's slug.
	Slug string
	// Version starts at 1 and increments on every PutAppCredential.
	Version    int
	Ciphertext []byte
	WrappedDEK []byte
	KEKID      string
	// RotatedAt is when the DEK was last re-wrapped; nil when never.
	RotatedAt *time.Time
	// CreatedAt is when this version was stored.
	CreatedAt time.Time
}

// Validate returns a CodeInvalid error when c cannot be stored.
func (c AppCredential) Validate() error {
	switch {
	case c.Slug == "":
		return invalid("slug", "is required")
	case len(c.Ciphertext) == 0:
		return invalid("ciphertext", "is required")
	case len(c.WrappedDEK) == 0:
		return invalid("wrapped_dek", "is required")
	case c.KEKID == "":
		return invalid("kek_id", "is required")
	}
	return nil
}

// AppCredentialStore keeps each driver's app credentials.
type AppCredentialStore interface {
	// PutAppCredential stores c as the driver's app credentials with
	// version expectVersion+1, like PutCredential: expectVersion 0
	// creates, n replaces version n. Errors: CodeInvalid, CodeConflict.
	PutAppCredential(ctx context.Context, c AppCredential, expectVersion int) (AppCredential, error)
	// GetAppCredential returns the driver's app credentials.
	// Errors: CodeNotFound.
	GetAppCredential(ctx context.Context, slug string) (AppCredential, error)
	// ListAppCredentials returns every driver's app credentials by slug.
	ListAppCredentials(ctx context.Context) ([]AppCredential, error)
	// RewrapAppCredential replaces the wrapped DEK and KEK id of version
	// `version` and sets RotatedAt. Errors: CodeInvalid, CodeNotFound,
	// CodeConflict when the version is not `version`.
	RewrapAppCredential(ctx context.Context, slug string, version int, wrappedDEK []byte, kekID string, rotatedAt time.Time) error
	// DeleteAppCredential removes the driver's app credentials.
	// Errors: CodeNotFound.
	DeleteAppCredential(ctx context.Context, slug string) error
}
