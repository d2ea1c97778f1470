package host

import (
	"context"
	"time"
)

// OAuthState is one authorization-code flow in progress: created when an
// operator starts connecting a tenant through the provider's sign-in,
// consumed (once) by the provider's callback. Only a hash of the state
// token is stored; the token itself travels in the browser.
type OAuthState struct {
	// StateHash is the hex SHA-256 of the state token.
	StateHash string
	TenantID  string
	Provider  string
	// ActorID is the operator who started the flow (audited as them).
	ActorID string
	// Config is the connection's non-secret config the flow connects with.
	Config map[string]string
	// CodeVerifier is the PKCE verifier ("" without PKCE).
	CodeVerifier string
	RedirectURI  string
	// ReturnTo is where the callback page sends the operator back to
	// ("" for none).
	ReturnTo  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Validate returns a CodeInvalid error when s cannot be stored.
func (s OAuthState) Validate() error {
	switch {
	case s.StateHash == "":
		return invalid("state_hash", "is required")
	case s.TenantID == "":
		return invalid("tenant_id", "is required")
	case s.Provider == "":
		return invalid("provider", "is required")
	case s.RedirectURI == "":
		return invalid("redirect_uri", "is required")
	case s.ExpiresAt.IsZero():
		return invalid("expires_at", "is required")
	}
	return nil
}

// OAuthStore keeps connect-flow states and the refresh journal.
type OAuthStore interface {
	// CreateOAuthState stores s (a zero CreatedAt is set to now).
	// Errors: CodeInvalid, CodeConflict for a state hash already stored,
	// CodeNotFound when the tenant does not exist.
	CreateOAuthState(ctx context.Context, s OAuthState) error
	// TakeOAuthState removes and returns the state with hash, expired or
	// not: of any number of concurrent takes exactly one gets it, so a
	// state is used at most once. Errors: CodeNotFound.
	TakeOAuthState(ctx context.Context, stateHash string) (OAuthState, error)
	// PruneOAuthStates removes states that expired before `before`.
	PruneOAuthStates(ctx context.Context, before time.Time) (int64, error)
	// MarkRefreshing records on version `version` of the tenant's
	// credential that its refresh token is being sent to the provider
	// (zero at clears the mark). Storing the next version clears it too.
	// A mark left behind by a process that died mid-refresh tells the next
	// refresher that the token may be spent. Errors: CodeNotFound,
	// CodeConflict when the version is not `version`.
	MarkRefreshing(ctx context.Context, tenantID string, version int, at time.Time) error
	// LockRefresh takes the tenant's refresh lock, shared by every process
	// using the store (PostgreSQL: an advisory lock; SQLite, which serves
	// one process: an in-process lock), waiting while another holds it.
	// The returned func releases it. Errors: the context's.
	LockRefresh(ctx context.Context, tenantID string) (unlock func(), err error)
}
