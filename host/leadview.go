package host

import (
	"context"
	"fmt"
)

// LeadView serves the LeadStore over a MirrorStore: leads are mirrored
// rows of class lead. Both store adapters delegate their LeadStore
// methods to it.
type LeadView struct{ Rows MirrorStore }

// GetLead implements LeadStore.GetLead.
func (v LeadView) GetLead(ctx context.Context, tenantID, id string) (Lead, error) {
	r, err := v.Rows.GetMirrorRow(ctx, tenantID, id)
	if err == nil && r.Class != ClassLead {
		err = NotFound("lead %q of tenant %q not found", id, tenantID)
	}
	if err != nil {
		return Lead{}, err
	}
	return r.Lead(), nil
}

// ListLeads implements LeadStore.ListLeads.
func (v LeadView) ListLeads(ctx context.Context, tenantID string, f LeadFilter) ([]Lead, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, &Error{Code: CodeInvalid, Field: "status", Message: fmt.Sprintf("%q is not a lead status", f.Status)}
	}
	if f.Before != "" {
		if r, err := v.Rows.GetMirrorRow(ctx, tenantID, f.Before); err != nil || r.Class != ClassLead {
			if err != nil && CodeOf(err) != CodeNotFound {
				return nil, err
			}
			return nil, &Error{Code: CodeInvalid, Field: "before", Message: fmt.Sprintf("%q is not a lead of this tenant", f.Before)}
		}
	}
	rows, err := v.Rows.ListMirrorRows(ctx, tenantID, MirrorFilter{Class: ClassLead, State: MirrorState(f.Status), Before: f.Before, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]Lead, len(rows))
	for i, r := range rows {
		out[i] = r.Lead()
	}
	return out, nil
}

// MarkLeadWritten implements LeadStore.MarkLeadWritten.
func (v LeadView) MarkLeadWritten(ctx context.Context, tenantID, id, externalID, recordURL string) (Lead, error) {
	if _, err := v.GetLead(ctx, tenantID, id); err != nil {
		return Lead{}, err
	}
	r, err := v.Rows.MarkMirrorWritten(ctx, tenantID, id, externalID, recordURL)
	return r.Lead(), err
}

// MarkLeadAttempt implements LeadStore.MarkLeadAttempt.
func (v LeadView) MarkLeadAttempt(ctx context.Context, tenantID, id, lastError string, failed bool) (Lead, error) {
	if _, err := v.GetLead(ctx, tenantID, id); err != nil {
		return Lead{}, err
	}
	state := MirrorPending
	if failed {
		state = MirrorFailed
	}
	r, err := v.Rows.MarkMirrorAttempt(ctx, tenantID, id, lastError, state)
	return r.Lead(), err
}
