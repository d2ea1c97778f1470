package host

import (
	"context"
	"time"
	"unicode/utf8"
)

// LeadStatus is where a submitted lead stands on its way to the CRM.
type LeadStatus string

// Lead statuses. A lead starts pending; a background job moves it to
// written (the CRM has it) or failed (a permanent error, or retries
// exhausted; LastError says why). Nothing leaves pending any other way.
const (
	LeadPending LeadStatus = "pending"
	LeadWritten LeadStatus = "written"
	LeadFailed  LeadStatus = "failed"
)

// Valid reports whether s is one of the lead statuses.
func (s LeadStatus) Valid() bool {
	switch s {
	case LeadPending, LeadWritten, LeadFailed:
		return true
	}
	return false
}

// LeadIDPrefix starts every lead ID. The ID doubles as the idempotency key
// of the lead's create at the CRM, so a retried write never duplicates it.
const LeadIDPrefix = "lead_"

// Bounds on a lead's text columns.
const (
	// MaxLeadKey bounds Lead.IdempotencyKey, like sdk.MaxIdempotencyKey.
	MaxLeadKey = 255
	// MaxLeadError bounds Lead.LastError; stores truncate longer errors.
	MaxLeadError = 1024
)

// Lead is a lead a tenant's system pushed to the host (POST /v1/leads). The
// host stores it and a background job writes it to the tenant's CRM as the
// canonical object "lead".
type Lead struct {
	ID       string
	TenantID string
	// Fields are the canonical lead fields as submitted, by short key
	// ("first_name"), already checked against the tenant's write mapping.
	Fields map[string]any
	// IdempotencyKey is the key the submission came with ("" for none).
	IdempotencyKey string
	// PhoneHash and EmailHash identify the person, as MirrorRow's do, so
	// an erasure finds the lead.
	PhoneHash string
	EmailHash string
	Status    LeadStatus
	// ExternalID and RecordURL name the CRM record once written.
	ExternalID string
	RecordURL  string
	// Attempts counts the writes tried so far, the successful one included.
	Attempts int
	// LastError is the error code and message of the last failed attempt,
	// safe to show the tenant (never a secret); empty once written.
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
	WrittenAt *time.Time
}

// Validate returns a CodeInvalid error when l cannot be created.
func (l Lead) Validate() error {
	switch {
	case l.TenantID == "":
		return invalid("tenant_id", "is required")
	case len(l.Fields) == 0:
		return invalid("fields", "are required")
	case len(l.IdempotencyKey) > MaxLeadKey:
		return invalid("idempotency_key", "is longer than %d characters", MaxLeadKey)
	}
	return nil
}

// TruncateLeadError cuts msg to at most MaxLeadError bytes on a rune
// boundary; stores apply it to LastError.
func TruncateLeadError(msg string) string {
	if len(msg) <= MaxLeadError {
		return msg
	}
	cut := MaxLeadError
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut]
}

// LeadFilter selects a page of one tenant's leads; zero fields do not
// filter.
type LeadFilter struct {
	// Status keeps only leads in that status.
	Status LeadStatus
	// Before is the paging cursor: the ID of the last lead of the previous
	// page; only leads listed after it (older) are returned.
	Before string
	// Limit caps the page (ListLimit applies).
	Limit int
}

// LeadStore keeps submitted leads. Every method is scoped to a tenant: a
// lead of another tenant is reported exactly like a lead that does not
// exist.
type LeadStore interface {
	// CreateLead stores l as a new pending lead and returns it as stored.
	// An empty ID is generated (NewID(LeadIDPrefix)), a zero CreatedAt is
	// set to now and UpdatedAt to CreatedAt; Status, ExternalID,
	// RecordURL, Attempts, LastError and WrittenAt are ignored.
	// Errors: CodeInvalid, CodeConflict when the ID is taken, CodeNotFound
	// when the tenant does not exist.
	CreateLead(ctx context.Context, l Lead) (Lead, error)
	// GetLead returns the tenant's lead id. Errors: CodeNotFound, also when
	// the lead belongs to another tenant.
	GetLead(ctx context.Context, tenantID, id string) (Lead, error)
	// ListLeads returns a page of the tenant's leads, newest first (by
	// CreatedAt, ties by ID descending). Errors: CodeInvalid for an unknown
	// status or a Before that is not one of the tenant's leads.
	ListLeads(ctx context.Context, tenantID string, f LeadFilter) ([]Lead, error)
	// MarkLeadWritten records that the CRM holds the lead: status written,
	// the record's ID and URL, one more attempt, LastError cleared,
	// WrittenAt and UpdatedAt now. A failed lead may be marked written (the
	// CRM is the truth). Errors: CodeNotFound, CodeConflict when it is
	// already written.
	MarkLeadWritten(ctx context.Context, tenantID, id, externalID, recordURL string) (Lead, error)
	// MarkLeadAttempt records a failed attempt of a pending lead: one more
	// attempt, LastError (truncated to MaxLeadError), UpdatedAt now, and
	// status failed when failed is true. Errors: CodeNotFound, CodeConflict
	// when the lead is no longer pending.
	MarkLeadAttempt(ctx context.Context, tenantID, id, lastError string, failed bool) (Lead, error)
}
