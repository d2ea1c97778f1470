package host

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
)

// Store is everything crmhost keeps durable. host/sqlite (the embedded
// default) and host/postgres implement it, and both pass the storetest
// conformance suite, so callers never depend on which one they hold.
//
// Errors: a missing row is a *Error with CodeNotFound wrapping ErrNotFound;
// a unique violation (or an optimistic-concurrency mismatch) is CodeConflict
// wrapping ErrConflict; bad input is CodeInvalid naming the field; anything
// else (I/O, a closed store) is a plain error, CodeInternal to CodeOf.
// Every time a store returns is UTC, truncated to the microsecond.
type Store interface {
	TenantStore
	ConnectionStore
	CredentialStore
	AppCredentialStore
	MappingStore
	AuditStore
	DriverCatalog
	IdempotencyStore
	APIKeyStore
	LeadStore
	MirrorStore
	IncidentStore
	ErasureStore
	OAuthStore
	OperatorStore
	ReplicaStore
	OutboundStore

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections; it is safe to call once.
	Close() error
}

// DefaultListLimit is the page size list methods use when given a limit
// of zero or less; MaxListLimit caps larger ones.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// ListLimit returns limit clamped to (0, MaxListLimit], DefaultListLimit
// when it is zero or negative. Stores use it for every paged list.
func ListLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultListLimit
	case limit > MaxListLimit:
		return MaxListLimit
	}
	return limit
}

// ID prefixes, one per kind of row with a generated id.
const (
	TenantIDPrefix   = "ten_"
	APIKeyIDPrefix   = "key_"
	OperatorIDPrefix = "op_"
)

// NewID returns prefix followed by 128 bits from crypto/rand in lower-case
// base32 (26 characters), e.g. "ten_k3x...".
func NewID(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}

// invalid returns a CodeInvalid error naming field.
func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}
