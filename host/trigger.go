package host

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// CallPurpose classifies an outbound call. An AI voice is an "artificial
// voice" under the TCPA whatever the purpose; telemarketing needs prior
// express written consent, informational calls prior express consent.
type CallPurpose string

// Call purposes. Anything unclear is telemarketing (see ParsePurpose).
const (
	PurposeInformational CallPurpose = "informational"
	PurposeTelemarketing CallPurpose = "telemarketing"
)

// ParsePurpose returns informational only for exactly "informational";
// anything else, empty included, is telemarketing: unclear means
// telemarketing.
func ParsePurpose(s string) CallPurpose {
	if CallPurpose(strings.TrimSpace(s)) == PurposeInformational {
		return PurposeInformational
	}
	return PurposeTelemarketing
}

// Condition operators of a trigger rule.
const (
	OpEquals    = "eq"         // the field equals Value
	OpNotEquals = "ne"         // the field differs from Value
	OpIn        = "in"         // the field is one of Values
	OpExists    = "exists"     // the field has a non-empty value
	OpChanged   = "changed"    // the field changed in this event
	OpChangedTo = "changed_to" // the field changed in this event and now equals Value
)

// Condition is one field condition of a trigger rule. Field is a
// canonical key ("deal.stage"); values compare as text, after a trigger
// mapping's value label is applied ("Viewing booked" for a provider's
// stage id "appointmentscheduled").
type Condition struct {
	Field  string   `json:"field"`
	Op     string   `json:"op"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// TriggerRuleIDPrefix starts every trigger rule's ID.
const TriggerRuleIDPrefix = "trg_"

// MaxTriggerDelay bounds a rule's delay.
const MaxTriggerDelay = 7 * 24 * time.Hour

// TriggerRule says which of a tenant's CRM events may prompt an outbound
// call, and of which purpose. Every save is a new version; the old ones
// stay readable (TriggerRuleHistory). A disabled rule fires nothing (the
// rule's kill switch); the tenant's OutboundSettings.Enabled is the
// tenant-wide one.
type TriggerRule struct {
	TenantID string `json:"tenant_id"`
	ID       string `json:"id"`
	Version  int    `json:"version"`
	Name     string `json:"name"`
	Enabled  bool   `json:"enabled"`
	// Events are event kinds ("record.created"); Objects canonical
	// objects ("lead"). Both must match; neither may be empty.
	Events     []string    `json:"events"`
	Objects    []string    `json:"objects"`
	Conditions []Condition `json:"conditions,omitempty"`
	Purpose    CallPurpose `json:"purpose"`
	// Delay postpones the gates' evaluation (and the call) after the
	// event; the gates are evaluated at the delayed time.
	DelaySeconds int `json:"delay_seconds,omitempty"`
	// Subject names what calls of this rule are about, for the frequency
	// caps (default: the rule's ID).
	Subject   string    `json:"subject,omitempty"`
	Deleted   bool      `json:"deleted,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// CapSubject is the subject frequency caps count calls of.
func (r TriggerRule) CapSubject() string {
	if r.Subject != "" {
		return r.Subject
	}
	return r.ID
}

// Validate returns a CodeInvalid error when r cannot be stored. Whether
// its fields are mapped is the outbound service's check (it knows the
// tenant's mapping).
func (r TriggerRule) Validate() error {
	switch {
	case r.TenantID == "":
		return invalid("tenant_id", "is required")
	case strings.TrimSpace(r.Name) == "" && !r.Deleted:
		return invalid("name", "is required")
	case len(r.Events) == 0 && !r.Deleted:
		return invalid("events", "name at least one event kind (record.created, record.updated)")
	case len(r.Objects) == 0 && !r.Deleted:
		return invalid("objects", "name at least one canonical object (lead, customer, deal)")
	case r.Purpose != PurposeInformational && r.Purpose != PurposeTelemarketing:
		return invalid("purpose", "%q is not informational or telemarketing", r.Purpose)
	case r.DelaySeconds < 0 || time.Duration(r.DelaySeconds)*time.Second > MaxTriggerDelay:
		return invalid("delay_seconds", "must be between 0 and %d", int(MaxTriggerDelay.Seconds()))
	case len(r.Conditions) > 20:
		return invalid("conditions", "at most 20")
	}
	for i, c := range r.Conditions {
		f := fmt.Sprintf("conditions[%d]", i)
		if !strings.Contains(c.Field, ".") {
			return invalid(f+".field", "%q is not a canonical key such as \"deal.stage\"", c.Field)
		}
		switch c.Op {
		case OpEquals, OpNotEquals, OpChangedTo:
			if c.Value == "" {
				return invalid(f+".value", "is required for %s", c.Op)
			}
		case OpIn:
			if len(c.Values) == 0 {
				return invalid(f+".values", "are required for in")
			}
		case OpExists, OpChanged:
		default:
			return invalid(f+".op", "%q is not one of eq, ne, in, exists, changed, changed_to", c.Op)
		}
	}
	return nil
}

// OutboundSettings are a tenant's outbound-call settings.
type OutboundSettings struct {
	TenantID string
	// Enabled is the tenant's kill switch: false fires nothing (every
	// decision is blocked with reason outbound_disabled).
	Enabled bool
	// SellerName is the seller's legal name as consent records must
	// name it.
	SellerName string
	// CallbackURL receives the signed call requests; empty: they are only
	// pulled.
	CallbackURL string
	// The Standard Webhooks signing secret, sealed (secrets package).
	SecretCiphertext, SecretWrappedDEK []byte
	SecretKEKID                        string
	UpdatedAt                          time.Time
}

// Validate returns a CodeInvalid error when s cannot be stored.
func (s OutboundSettings) Validate() error {
	switch {
	case s.TenantID == "":
		return invalid("tenant_id", "is required")
	case len(s.SellerName) > 300:
		return invalid("seller_name", "is longer than 300 characters")
	}
	if s.CallbackURL != "" {
		u, err := url.Parse(s.CallbackURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return invalid("callback_url", "must be an http(s) URL without credentials")
		}
	}
	return nil
}

// TriggerStore keeps trigger rules (versioned) and outbound settings.
type TriggerStore interface {
	// PutTriggerRule stores r as the next version of rule r.ID (a new
	// rule when r.ID is empty: an ID is generated and expect must be 0)
	// and returns it as stored. expect is the version the caller read:
	// another save in between is CodeConflict. Errors: CodeInvalid,
	// CodeNotFound (tenant, or a rule to update that does not exist),
	// CodeConflict.
	PutTriggerRule(ctx context.Context, r TriggerRule, expect int) (TriggerRule, error)
	// GetTriggerRule returns the current version of a rule (a deleted
	// one too). Errors: CodeNotFound.
	GetTriggerRule(ctx context.Context, tenantID, id string) (TriggerRule, error)
	// GetTriggerRuleVersion returns one version of a rule. Errors:
	// CodeNotFound.
	GetTriggerRuleVersion(ctx context.Context, tenantID, id string, version int) (TriggerRule, error)
	// ListTriggerRules returns the current version of each of the
	// tenant's rules that is not deleted, by ID.
	ListTriggerRules(ctx context.Context, tenantID string) ([]TriggerRule, error)
	// TriggerRuleHistory returns every version of a rule, newest first.
	// Errors: CodeNotFound.
	TriggerRuleHistory(ctx context.Context, tenantID, id string) ([]TriggerRule, error)
	// PutOutboundSettings creates or replaces the tenant's settings.
	// Errors: CodeInvalid, CodeNotFound (tenant).
	PutOutboundSettings(ctx context.Context, s OutboundSettings) (OutboundSettings, error)
	// GetOutboundSettings returns them. Errors: CodeNotFound when the
	// tenant has none.
	GetOutboundSettings(ctx context.Context, tenantID string) (OutboundSettings, error)
}
