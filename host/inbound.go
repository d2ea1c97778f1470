package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// InboundEventStatus is where a stored inbound webhook event stands.
type InboundEventStatus string

// Inbound event statuses. An event is stored received before the provider
// gets its 2xx; a background job settles it once: processed (its trigger
// rules were evaluated, each decision recorded), ignored (nothing to do:
// an object or kind no rule can use, a stale out-of-order delivery), or
// failed (a permanent error; Outcome says why).
const (
	EventReceived  InboundEventStatus = "received"
	EventProcessed InboundEventStatus = "processed"
	EventIgnored   InboundEventStatus = "ignored"
	EventFailed    InboundEventStatus = "failed"
)

// Valid reports whether s is one of the statuses.
func (s InboundEventStatus) Valid() bool {
	switch s {
	case EventReceived, EventProcessed, EventIgnored, EventFailed:
		return true
	}
	return false
}

// InboundEventIDPrefix starts every stored inbound event's ID.
const InboundEventIDPrefix = "evt_"

// MaxInboundEventData bounds an event's stored Data (its JSON encoding);
// a larger one is stored without Data and Outcome says so.
const MaxInboundEventData = 64 << 10

// InboundEvent is one event of an inbound webhook delivery, for one
// tenant, as stored before the delivery is acknowledged. It is unique by
// (TenantID, Provider, DedupeKey): a provider's retry or replay of the
// same event is recognised and dropped.
type InboundEvent struct {
	ID       string
	TenantID string
	Provider string
	// DedupeKey is the provider's key for the event (the driver's
	// WebhookEvent.ID), or a hash of its content when it has none (see
	// FallbackDedupeKey).
	DedupeKey      string
	Kind           string
	Type           string
	Object         string // canonical
	ProviderObject string
	ExternalID     string
	AccountID      string
	// OccurredAt is the provider's event time (nil when it sent none):
	// events are sequenced by it, never by arrival.
	OccurredAt *time.Time
	ReceivedAt time.Time
	RequestID  string
	Data       map[string]any
	Status     InboundEventStatus
	// Outcome explains the status: the decisions made, or why the event
	// was ignored or failed. Never a secret.
	Outcome     string
	Attempts    int
	ProcessedAt *time.Time
}

// Validate returns a CodeInvalid error when e cannot be stored.
func (e InboundEvent) Validate() error {
	switch {
	case e.TenantID == "":
		return invalid("tenant_id", "is required")
	case e.Provider == "":
		return invalid("provider", "is required")
	case e.DedupeKey == "":
		return invalid("dedupe_key", "is required")
	case len(e.DedupeKey) > 512:
		return invalid("dedupe_key", "is longer than 512 characters")
	}
	return nil
}

// FallbackDedupeKey is the dedupe key of an event whose provider sent no
// id: a hash of what makes it this event (kind, type, object, record,
// event time and content), so a retry of it hashes the same.
func FallbackDedupeKey(kind, typ, object, externalID string, occurredAt *time.Time, data map[string]any) string {
	h := sha256.New()
	b, _ := json.Marshal([]any{kind, typ, object, externalID, occurredAt, data})
	h.Write(b)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// InboundEventFilter selects a page of one tenant's inbound events.
type InboundEventFilter struct {
	Status InboundEventStatus
	// Before is the paging cursor: the ID of the last event of the
	// previous page.
	Before string
	Limit  int
}

// RecordState is the last known state of one CRM record, as the host saw
// it in the record's most recent event: the fields trigger rules look at,
// by canonical key. Providers that send only a record's latest state
// (no "changed from") are compared against it.
type RecordState struct {
	TenantID   string
	Object     string
	ExternalID string
	Fields     map[string]any
	OccurredAt time.Time
	UpdatedAt  time.Time
}

// InboundStore keeps inbound webhook events and the last known state of
// the records they concern.
type InboundStore interface {
	// RecordInboundEvents stores the events that are new and returns them
	// as stored (status received, an ID and ReceivedAt set); an event whose
	// (tenant, provider, dedupe key) is already stored is left out of the
	// answer. All or none are written. Errors: CodeInvalid, CodeNotFound
	// when a tenant does not exist.
	RecordInboundEvents(ctx context.Context, events []InboundEvent) ([]InboundEvent, error)
	// GetInboundEvent returns the tenant's event id. Errors: CodeNotFound.
	GetInboundEvent(ctx context.Context, tenantID, id string) (InboundEvent, error)
	// ListInboundEvents returns a page of the tenant's events, newest
	// first. Errors: CodeInvalid for an unknown status or cursor.
	ListInboundEvents(ctx context.Context, tenantID string, f InboundEventFilter) ([]InboundEvent, error)
	// PendingInboundEvents returns up to limit events (every tenant's)
	// still received at before, oldest first: the ones whose processing
	// job must be (re)enqueued.
	PendingInboundEvents(ctx context.Context, before time.Time, limit int) ([]InboundEvent, error)
	// SettleInboundEvent records an attempt to process a received event:
	// one more attempt, the outcome, and the status (received keeps it
	// pending; any other settles it, ProcessedAt now). Errors:
	// CodeNotFound, CodeConflict when it is already settled, CodeInvalid.
	SettleInboundEvent(ctx context.Context, tenantID, id string, status InboundEventStatus, outcome string) (InboundEvent, error)
	// PruneInboundEvents deletes settled events received before before
	// and returns how many; their dedupe keys go with them.
	PruneInboundEvents(ctx context.Context, before time.Time) (int64, error)
	// AdvanceRecordState makes st the record's last known state unless
	// the stored one is newer (a later OccurredAt): it returns the state
	// it replaced (nil for none) and whether st was stored. An out-of-order
	// delivery therefore never rolls the state back.
	AdvanceRecordState(ctx context.Context, st RecordState) (prev *RecordState, advanced bool, err error)
}
