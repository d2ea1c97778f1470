package host

import (
	"context"
	"time"
)

// ActorType says who performed an audited action.
type ActorType string

// Actor types.
const (
	ActorTool     ActorType = "tool"     // the AI agent calling a CRM tool
	ActorOperator ActorType = "operator" // a person on the operator routes/CLI
	ActorSystem   ActorType = "system"   // the host itself (refresh, rotation, jobs)
	ActorAPIKey   ActorType = "api_key"  // a public API consumer
)

// Valid reports whether a is one of the actor types.
func (a ActorType) Valid() bool {
	switch a {
	case ActorTool, ActorOperator, ActorSystem, ActorAPIKey:
		return true
	}
	return false
}

// Audit outcomes; others may be recorded.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// AuditEntry is one row of the append-only audit log. It must never hold a
// secret: Detail is for ids, error codes and counts.
type AuditEntry struct {
	// ID is assigned by the store, increasing with insertion order.
	ID int64
	At time.Time
	// TenantID is empty for host-wide actions.
	TenantID       string
	ActorType      ActorType
	ActorID        string
	Action         string // e.g. "credential.decrypt"
	RequestID      string
	ConversationID string
	Outcome        string
	Detail         string
}

// Validate returns a CodeInvalid error when e cannot be stored.
func (e AuditEntry) Validate() error {
	switch {
	case !e.ActorType.Valid():
		return invalid("actor_type", "%q is not an actor type", e.ActorType)
	case e.Action == "":
		return invalid("action", "is required")
	case e.Outcome == "":
		return invalid("outcome", "is required")
	}
	return nil
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	TenantID string
	Action   string
	// ActorID, Outcome, RequestID and ConversationID match exactly.
	ActorID        string
	Outcome        string
	RequestID      string
	ConversationID string
	// Since and Until bound At: Since <= At < Until.
	Since, Until time.Time
	// BeforeID is the paging cursor: only entries with ID < BeforeID. Pass
	// the last ID of a page to get the next one.
	BeforeID int64
	// Limit caps the page (ListLimit applies).
	Limit int
}

// AuditStore keeps the audit log. Entries are not removed with their
// tenant.
type AuditStore interface {
	// AppendAudit stores e and returns it with its ID (and At, when zero,
	// set to now). Errors: CodeInvalid.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AppendAudits stores entries in one transaction, in order: all or
	// none. Errors: as AppendAudit, for the first entry that fails.
	AppendAudits(ctx context.Context, entries []AuditEntry) error
	// ListAudit returns the entries matching f, newest (highest ID) first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// PruneAudit deletes at most limit entries whose At is before
	// `before`, oldest first, and returns how many it deleted: a caller
	// empties a backlog in bounded batches, calling again while a batch
	// comes back full (see PruneBatches). Errors: CodeInvalid when limit
	// is below 1.
	PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error)
}

// PruneBatches calls prune with limit until a batch deletes fewer than
// limit rows (or prune fails, or ctx ends), and returns the total
// deleted: each batch is one short write, so a big backlog never holds
// the database's locks (or SQLite's single writer) for long.
func PruneBatches(ctx context.Context, limit int, prune func(ctx context.Context, limit int) (int64, error)) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := prune(ctx, limit)
		total += n
		if err != nil || n < int64(limit) {
			return total, err
		}
	}
}

// ValidatePruneLimit returns a CodeInvalid error when limit cannot bound
// a prune batch.
func ValidatePruneLimit(limit int) error {
	if limit < 1 {
		return invalid("limit", "must be at least 1, got %d", limit)
	}
	return nil
}
