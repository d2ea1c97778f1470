package storetest

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testLeads(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "leads")
	other := mustTenant(t, s, "leads-other")
	fields := map[string]any{"first_name": "Ada", "email": "ada@example.com", "budget_max": 2500.5, "tags": []any{"a", "b"}}

	var generated host.Lead
	t.Run("CreateGenerated", func(t *testing.T) {
		got, err := s.CreateLead(ctx, host.Lead{TenantID: tn.ID, Fields: fields, IdempotencyKey: "key-1",
			// Ignored on create:
			Status: host.LeadWritten, ExternalID: "x", RecordURL: "u", Attempts: 7, LastError: "e", WrittenAt: ptr(t0)})
		must(t, "CreateLead", err)
		if !strings.HasPrefix(got.ID, host.LeadIDPrefix) || len(got.ID) <= len(host.LeadIDPrefix)+16 {
			t.Errorf("generated ID %q: want %q and at least 16 random characters", got.ID, host.LeadIDPrefix)
		}
		checkStamp(t, "CreatedAt", got.CreatedAt)
		want := host.Lead{ID: got.ID, TenantID: tn.ID, Fields: fields, IdempotencyKey: "key-1", Status: host.LeadPending,
			CreatedAt: got.CreatedAt, UpdatedAt: got.CreatedAt}
		diff(t, "CreateLead", want, got)
		back, err := s.GetLead(ctx, tn.ID, got.ID)
		must(t, "GetLead", err)
		diff(t, "GetLead", want, back)
		generated = back
	})

	// Three leads at t0, t0+1m (twice, to test the tie-break by ID) and t0+2m.
	explicit := []host.Lead{
		{ID: "lead_a", TenantID: tn.ID, Fields: map[string]any{"n": 1.0}, CreatedAt: at(0)},
		{ID: "lead_c", TenantID: tn.ID, Fields: map[string]any{"n": 2.0}, CreatedAt: at(time.Minute)},
		{ID: "lead_b", TenantID: tn.ID, Fields: map[string]any{"n": 3.0}, CreatedAt: at(time.Minute)},
		{ID: "lead_d", TenantID: tn.ID, Fields: map[string]any{"n": 4.0}, CreatedAt: at(2 * time.Minute).In(time.FixedZone("X", 3600)).Add(999)},
	}
	t.Run("CreateExplicit", func(t *testing.T) {
		for i, l := range explicit {
			got, err := s.CreateLead(ctx, l)
			must(t, "CreateLead "+l.ID, err)
			l.Status = host.LeadPending
			l.CreatedAt = l.CreatedAt.UTC().Truncate(time.Microsecond)
			l.UpdatedAt = l.CreatedAt
			diff(t, "CreateLead "+l.ID, l, got)
			explicit[i] = got
		}
		if loc := explicit[3].CreatedAt.Location(); loc != time.UTC {
			t.Errorf("CreatedAt location %v, want UTC", loc)
		}
	})
	// Newest first; generated was stamped now, after t0.
	a, b, c, d := explicit[0], explicit[2], explicit[1], explicit[3]

	t.Run("ListAndPage", func(t *testing.T) {
		all, err := s.ListLeads(ctx, tn.ID, host.LeadFilter{})
		must(t, "ListLeads", err)
		diff(t, "ListLeads", []host.Lead{generated, d, c, b, a}, all)

		var pages [][]host.Lead
		before := ""
		for range 4 {
			page, err := s.ListLeads(ctx, tn.ID, host.LeadFilter{Before: before, Limit: 2})
			must(t, "ListLeads page", err)
			pages = append(pages, page)
			if len(page) == 0 {
				break
			}
			before = page[len(page)-1].ID
		}
		diff(t, "pages", [][]host.Lead{{generated, d}, {c, b}, {a}, {}}, pages)

		none, err := s.ListLeads(ctx, other.ID, host.LeadFilter{})
		must(t, "ListLeads other tenant", err)
		diff(t, "ListLeads of another tenant", []host.Lead{}, none)
	})

	t.Run("Attempts", func(t *testing.T) {
		got, err := s.MarkLeadAttempt(ctx, tn.ID, a.ID, "unavailable: the provider answered 503", false)
		must(t, "MarkLeadAttempt", err)
		if got.Status != host.LeadPending || got.Attempts != 1 || got.LastError != "unavailable: the provider answered 503" {
			t.Errorf("after one attempt: %+v", got)
		}
		checkStamp(t, "UpdatedAt", got.UpdatedAt)
		if !got.UpdatedAt.After(got.CreatedAt) {
			t.Errorf("UpdatedAt %v not after CreatedAt %v", got.UpdatedAt, got.CreatedAt)
		}
		long := strings.Repeat("é", host.MaxLeadError) // two bytes each
		got, err = s.MarkLeadAttempt(ctx, tn.ID, a.ID, long, true)
		must(t, "MarkLeadAttempt failed", err)
		if got.Status != host.LeadFailed || got.Attempts != 2 || got.WrittenAt != nil {
			t.Errorf("after a final attempt: %+v", got)
		}
		if want := strings.Repeat("é", host.MaxLeadError/2); got.LastError != want {
			t.Errorf("LastError has %d bytes, want %d (truncated on a rune boundary)", len(got.LastError), len(want))
		}
		back, err := s.GetLead(ctx, tn.ID, a.ID)
		must(t, "GetLead", err)
		diff(t, "GetLead after attempts", got, back)

		_, err = s.MarkLeadAttempt(ctx, tn.ID, a.ID, "again", false)
		wantCode(t, "MarkLeadAttempt on a failed lead", err, host.CodeConflict)

		failed, err := s.ListLeads(ctx, tn.ID, host.LeadFilter{Status: host.LeadFailed})
		must(t, "ListLeads failed", err)
		diff(t, "failed leads", []host.Lead{back}, failed)
	})

	t.Run("Written", func(t *testing.T) {
		_, err := s.MarkLeadAttempt(ctx, tn.ID, b.ID, "rate_limited: slow down", false)
		must(t, "MarkLeadAttempt", err)
		got, err := s.MarkLeadWritten(ctx, tn.ID, b.ID, "ext-1", "https://crm.example/ext-1")
		must(t, "MarkLeadWritten", err)
		if got.Status != host.LeadWritten || got.ExternalID != "ext-1" || got.RecordURL != "https://crm.example/ext-1" ||
			got.Attempts != 2 || got.LastError != "" || got.WrittenAt == nil || !got.WrittenAt.Equal(got.UpdatedAt) {
			t.Errorf("written lead: %+v", got)
		}
		checkStamp(t, "WrittenAt", *got.WrittenAt)
		back, err := s.GetLead(ctx, tn.ID, b.ID)
		must(t, "GetLead", err)
		diff(t, "GetLead after written", got, back)

		_, err = s.MarkLeadWritten(ctx, tn.ID, b.ID, "ext-2", "")
		wantCode(t, "MarkLeadWritten twice", err, host.CodeConflict)
		_, err = s.MarkLeadAttempt(ctx, tn.ID, b.ID, "late", true)
		wantCode(t, "MarkLeadAttempt on a written lead", err, host.CodeConflict)

		// The CRM is the truth: a failed lead that turns out written is.
		got, err = s.MarkLeadWritten(ctx, tn.ID, a.ID, "ext-a", "")
		must(t, "MarkLeadWritten of a failed lead", err)
		if got.Status != host.LeadWritten || got.Attempts != 3 || got.LastError != "" {
			t.Errorf("failed lead marked written: %+v", got)
		}

		written, err := s.ListLeads(ctx, tn.ID, host.LeadFilter{Status: host.LeadWritten})
		must(t, "ListLeads written", err)
		if len(written) != 2 || written[0].ID != b.ID || written[1].ID != a.ID {
			t.Errorf("written leads %v, want [%s %s]", leadIDs(written), b.ID, a.ID)
		}
		pending, err := s.ListLeads(ctx, tn.ID, host.LeadFilter{Status: host.LeadPending, Before: d.ID})
		must(t, "ListLeads pending before d", err)
		if len(pending) != 1 || pending[0].ID != c.ID {
			t.Errorf("pending leads before %s: %v, want [%s]", d.ID, leadIDs(pending), c.ID)
		}
	})

	// Another tenant's lead is indistinguishable from a missing one.
	t.Run("Isolation", func(t *testing.T) {
		theirs, err := s.CreateLead(ctx, host.Lead{TenantID: other.ID, Fields: map[string]any{"n": 9.0}})
		must(t, "CreateLead other", err)
		for _, id := range []string{c.ID, "lead_missing"} {
			_, err := s.GetLead(ctx, other.ID, id)
			wantCode(t, "GetLead "+id+" as another tenant", err, host.CodeNotFound)
			_, err = s.MarkLeadWritten(ctx, other.ID, id, "x", "")
			wantCode(t, "MarkLeadWritten "+id+" as another tenant", err, host.CodeNotFound)
			_, err = s.MarkLeadAttempt(ctx, other.ID, id, "x", true)
			wantCode(t, "MarkLeadAttempt "+id+" as another tenant", err, host.CodeNotFound)
			_, err = s.ListLeads(ctx, other.ID, host.LeadFilter{Before: id})
			wantCode(t, "ListLeads before "+id+" as another tenant", err, host.CodeInvalid)
		}
		mine, err := s.GetLead(ctx, tn.ID, c.ID)
		must(t, "GetLead", err)
		diff(t, "lead untouched by another tenant's calls", c, mine)
		list, err := s.ListLeads(ctx, other.ID, host.LeadFilter{})
		must(t, "ListLeads other", err)
		diff(t, "other tenant's leads", []host.Lead{theirs}, list)
	})

	runErrors(t, []errorCase{
		{"CreateDuplicateID", func(ctx context.Context) error {
			_, err := s.CreateLead(ctx, host.Lead{ID: a.ID, TenantID: other.ID, Fields: fields})
			return err
		}, host.CodeConflict},
		{"CreateUnknownTenant", func(ctx context.Context) error {
			_, err := s.CreateLead(ctx, host.Lead{TenantID: "ten_missing", Fields: fields})
			return err
		}, host.CodeNotFound},
		{"CreateNoTenant", func(ctx context.Context) error {
			_, err := s.CreateLead(ctx, host.Lead{Fields: fields})
			return err
		}, host.CodeInvalid},
		{"CreateNoFields", func(ctx context.Context) error {
			_, err := s.CreateLead(ctx, host.Lead{TenantID: tn.ID, Fields: map[string]any{}})
			return err
		}, host.CodeInvalid},
		{"CreateLongKey", func(ctx context.Context) error {
			_, err := s.CreateLead(ctx, host.Lead{TenantID: tn.ID, Fields: fields, IdempotencyKey: strings.Repeat("k", host.MaxLeadKey+1)})
			return err
		}, host.CodeInvalid},
		{"CreateUnencodable", func(ctx context.Context) error {
			_, err := s.CreateLead(ctx, host.Lead{TenantID: tn.ID, Fields: map[string]any{"n": math.NaN()}})
			return err
		}, host.CodeInvalid},
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetLead(ctx, tn.ID, "lead_missing")
			return err
		}, host.CodeNotFound},
		{"ListUnknownStatus", func(ctx context.Context) error {
			_, err := s.ListLeads(ctx, tn.ID, host.LeadFilter{Status: "lost"})
			return err
		}, host.CodeInvalid},
	})

	t.Run("TenantDeleteCascades", func(t *testing.T) {
		must(t, "DeleteTenant", s.DeleteTenant(ctx, other.ID))
		list, err := s.ListLeads(ctx, other.ID, host.LeadFilter{})
		must(t, "ListLeads", err)
		diff(t, "leads of a deleted tenant", []host.Lead{}, list)
		all, err := s.ListLeads(ctx, tn.ID, host.LeadFilter{})
		must(t, "ListLeads", err)
		if len(all) != 5 {
			t.Errorf("%d leads left for the remaining tenant, want 5", len(all))
		}
	})
}

func leadIDs(ls []host.Lead) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}
