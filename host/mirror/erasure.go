package mirror

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
)

// Receipt is what an erasure did, step by step. It names the person only
// by hashed identifiers.
type Receipt struct {
	ID          string            `json:"id"`
	TenantID    string            `json:"tenant_id"`
	State       string            `json:"state"`
	Identifiers map[string]string `json:"identifiers"`
	Steps       []Step            `json:"steps"`
	// NothingFound: neither the host nor the CRM held anything of the
	// person.
	NothingFound bool `json:"nothing_found"`
	// ManualAction lists records the CRM cannot delete through its API:
	// an operator must delete them at the provider's dashboard.
	ManualAction *ManualAction `json:"manual_action,omitempty"`
	// Targets are the CRM records the erasure deletes (kept between runs:
	// the local rows that named them are gone once the first step ran).
	Targets []broker.FoundRecord `json:"targets,omitempty"`
}

// Step is one step's outcome: local (the host's rows of every class, with
// the idempotency records of their submissions), crm_lookup (records
// found at the CRM), crm_delete (one per record: erased, archived,
// not_found or manual_action).
type Step struct {
	Step       string                   `json:"step"`
	Outcome    string                   `json:"outcome"`
	Counts     map[host.MirrorClass]int `json:"counts,omitempty"`
	Object     string                   `json:"object,omitempty"`
	ExternalID string                   `json:"external_id,omitempty"`
	RecordURL  string                   `json:"record_url,omitempty"`
	Detail     string                   `json:"detail,omitempty"`
}

// ManualAction says what must be deleted by hand.
type ManualAction struct {
	Required bool                 `json:"required"`
	Reason   string               `json:"reason"`
	Records  []broker.FoundRecord `json:"records"`
}

// Forget starts the erasure of a person of the tenant, named by phone,
// email or CRM external id: a durable job (it survives a crash and runs
// again safely) that deletes the person's rows of every class here,
// which cancels their pending writes, then finds and erases their records
// at the CRM. It returns the erasure, running; ErasureReceipt shows how it
// went. Audited (erasure.request) with hashed identifiers only. Errors:
// CodeInvalid (no identifier, a bad phone), CodeNotFound (tenant).
func (s *Service) Forget(ctx context.Context, a broker.Actor, tenantID string, subject host.ErasureSubject) (host.Erasure, error) {
	subject.Phone, subject.Email, subject.ExternalID = strings.TrimSpace(subject.Phone), strings.TrimSpace(subject.Email), strings.TrimSpace(subject.ExternalID)
	if subject.Empty() {
		return host.Erasure{}, &host.Error{Code: host.CodeInvalid, Field: "phone", Message: "one of phone, email or external_id is required"}
	}
	for field, v := range map[string]string{"phone": subject.Phone, "email": subject.Email, "external_id": subject.ExternalID} {
		if err := checkText(field, v, 255); err != nil {
			return host.Erasure{}, err
		}
	}
	if _, err := s.o.Store.GetTenant(ctx, tenantID); err != nil {
		return host.Erasure{}, err
	}
	region, _ := s.o.Broker.DefaultRegion(ctx, tenantID)
	phone, email, err := personHashes(subject.Phone, subject.Email, region, "")
	if err != nil {
		return host.Erasure{}, err
	}
	e := host.Erasure{TenantID: tenantID, RequestedBy: a.ID, Subject: &subject, PhoneHash: phone, EmailHash: email,
		ExternalIDHash: host.PersonHash("external_id", subject.ExternalID)}
	e.ID = host.NewID(host.ErasureIDPrefix)
	r := Receipt{ID: e.ID, TenantID: tenantID, State: host.ErasureRunning, Identifiers: identifiers(e), Steps: []Step{}}
	if e.Receipt, err = json.Marshal(r); err != nil {
		return host.Erasure{}, err
	}
	out, err := s.o.Queue.EnqueueErasure(ctx, e)
	if err != nil {
		return host.Erasure{}, err
	}
	s.o.Broker.Audit(ctx, a, tenantID, "erasure.request", host.OutcomeOK, e.ID+" "+hashesText(r.Identifiers))
	return out, nil
}

// identifiers are the hashed identifiers of an erasure, for its receipt.
func identifiers(e host.Erasure) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"phone_sha256": e.PhoneHash, "email_sha256": e.EmailHash, "external_id_sha256": e.ExternalIDHash} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func hashesText(ids map[string]string) string {
	var parts []string
	for _, k := range []string{"phone_sha256", "email_sha256", "external_id_sha256"} {
		if v := ids[k]; v != "" {
			parts = append(parts, k+"="+v[:16])
		}
	}
	return strings.Join(parts, " ")
}

// ErasureReceipt returns the tenant's erasure's receipt. Errors:
// CodeNotFound.
func (s *Service) ErasureReceipt(ctx context.Context, tenantID, id string) (Receipt, error) {
	e, err := s.o.Store.GetErasure(ctx, tenantID, id)
	if err != nil {
		return Receipt{}, err
	}
	var r Receipt
	if err := json.Unmarshal(e.Receipt, &r); err != nil {
		return Receipt{}, fmt.Errorf("mirror: erasure %s: receipt: %w", id, err)
	}
	r.State = e.State
	return r, nil
}

// ErasureListing is one erasure of a list: its receipt and when and by
// whom it was asked for.
type ErasureListing struct {
	Receipt
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
}

// Erasures lists the tenant's erasures, newest first, a page of at most
// limit after the erasure before ("" for the first page). Errors:
// CodeNotFound (no such tenant), CodeInvalid (a bad cursor).
func (s *Service) Erasures(ctx context.Context, tenantID, before string, limit int) ([]ErasureListing, error) {
	if _, err := s.o.Store.GetTenant(ctx, tenantID); err != nil {
		return nil, err
	}
	es, err := s.o.Store.ListErasures(ctx, tenantID, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ErasureListing, 0, len(es))
	for _, e := range es {
		var r Receipt
		if err := json.Unmarshal(e.Receipt, &r); err != nil {
			return nil, fmt.Errorf("mirror: erasure %s: receipt: %w", e.ID, err)
		}
		r.ID, r.TenantID, r.State = e.ID, e.TenantID, e.State
		out = append(out, ErasureListing{Receipt: r, RequestedBy: e.RequestedBy, CreatedAt: e.CreatedAt, FinishedAt: e.FinishedAt})
	}
	return out, nil
}

// RunningWrites counts the jobs writing any of rows to the CRM right now
// (host/jobs' Runner implements it).
type RunningWrites func(ctx context.Context, tenantID string, rowIDs []string) (int, error)

// Erase runs the erasure's steps; the erasure job calls it, and calls it
// again after a crash or an error: every step is safe to repeat, and the
// receipt keeps what earlier runs did. The person's local rows go first
// (their pending jobs then find nothing to write and end), but only once
// no write of theirs is in flight (running reports them: WaitingError
// until they end), so nothing reaches the CRM after the lookup there.
// Errors: WaitingError, the broker's (retried by the job).
func (s *Service) Erase(ctx context.Context, tenantID, id string, running RunningWrites) error {
	e, err := s.o.Store.GetErasure(ctx, tenantID, id)
	if err != nil || e.State == host.ErasureDone {
		return err
	}
	var r Receipt
	if err := json.Unmarshal(e.Receipt, &r); err != nil {
		return fmt.Errorf("mirror: erasure %s: receipt: %w", id, err)
	}
	save := func(done bool) error {
		if done {
			r.State = host.ErasureDone
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = s.o.Store.SaveErasureReceipt(ctx, tenantID, id, raw, done)
		return err
	}
	subject := host.ErasureSubject{}
	if e.Subject != nil {
		subject = *e.Subject
	}
	a := broker.Actor{Type: host.ActorSystem, ID: "erasure", RequestID: id}
	if !r.did("local") {
		rows, err := s.o.Store.FindPersonRows(ctx, tenantID, host.PersonMatch{PhoneHash: e.PhoneHash, EmailHash: e.EmailHash, ExternalID: subject.ExternalID})
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(rows))
		counts := map[host.MirrorClass]int{}
		for _, row := range rows {
			ids = append(ids, row.ID)
			counts[row.Class]++
			if row.ExternalID != "" && row.Class != host.ClassMessage {
				r.addTarget(broker.FoundRecord{Object: objectOf(row.Class), ExternalID: row.ExternalID, RecordURL: row.RecordURL})
			}
		}
		if n, err := running(ctx, tenantID, ids); err != nil || n > 0 {
			if err != nil {
				return err
			}
			return &WaitingError{For: fmt.Sprintf("%d writes in flight", n)}
		}
		if err := save(false); err != nil { // the targets, before the rows naming them go
			return err
		}
		if _, err := s.o.Store.DeleteMirrorRows(ctx, tenantID, ids); err != nil {
			return err
		}
		r.Steps = append(r.Steps, Step{Step: "local", Outcome: "deleted", Counts: counts})
		if err := save(false); err != nil {
			return err
		}
	}
	if !r.did("crm_lookup") {
		found, err := s.o.Broker.FindPerson(ctx, a, tenantID, broker.LookupInput{Phone: subject.Phone, Email: subject.Email, ExternalID: subject.ExternalID}, map[string]bool{})
		if err != nil && host.CodeOf(err) != host.CodeNotConnected {
			return err
		}
		for _, f := range found {
			r.addTarget(f)
		}
		outcome := fmt.Sprintf("%d found", len(found))
		if err != nil {
			outcome = "skipped: " + broker.ErrorText(err)
		}
		r.Steps = append(r.Steps, Step{Step: "crm_lookup", Outcome: outcome})
		if err := save(false); err != nil {
			return err
		}
	}
	for _, t := range r.Targets {
		if r.deleted(t) {
			continue
		}
		st := Step{Step: "crm_delete", Object: t.Object, ExternalID: t.ExternalID, RecordURL: t.RecordURL}
		res, err := s.o.Broker.ForgetRecord(ctx, a, tenantID, t.Object, t.ExternalID)
		switch code := host.CodeOf(err); {
		case err == nil && res.HardDeleted:
			st.Outcome = "erased"
		case err == nil:
			st.Outcome = "archived"
			st.Detail = "the CRM keeps the record restorable (archive or recycle bin) until it empties it"
		case code == host.ErrorCode(sdk.CodeNotFound):
			st.Outcome = "not_found"
		case code == host.ErrorCode(sdk.CodeDeleteUnsupported) || code == host.ErrorCode(sdk.CodeUnsupported) || code == host.CodeNotConnected:
			st.Outcome, st.Detail = "manual_action", broker.ErrorText(err)
			if r.ManualAction == nil {
				r.ManualAction = &ManualAction{Required: true, Reason: "the CRM cannot delete these records through its API: delete them at the provider's dashboard"}
			}
			r.ManualAction.Records = append(r.ManualAction.Records, t)
			s.o.Broker.Audit(ctx, a, tenantID, "erasure.manual_action", host.OutcomeError, fmt.Sprintf("%s %s/%s %s", id, t.Object, t.ExternalID, host.CodeOf(err)))
		default:
			_ = save(false)
			return err // retried by the job; the receipt keeps what is done
		}
		r.Steps = append(r.Steps, st)
		if err := save(false); err != nil {
			return err
		}
	}
	r.NothingFound = len(r.Targets) == 0 && r.localCount() == 0
	if err := save(true); err != nil {
		return err
	}
	s.o.Broker.Audit(ctx, a, tenantID, "erasure.done", host.OutcomeOK, fmt.Sprintf("%s %s %s", id, hashesText(r.Identifiers), r.summary()))
	return nil
}

// objectOf is the canonical object a class is written as.
func objectOf(c host.MirrorClass) string {
	if c == host.ClassMessage {
		return sdk.ObjectConversation
	}
	return string(c)
}

func (r *Receipt) did(step string) bool {
	for _, s := range r.Steps {
		if s.Step == step {
			return true
		}
	}
	return false
}

// addTarget adds a record to delete, once: the same record may be found
// under two canonical objects that map to one provider object (a lead kept
// as a contact), which its record URL tells.
func (r *Receipt) addTarget(f broker.FoundRecord) {
	for _, t := range r.Targets {
		if (t.Object == f.Object && t.ExternalID == f.ExternalID) || (t.RecordURL != "" && t.RecordURL == f.RecordURL) {
			return
		}
	}
	r.Targets = append(r.Targets, f)
}

func (r *Receipt) deleted(t broker.FoundRecord) bool {
	for _, s := range r.Steps {
		if s.Step == "crm_delete" && s.Object == t.Object && s.ExternalID == t.ExternalID {
			return true
		}
	}
	return false
}

func (r *Receipt) localCount() int {
	n := 0
	for _, s := range r.Steps {
		for _, c := range s.Counts {
			n += c
		}
	}
	return n
}

func (r *Receipt) summary() string {
	counts := map[string]int{}
	for _, s := range r.Steps {
		if s.Step == "crm_delete" {
			counts[s.Outcome]++
		}
	}
	return fmt.Sprintf("local=%d erased=%d archived=%d not_found=%d manual_action=%d", r.localCount(),
		counts["erased"], counts["archived"], counts["not_found"], counts["manual_action"])
}
