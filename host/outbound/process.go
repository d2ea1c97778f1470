package outbound

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/mapping"
	"crmhost.dev/sdk"
)

// Candidate is one matched rule for one event: what Decide needs, also
// when a rule's delay runs it later (it travels in the job).
type Candidate struct {
	TenantID     string     `json:"tenant_id"`
	EventID      string     `json:"event_id"`
	EventKind    string     `json:"event_kind"`
	Object       string     `json:"object"`
	ExternalID   string     `json:"external_id"`
	OccurredAt   *time.Time `json:"occurred_at,omitempty"`
	RuleID       string     `json:"rule_id"`
	RuleVersion  int        `json:"rule_version"`
	Phone        string     `json:"phone,omitempty"`
	PersonName   string     `json:"person_name,omitempty"`
	AddressState string     `json:"address_state,omitempty"`
}

// Retryable reports whether an error is worth another attempt: the CRM,
// the driver or the store was unavailable or failed internally.
func Retryable(err error) bool {
	switch host.CodeOf(err) {
	case host.ErrorCode(sdk.CodeUnavailable), host.ErrorCode(sdk.CodeRateLimited), host.CodeDriverUnavailable, host.CodeInternal, host.CodeTimeout:
		return true
	}
	return false
}

// Process handles one stored inbound event, once: it finds the trigger
// rules its kind and object concern, reads the record back through the
// driver (providers send thin payloads), compares the rules' fields with
// the record's last known state (an out-of-order delivery older than that
// state is ignored; a provider that sends only the latest state gets its
// changes derived), and decides (or schedules, for a rule with a delay)
// every rule that matches. A settled event is left alone, so a replayed
// job is harmless. A retryable failure leaves the event received and
// returns the error (the job retries) unless final, when the event fails.
func (s *Service) Process(ctx context.Context, tenantID, eventID string, final bool) error {
	ev, err := s.store.GetInboundEvent(ctx, tenantID, eventID)
	if host.CodeOf(err) == host.CodeNotFound {
		return nil // pruned, or its tenant deleted
	}
	if err != nil || ev.Status != host.EventReceived {
		return err
	}
	status, outcome, err := s.process(ctx, ev)
	if err != nil {
		if Retryable(err) && !final {
			_, _ = s.store.SettleInboundEvent(context.WithoutCancel(ctx), tenantID, eventID, host.EventReceived, "retrying: "+errText(err))
			return err
		}
		status, outcome = host.EventFailed, errText(err)
	}
	if _, serr := s.store.SettleInboundEvent(context.WithoutCancel(ctx), tenantID, eventID, status, outcome); serr != nil && host.CodeOf(serr) != host.CodeConflict {
		return serr
	}
	return nil
}

func errText(err error) string {
	var he *host.Error
	var se *sdk.Error
	switch {
	case errors.As(err, &he):
		return he.Error()
	case errors.As(err, &se):
		return se.Error()
	}
	return string(host.CodeInternal) + ": processing failed"
}

func (s *Service) process(ctx context.Context, ev host.InboundEvent) (host.InboundEventStatus, string, error) {
	rules, err := s.store.ListTriggerRules(ctx, ev.TenantID)
	if err != nil {
		return "", "", err
	}
	var relevant []host.TriggerRule
	for _, r := range rules {
		if slices.Contains(r.Objects, ev.Object) && slices.Contains(r.Events, ev.Kind) {
			relevant = append(relevant, r)
		}
	}
	if len(relevant) == 0 {
		return host.EventIgnored, fmt.Sprintf("no trigger rule for %s on %s", ev.Kind, ev.Object), nil
	}
	if ev.Kind == sdk.EventDeleted {
		return host.EventIgnored, "a deleted record prompts no call", nil
	}
	m, _, err := s.CRM.Mapping(ctx, ev.TenantID)
	if err != nil {
		return "", "", err
	}
	// The record as the event saw it: what the provider sent wins (it is
	// the state at the event's time; some providers send the whole
	// record), the record read back through the driver fills in what a
	// thin payload lacks (others send ids and one property).
	native := map[string]any{}
	read := "the event's own data"
	if ev.ExternalID != "" {
		res, err := s.CRM.LookupCustomer(ctx, system, ev.TenantID, broker.LookupInput{ExternalID: ev.ExternalID, Objects: []string{ev.Object}})
		switch {
		case err != nil && Retryable(err):
			return "", "", err
		case err == nil && res.Customer != nil:
			maps.Copy(native, res.Customer.Native)
			read = "the event, completed by the record read back"
		case err != nil:
			read = "the event's own data (reading the record back: " + string(host.CodeOf(err)) + ")"
		}
	}
	maps.Copy(native, ev.Data)
	fields := m.Read(ev.Object, native)
	watched := map[string]bool{}
	for _, r := range relevant {
		for _, c := range r.Conditions {
			watched[c.Field] = true
		}
	}
	values := map[string]any{}
	for f := range watched {
		if v, ok := fieldValue(m, f, native, fields); ok {
			values[f] = v
		}
	}
	occurred := ev.ReceivedAt
	if ev.OccurredAt != nil {
		occurred = *ev.OccurredAt
	}
	prev, advanced, err := s.store.AdvanceRecordState(ctx, host.RecordState{TenantID: ev.TenantID, Object: ev.Object, ExternalID: ev.ExternalID, Fields: values, OccurredAt: occurred})
	if err != nil {
		return "", "", err
	}
	if !advanced {
		return host.EventIgnored, fmt.Sprintf("out of order: the record's state at %s was already seen", prev.OccurredAt.Format(time.RFC3339Nano)), nil
	}
	changed := changes(prev, values, ev.Kind == sdk.EventCreated)

	person := Candidate{TenantID: ev.TenantID, EventID: ev.ID, EventKind: ev.Kind, Object: ev.Object, ExternalID: ev.ExternalID, OccurredAt: ev.OccurredAt,
		Phone: text(fields["phone"]), PersonName: strings.TrimSpace(text(fields["first_name"]) + " " + text(fields["last_name"])), AddressState: text(fields["state"])}
	if person.PersonName == "" {
		person.PersonName = text(fields["name"])
	}
	var notes []string
	for _, r := range relevant {
		if !matches(r, values, changed) {
			continue
		}
		c := person
		c.RuleID, c.RuleVersion = r.ID, r.Version
		if r.DelaySeconds > 0 {
			// The job queue runs on the wall clock; the gates will read
			// theirs when the job runs.
			at := time.Now().Add(time.Duration(r.DelaySeconds) * time.Second)
			if s.Queue == nil {
				return "", "", host.Errorf(host.CodeInternal, "no queue for delayed decisions")
			}
			if err := s.Queue.EnqueueDecision(ctx, c, at); err != nil {
				return "", "", err
			}
			notes = append(notes, fmt.Sprintf("%s scheduled for %s", r.ID, at.UTC().Format(time.RFC3339)))
			continue
		}
		d, err := s.Decide(ctx, c)
		if err != nil {
			return "", "", err
		}
		note := r.ID + ": " + d.ID + " " + d.Outcome
		if d.Reason != "" {
			note += " (" + d.Reason + ")"
		}
		notes = append(notes, note)
	}
	if len(notes) == 0 {
		return host.EventIgnored, fmt.Sprintf("no trigger rule's conditions matched (fields from %s)", read), nil
	}
	return host.EventProcessed, strings.Join(notes, "; "), nil
}

// fieldValue resolves a canonical key ("deal.stage") on a record: through
// the tenant's trigger mapping to a provider field, else its read
// mapping; a trigger mapping "deal.stage=Viewing booked" -> provider value
// turns that value into its label.
func fieldValue(m *mapping.Mapping, key string, native, fields map[string]any) (any, bool) {
	obj, short, _ := strings.Cut(key, ".")
	var v any
	var ok bool
	if target, tok := m.Trigger(key); tok {
		v, ok = lookupPath(native, target)
	} else if target, rok := m.Field(obj, short); rok {
		v, ok = lookupPath(native, target)
	}
	if !ok {
		v, ok = fields[short]
	}
	if !ok || v == nil {
		return nil, false
	}
	raw := text(v)
	for _, e := range m.Effective("") {
		if e.Kind == host.MappingTrigger && strings.HasPrefix(e.Key, key+"=") && e.Target == raw {
			return strings.TrimPrefix(e.Key, key+"="), true
		}
	}
	return raw, true
}

// Mapped reports whether a canonical key can be resolved for a tenant: a
// trigger or read mapping names its provider field.
func Mapped(m *mapping.Mapping, key string) bool {
	obj, short, ok := strings.Cut(key, ".")
	if !ok || obj == "" || short == "" {
		return false
	}
	if _, ok := m.Trigger(key); ok {
		return true
	}
	_, ok = m.Field(obj, short)
	return ok
}

func lookupPath(src map[string]any, path string) (any, bool) {
	if v, ok := src[path]; ok {
		return v, true
	}
	var cur any = src
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// changes lists the watched fields whose value differs from the last known
// state. With no state known, a created record's fields all changed (from
// nothing); an update's are unknown and count as unchanged (fail closed).
func changes(prev *host.RecordState, values map[string]any, created bool) map[string]bool {
	out := map[string]bool{}
	for k, v := range values {
		switch {
		case prev == nil:
			out[k] = created
		default:
			old, had := prev.Fields[k]
			out[k] = !had || text(old) != text(v)
		}
	}
	return out
}

// matches reports whether every condition of r holds.
func matches(r host.TriggerRule, values map[string]any, changed map[string]bool) bool {
	for _, c := range r.Conditions {
		v, has := values[c.Field]
		s := text(v)
		switch c.Op {
		case host.OpEquals:
			if !has || s != c.Value {
				return false
			}
		case host.OpNotEquals:
			if has && s == c.Value {
				return false
			}
		case host.OpIn:
			if !has || !slices.Contains(c.Values, s) {
				return false
			}
		case host.OpExists:
			if !has || s == "" {
				return false
			}
		case host.OpChanged:
			if !changed[c.Field] {
				return false
			}
		case host.OpChangedTo:
			if !changed[c.Field] || s != c.Value {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// text renders a field value for comparison.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}
