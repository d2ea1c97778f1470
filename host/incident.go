package host

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// IncidentKindSyncFailure is the kind of incident a tenant's mirrored rows
// open when some are still not in its CRM a day after they were accepted.
const IncidentKindSyncFailure = "crm_sync_failure"

// IncidentIDPrefix starts every incident ID.
const IncidentIDPrefix = "inc_"

// Incident states.
const (
	IncidentOpen     = "open"
	IncidentResolved = "resolved"
)

// Incident is a tenant's crm_sync_failure: at most one is open per tenant.
// It carries the backlog as of its last update: counts per class, the
// oldest row and the last error.
type Incident struct {
	ID        string
	TenantID  string
	Kind      string
	State     string
	Counts    map[MirrorClass]int
	OldestID  string
	OldestAt  time.Time
	LastError string
	OpenedAt  time.Time
	UpdatedAt time.Time
	// ResolvedAt is set once the backlog cleared.
	ResolvedAt *time.Time
	// Notified is the last state the platform was told of ("" for none):
	// the escalation job sends a notification until it matches State.
	Notified string
}

// IncidentStore keeps incidents.
type IncidentStore interface {
	// OpenIncident stores inc as the tenant's open incident, or updates the
	// one open (counts, oldest, last error, UpdatedAt), and returns it and
	// whether it was newly opened. Errors: CodeInvalid, CodeNotFound for
	// the tenant.
	OpenIncident(ctx context.Context, inc Incident) (Incident, bool, error)
	// ResolveIncident resolves the tenant's open incident at `at`.
	// Errors: CodeNotFound when none is open.
	ResolveIncident(ctx context.Context, tenantID string, at time.Time) (Incident, error)
	// SetIncidentNotified records that the platform was told of state.
	// Errors: CodeNotFound.
	SetIncidentNotified(ctx context.Context, id, state string) error
	// ListIncidents returns incidents newest first: the open ones when
	// state is "open", every one when state is "", of tenantID alone when
	// it is not empty.
	ListIncidents(ctx context.Context, tenantID, state string, limit int) ([]Incident, error)
	// UnnotifiedIncidents returns incidents whose Notified is not their
	// State, oldest first.
	UnnotifiedIncidents(ctx context.Context, limit int) ([]Incident, error)
}

// EncodeCounts encodes an incident's counts for storage.
func EncodeCounts(c map[MirrorClass]int) []byte {
	if c == nil {
		return []byte("{}")
	}
	b, _ := json.Marshal(c) // a map of strings to ints always encodes
	return b
}

// DecodeCounts reads what EncodeCounts stored.
func DecodeCounts(b []byte) (map[MirrorClass]int, error) {
	out := map[MirrorClass]int{}
	if len(b) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("incident counts: %w", err)
	}
	return out, nil
}

// Validate returns a CodeInvalid error when inc cannot be opened.
func (inc Incident) Validate() error {
	switch {
	case inc.TenantID == "":
		return invalid("tenant_id", "is required")
	case inc.Kind == "":
		return invalid("kind", "is required")
	}
	return nil
}
