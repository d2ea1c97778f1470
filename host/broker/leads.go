package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// LeadObject is the canonical object submitted leads are written as.
const LeadObject = "lead"

// LeadQueue stores a submitted lead and enqueues its write to the CRM.
// host/jobs' Runner implements it on River; the broker does not import
// the queue.
type LeadQueue interface {
	// EnqueueLead stores l as a new pending lead and enqueues the job that
	// writes it, atomically: both or neither. It returns the lead as
	// stored. Errors: those of host.LeadStore.CreateLead, or internal.
	EnqueueLead(ctx context.Context, l host.Lead) (host.Lead, error)
}

// leadRef is what an idempotency key records for a submitted lead; a
// replay answers with the lead's current state.
type leadRef struct {
	LeadID string `json:"lead_id"`
}

// SubmitLead accepts a lead for tenantID's CRM: it checks the canonical
// fields against the tenant's write mapping for object "lead" before
// anything is stored, then stores the lead and enqueues its write in one
// transaction, and returns it pending (an HTTP caller answers 202). A
// background job writes it (see WriteLead); GetLead shows how that went.
// Field keys may be short ("email") or full ("lead.email"); the lead keeps
// them short.
//
// With an idempotency key, a repeat with the same fields returns the same
// lead (in its current state) without storing another; the same key with
// other fields is CodeIdempotencyReused, and a repeat while the first is
// still being stored CodeIdempotencyInFlight.
//
// Values certain to fail the write later are refused now, so the caller
// gets the 4xx rather than a lead that fails in the background (see
// checkLeadValues).
//
// Errors: CodeNotFound (tenant), CodeNotConnected, CodeInvalid (no fields;
// fields without a write mapping, all named; a value checkLeadValues
// refuses, named; a connection without a lead object; an idempotency key
// over 255 bytes), CodeDriverUnavailable (the driver's description could
// not be had), the idempotency codes, and CodeInternal when no lead queue
// is configured.
func (b *Broker) SubmitLead(ctx context.Context, a Actor, tenantID string, fields map[string]any, idempotencyKey string) (host.Lead, error) {
	if b.leads == nil {
		return host.Lead{}, &host.Error{Code: host.CodeInternal, Message: "lead intake is not configured on this host"}
	}
	if len(idempotencyKey) > sdk.MaxIdempotencyKey {
		return host.Lead{}, &host.Error{Code: host.CodeInvalid, Field: "idempotency_key", Message: fmt.Sprintf("is %d bytes long; at most %d are allowed", len(idempotencyKey), sdk.MaxIdempotencyKey)}
	}
	canon, err := canonicalLead(fields)
	if err != nil {
		return host.Lead{}, err
	}
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return host.Lead{}, err
	}
	if _, err := s.mapping.Object(LeadObject); err != nil {
		return host.Lead{}, &host.Error{Code: host.CodeInvalid, Field: "object", Cause: err, Message: fmt.Sprintf(
			"the tenant's CRM (%s) has no %q object; an operator can map one under the tenant's mappings", s.desc.Slug, LeadObject)}
	}
	if _, err := s.mapping.Write(LeadObject, canon); err != nil {
		return host.Lead{}, err
	}
	if err := checkLeadValues(canon, s.conn.Config[sdk.ConfigDefaultRegion]); err != nil {
		return host.Lead{}, err
	}
	fp, err := LeadFingerprint(canon)
	if err != nil {
		return host.Lead{}, err
	}
	var lead host.Lead
	resp, err := b.Once(ctx, tenantID, idempotencyKey, fp, func(ctx context.Context) (Response, error) {
		phone, email := personOf(canon, s.conn.Config[sdk.ConfigDefaultRegion])
		l, err := b.leads.EnqueueLead(ctx, host.Lead{TenantID: tenantID, Fields: canon, IdempotencyKey: idempotencyKey, PhoneHash: phone, EmailHash: email})
		if err != nil {
			b.record(ctx, a, tenantID, "lead.submit", host.OutcomeError, string(host.CodeOf(err)))
			return Response{}, err
		}
		lead = l
		b.record(ctx, a, tenantID, "lead.submit", host.OutcomeOK, l.ID)
		return JSONResponse(202, leadRef{LeadID: l.ID})
	})
	if err != nil {
		return host.Lead{}, err
	}
	if !resp.Replayed {
		return lead, nil
	}
	var ref leadRef
	if err := json.Unmarshal(resp.Body, &ref); err != nil || ref.LeadID == "" {
		return host.Lead{}, &host.Error{Code: host.CodeInternal, Message: "stored idempotent response is unreadable", Cause: err}
	}
	return b.store.GetLead(ctx, tenantID, ref.LeadID)
}

// checkLeadValues refuses what the write of a lead would certainly fail
// on, naming the canonical field: more fields than a driver call may carry
// (sdk.MaxFields); a value larger than one may (sdk.MaxFieldValueBytes,
// JSON-encoded); and a phone number that cannot exist in the connection's
// default region (sdk.NormalizePhone) in a field the host reads as a
// phone, "phone" or "<something>_phone". Other values are the CRM's to
// judge.
func checkLeadValues(fields map[string]any, region string) error {
	if len(fields) > sdk.MaxFields {
		return &host.Error{Code: host.CodeInvalid, Field: "fields", Message: fmt.Sprintf("has %d fields; at most %d are allowed", len(fields), sdk.MaxFields)}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fields[k]
		raw, err := json.Marshal(v)
		if err != nil {
			return &host.Error{Code: host.CodeInvalid, Field: "fields." + k, Message: "is not a JSON value"}
		}
		if len(raw) > sdk.MaxFieldValueBytes {
			return &host.Error{Code: host.CodeInvalid, Field: "fields." + k, Message: fmt.Sprintf(
				"is %d bytes; a CRM field value may be at most %d", len(raw), sdk.MaxFieldValueBytes)}
		}
		if s, ok := v.(string); ok && isPhoneKey(k) && strings.TrimSpace(s) != "" {
			if _, err := sdk.NormalizePhone(s, region); err != nil {
				var se *sdk.Error
				msg := err.Error()
				if errors.As(err, &se) {
					msg = se.Message
				}
				return &host.Error{Code: host.CodeInvalid, Field: "fields." + k, Message: msg}
			}
		}
	}
	return nil
}

// isPhoneKey reports whether a canonical key names a phone number.
func isPhoneKey(k string) bool { return k == "phone" || strings.HasSuffix(k, "_phone") }

// personOf hashes the phone (in E.164, when it parses in region) and the
// email of canonical fields, so an erasure finds the row.
func personOf(fields map[string]any, region string) (phone, email string) {
	if p, ok := fields["phone"].(string); ok && p != "" {
		if e164, err := sdk.NormalizePhone(p, region); err == nil {
			phone = host.PhoneHash(e164)
		}
	}
	if e, ok := fields["email"].(string); ok {
		email = host.EmailHash(e)
	}
	return phone, email
}

// LeadFingerprint is the idempotency fingerprint of a lead submission:
// the same for "email" and "lead.email". Errors: as canonicalLead.
func LeadFingerprint(fields map[string]any) (string, error) {
	canon, err := canonicalLead(fields)
	if err != nil {
		return "", err
	}
	return Fingerprint("submit_lead", canon)
}

// canonicalLead returns fields with "lead."-prefixed keys shortened.
// Errors: CodeInvalid naming "fields" when there are none or a key is
// given both ways.
func canonicalLead(fields map[string]any) (map[string]any, error) {
	if len(fields) == 0 {
		return nil, &host.Error{Code: host.CodeInvalid, Field: "fields", Message: "are required: a lead needs at least one field"}
	}
	out := make(map[string]any, len(fields))
	var twice []string
	for k, v := range fields {
		short := strings.TrimPrefix(k, LeadObject+".")
		if _, dup := out[short]; dup {
			twice = append(twice, LeadObject+"."+short)
		}
		out[short] = v
	}
	if len(twice) > 0 {
		sort.Strings(twice)
		return nil, &host.Error{Code: host.CodeInvalid, Field: "fields", Message: fmt.Sprintf(
			"%s given both with and without the %q prefix", strings.Join(twice, ", "), LeadObject+".")}
	}
	return out, nil
}

// GetLead returns the tenant's lead. Errors: CodeNotFound, also for
// another tenant's lead.
func (b *Broker) GetLead(ctx context.Context, tenantID, id string) (host.Lead, error) {
	return b.store.GetLead(ctx, tenantID, id)
}

// ListLeads returns a page of the tenant's leads, newest first (see
// host.LeadFilter for paging). Errors: CodeInvalid for an unknown status or
// cursor.
func (b *Broker) ListLeads(ctx context.Context, tenantID string, f host.LeadFilter) ([]host.Lead, error) {
	ls, err := b.store.ListLeads(ctx, tenantID, f)
	if err != nil {
		return nil, err
	}
	if ls == nil {
		ls = []host.Lead{}
	}
	return ls, nil
}

// leadActor is who writes leads: the host itself, with the lead's ID as the
// request ID so the write's audit rows (the credential decrypt among them)
// and driver logs point at the lead.
func leadActor(l host.Lead) Actor {
	return Actor{Type: host.ActorSystem, ID: "write_lead", RequestID: l.ID}
}

// WriteLead writes a stored lead to its tenant's CRM as the canonical
// object "lead" through the create path every CreateRecord takes (current
// mapping, audited decrypt, driver call, refresh on auth_error), with the
// lead's ID as idempotency key: the driver dedupes at the provider, so a
// retry after a lost response finds the record instead of duplicating it.
// It returns the record's external ID and URL; it does not change the
// lead (the job does). It implements host/jobs' LeadWriter. Errors:
// CodeNotFound (tenant), CodeNotConnected, CodeInvalid (the mapping no
// longer covers the fields, or the CRM refused them), the driver's codes,
// CodeDriverUnavailable.
func (b *Broker) WriteLead(ctx context.Context, l host.Lead) (externalID, recordURL string, err error) {
	a := leadActor(l)
	defer func() {
		if err != nil {
			b.record(ctx, a, l.TenantID, "lead.write", host.OutcomeError, l.ID+" "+string(host.CodeOf(err)))
		}
	}()
	s, err := b.open(ctx, a, l.TenantID)
	if err != nil {
		return "", "", err
	}
	obj, err := s.mapping.Object(LeadObject)
	if err == nil {
		err = s.supports(obj, sdk.VerbCreateRecord)
	}
	if err != nil {
		return "", "", err
	}
	fields, err := s.mapping.Write(LeadObject, l.Fields)
	if err != nil {
		return "", "", err
	}
	r, err := b.create(ctx, a, s, LeadObject, obj, fields, l.ID)
	if err != nil {
		return "", "", err
	}
	b.record(ctx, a, l.TenantID, "lead.write", host.OutcomeOK, l.ID+" "+obj+"/"+r.ExternalID)
	return r.ExternalID, r.RecordURL, nil
}
