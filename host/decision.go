package host

import (
	"context"
	"encoding/json"
	"time"
)

// Decision outcomes.
const (
	DecisionFired   = "fired"
	DecisionBlocked = "blocked"
)

// DecisionIDPrefix and CallRequestIDPrefix start the IDs of decisions
// and call requests.
const (
	DecisionIDPrefix    = "dec_"
	CallRequestIDPrefix = "call_"
)

// DecisionRetention is how long a decision record is kept: 5 years. No
// purge removes one earlier, and deleting the tenant does not either.
const DecisionRetention = 5 * 365 * 24 * time.Hour

// LocalTime is the recipient's local time in one candidate time zone at a
// decision.
type LocalTime struct {
	Zone  string `json:"zone"`
	Local string `json:"local"` // RFC 3339 with the zone's offset
}

// Decision records why an outbound call was fired or blocked, written
// before any call request leaves the host. It holds what the gates saw:
// the event, the rule and rule-set versions, the consent record and its
// versions, the DNC list dates, the candidate states and time zones with
// the local times computed, the outcome and the reason for a block.
type Decision struct {
	ID                string      `json:"id"`
	TenantID          string      `json:"tenant_id"`
	EventID           string      `json:"event_id"`
	EventKind         string      `json:"event_kind"`
	Object            string      `json:"object"`
	ExternalID        string      `json:"external_id"`
	RuleID            string      `json:"rule_id"`
	RuleVersion       int         `json:"rule_version"`
	RuleSetVersion    string      `json:"rule_set_version"`
	Purpose           CallPurpose `json:"purpose"`
	Subject           string      `json:"subject"`
	Phone             string      `json:"phone,omitempty"`
	PersonName        string      `json:"person_name,omitempty"`
	ConsentID         string      `json:"consent_id,omitempty"`
	ConsentVersion    int         `json:"consent_version,omitempty"`
	DisclosureVersion string      `json:"disclosure_version,omitempty"`
	NationalListDate  *time.Time  `json:"national_list_date,omitempty"`
	StateListDate     *time.Time  `json:"state_list_date,omitempty"`
	Reassigned        string      `json:"reassigned,omitempty"`
	States            []string    `json:"states,omitempty"`
	TimeZones         []string    `json:"time_zones,omitempty"`
	LocalTimes        []LocalTime `json:"local_times,omitempty"`
	Outcome           string      `json:"outcome"`
	// Reason is a stable code (consent_missing, outside_calling_window,
	// ...) and Detail says it in words; both empty when fired.
	Reason     string     `json:"reason,omitempty"`
	Detail     string     `json:"detail,omitempty"`
	EarliestAt *time.Time `json:"earliest_at,omitempty"`
	LatestAt   *time.Time `json:"latest_at,omitempty"`
	Actor      string     `json:"actor"`
	DecidedAt  time.Time  `json:"decided_at"`
	// RetainUntil is DecidedAt plus DecisionRetention.
	RetainUntil time.Time `json:"retain_until"`
}

// Call request statuses.
const (
	CallPending   = "pending"
	CallDelivered = "delivered"
	CallFailed    = "failed"
)

// CallRequest is an outbound call the gates allowed, for the platform's
// dialer: pushed to the tenant's callback URL (signed) and pullable.
// Payload is its JSON body as delivered.
type CallRequest struct {
	ID          string          `json:"id"`
	TenantID    string          `json:"tenant_id"`
	DecisionID  string          `json:"decision_id"`
	Payload     json.RawMessage `json:"payload"`
	Status      string          `json:"status"`
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
}

// DecisionFilter selects a page of one tenant's decisions.
type DecisionFilter struct {
	Outcome string
	EventID string
	Before  string
	Limit   int
}

// CallRequestFilter selects a page of one tenant's call requests.
type CallRequestFilter struct {
	Status string
	Before string
	Limit  int
}

// DecisionStore keeps decision records and call requests.
type DecisionStore interface {
	// RecordDecision stores d (ID, DecidedAt and RetainUntil filled when
	// zero) and, for a fired decision, its call request, in one
	// transaction. A decision for the same (tenant, event, rule) already
	// stored is returned instead with created false, so a re-run makes no
	// second call. Errors: CodeInvalid.
	RecordDecision(ctx context.Context, d Decision, req *CallRequest) (Decision, *CallRequest, bool, error)
	// GetDecision returns one. Errors: CodeNotFound.
	GetDecision(ctx context.Context, tenantID, id string) (Decision, error)
	// ListDecisions returns a page, newest first. Errors: CodeInvalid for
	// an unknown cursor.
	ListDecisions(ctx context.Context, tenantID string, f DecisionFilter) ([]Decision, error)
	// CountFired counts the tenant's fired decisions for phone on subject
	// decided at or after since (the frequency caps).
	CountFired(ctx context.Context, tenantID, phone, subject string, since time.Time) (int, error)
	// GetCallRequest returns one. Errors: CodeNotFound.
	GetCallRequest(ctx context.Context, tenantID, id string) (CallRequest, error)
	// ListCallRequests returns a page, newest first. Errors: CodeInvalid.
	ListCallRequests(ctx context.Context, tenantID string, f CallRequestFilter) ([]CallRequest, error)
	// PendingCallRequests returns up to limit pending requests (every
	// tenant's) created before before, oldest first.
	PendingCallRequests(ctx context.Context, before time.Time, limit int) ([]CallRequest, error)
	// SettleCallRequest records a delivery attempt: one more attempt,
	// lastError, and status (pending keeps it; delivered sets
	// DeliveredAt). Errors: CodeNotFound, CodeConflict when no longer
	// pending.
	SettleCallRequest(ctx context.Context, tenantID, id, status, lastError string) (CallRequest, error)
}

// OutboundStore is everything the outbound machinery keeps.
type OutboundStore interface {
	InboundStore
	TriggerStore
	ConsentStore
	DecisionStore
}
