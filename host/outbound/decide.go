package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"crmhost.dev/host"
)

// CallPayload is the body of a call request as the platform receives it
// (pushed, Standard Webhooks, or pulled): {type, timestamp, data}.
type CallPayload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      CallData  `json:"data"`
}

// CallData is a call request's content.
type CallData struct {
	CallRequestID  string           `json:"call_request_id"`
	DecisionID     string           `json:"decision_id"`
	TenantID       string           `json:"tenant_id"`
	Person         CallPerson       `json:"person"`
	Event          CallEvent        `json:"event"`
	Purpose        host.CallPurpose `json:"purpose"`
	ConsentID      string           `json:"consent_record_id"`
	ConsentVersion int              `json:"consent_version"`
	EarliestAt     time.Time        `json:"earliest_call_at"`
	LatestAt       time.Time        `json:"latest_call_at"`
	RuleSetVersion string           `json:"rule_set_version"`
	RuleID         string           `json:"trigger_rule_id"`
	RuleVersion    int              `json:"trigger_rule_version"`
	TimeZones      []string         `json:"time_zones"`
}

// CallPerson is who to call.
type CallPerson struct {
	Name      string `json:"name,omitempty"`
	Phone     string `json:"phone"`
	CRMObject string `json:"crm_object"`
	CRMID     string `json:"crm_id"`
}

// CallEvent is the CRM event that prompted the call.
type CallEvent struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Object     string     `json:"object"`
	ExternalID string     `json:"external_id"`
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
}

// CallRequestedType is the call requests' event type.
const CallRequestedType = "outbound_call.requested"

// Decide runs the gates for one matched rule and records the decision
// before anything leaves the host; a fired one gets its call request in
// the same transaction, and its delivery is queued. A decision already
// recorded for the event and rule is returned as it was (a replayed job
// makes no second call). The tenant's kill switch and the rule's own
// block before the gates, and are recorded like any block.
func (s *Service) Decide(ctx context.Context, c Candidate) (host.Decision, error) {
	now := s.now().UTC()
	rule, err := s.store.GetTriggerRuleVersion(ctx, c.TenantID, c.RuleID, c.RuleVersion)
	if err != nil {
		return host.Decision{}, err
	}
	settings, err := s.store.GetOutboundSettings(ctx, c.TenantID)
	if err != nil && host.CodeOf(err) != host.CodeNotFound {
		return host.Decision{}, err
	}
	v := Verdict{Purpose: host.ParsePurpose(string(rule.Purpose)), RuleSetVersion: s.rules.Version}
	switch {
	case !settings.Enabled:
		v = v.block(ReasonDisabled, "outbound calls are switched off for this tenant")
	case !rule.Enabled:
		v = v.block(ReasonRuleDisabled, "trigger rule %s is switched off", rule.ID)
	default:
		in, err := s.gather(ctx, c, rule, settings, now)
		if err != nil {
			return host.Decision{}, err
		}
		v = s.rules.Evaluate(in)
	}
	d := host.Decision{ID: host.NewID(host.DecisionIDPrefix), TenantID: c.TenantID, EventID: c.EventID, EventKind: c.EventKind, Object: c.Object,
		ExternalID: c.ExternalID, RuleID: rule.ID, RuleVersion: rule.Version, RuleSetVersion: v.RuleSetVersion, Purpose: v.Purpose,
		Subject: rule.CapSubject(), Phone: v.Place.Phone, PersonName: c.PersonName, States: v.Place.States, TimeZones: v.Place.Zones,
		LocalTimes: v.LocalTimes, Outcome: v.Outcome, Reason: v.Reason, Detail: v.Detail, EarliestAt: v.Earliest, LatestAt: v.Latest,
		Actor: "system:outbound", DecidedAt: now}
	if d.Phone == "" {
		d.Phone = c.Phone
	}
	if v.Consent != nil {
		d.ConsentID, d.ConsentVersion, d.DisclosureVersion = v.Consent.ID, v.Consent.Version, v.Consent.DisclosureVersion
	}
	if v.Scrub != nil {
		d.NationalListDate, d.StateListDate, d.Reassigned = v.Scrub.NationalListDate, v.Scrub.StateListDate, v.Scrub.Reassigned
	}
	var req *host.CallRequest
	if d.Outcome == host.DecisionFired {
		id := host.NewID(host.CallRequestIDPrefix)
		p := CallPayload{Type: CallRequestedType, Timestamp: now, Data: CallData{CallRequestID: id, DecisionID: d.ID, TenantID: c.TenantID,
			Person:  CallPerson{Name: c.PersonName, Phone: d.Phone, CRMObject: c.Object, CRMID: c.ExternalID},
			Event:   CallEvent{ID: c.EventID, Kind: c.EventKind, Object: c.Object, ExternalID: c.ExternalID, OccurredAt: c.OccurredAt},
			Purpose: d.Purpose, ConsentID: d.ConsentID, ConsentVersion: d.ConsentVersion, EarliestAt: *d.EarliestAt, LatestAt: *d.LatestAt,
			RuleSetVersion: d.RuleSetVersion, RuleID: rule.ID, RuleVersion: rule.Version, TimeZones: d.TimeZones}}
		body, err := json.Marshal(p)
		if err != nil {
			return host.Decision{}, err
		}
		req = &host.CallRequest{ID: id, Payload: body}
	}
	d, call, created, err := s.store.RecordDecision(ctx, d, req)
	if err != nil {
		return host.Decision{}, err
	}
	if created {
		detail := fmt.Sprintf("%s %s rule %s v%d event %s", d.ID, d.Outcome, d.RuleID, d.RuleVersion, d.EventID)
		if d.Reason != "" {
			detail += " reason " + d.Reason
		}
		s.CRM.Audit(ctx, system, c.TenantID, "outbound.decision", d.Outcome, detail)
	}
	if call != nil && call.Status == host.CallPending && settings.CallbackURL != "" && s.Queue != nil {
		if err := s.Queue.EnqueueDelivery(ctx, c.TenantID, call.ID); err != nil {
			s.log.Warn("enqueueing a call request's delivery failed; the rescue will", "tenant", c.TenantID, "call", call.ID, "error", err)
		}
	}
	return d, nil
}

// gather reads what the gates look at for c's number.
func (s *Service) gather(ctx context.Context, c Candidate, rule host.TriggerRule, settings host.OutboundSettings, now time.Time) (Input, error) {
	in := Input{Now: now, Purpose: rule.Purpose, Phone: c.Phone, AddressState: c.AddressState, SellerName: settings.SellerName}
	phone, err := NormalizePhone("phone", c.Phone)
	if err != nil {
		return in, nil // Evaluate blocks it as invalid
	}
	if in.Consents, err = s.store.ListConsents(ctx, c.TenantID, phone, host.MaxListLimit); err != nil {
		return in, err
	}
	if e, err := s.store.GetDNC(ctx, c.TenantID, phone); err == nil {
		in.DNC = &e
	} else if host.CodeOf(err) != host.CodeNotFound {
		return in, err
	}
	if sc, err := s.store.GetDNCScrub(ctx, c.TenantID, phone); err == nil {
		in.Scrub = &sc
	} else if host.CodeOf(err) != host.CodeNotFound {
		return in, err
	}
	if in.FiredRecently, err = s.store.CountFired(ctx, c.TenantID, phone, rule.CapSubject(), now.Add(-s.rules.CapWindow)); err != nil {
		return in, err
	}
	return in, nil
}
