package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testIncidents(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "incidents")
	other := mustTenant(t, s, "incidents-other")
	inc := host.Incident{TenantID: tn.ID, Kind: host.IncidentKindSyncFailure, Counts: map[host.MirrorClass]int{host.ClassMessage: 3},
		OldestID: "msg_1", OldestAt: at(0), LastError: "unavailable: 503", UpdatedAt: at(time.Hour)}
	first, opened, err := s.OpenIncident(ctx, inc)
	must(t, "OpenIncident", err)
	if !opened || first.State != host.IncidentOpen || first.ID == "" || first.Counts[host.ClassMessage] != 3 || !first.OpenedAt.Equal(at(time.Hour)) {
		t.Errorf("opened %+v (%v)", first, opened)
	}
	inc.Counts = map[host.MirrorClass]int{host.ClassMessage: 4, host.ClassCustomer: 1}
	inc.UpdatedAt = at(2 * time.Hour)
	again, opened, err := s.OpenIncident(ctx, inc)
	must(t, "OpenIncident again", err)
	if opened || again.ID != first.ID || again.Counts[host.ClassCustomer] != 1 || !again.OpenedAt.Equal(first.OpenedAt) {
		t.Errorf("second open %+v (%v), want the first updated", again, opened)
	}
	_, _, err = s.OpenIncident(ctx, host.Incident{TenantID: tn.ID})
	wantCode(t, "incident without a kind", err, host.CodeInvalid)
	open, err := s.ListIncidents(ctx, "", host.IncidentOpen, 0)
	must(t, "ListIncidents", err)
	if len(open) != 1 || open[0].ID != first.ID {
		t.Errorf("open incidents %+v", open)
	}
	pending, err := s.UnnotifiedIncidents(ctx, 10)
	must(t, "UnnotifiedIncidents", err)
	if len(pending) != 1 {
		t.Errorf("unnotified %+v, want the open one", pending)
	}
	must(t, "SetIncidentNotified", s.SetIncidentNotified(ctx, first.ID, host.IncidentOpen))
	wantCode(t, "notify a missing incident", s.SetIncidentNotified(ctx, "inc_missing", host.IncidentOpen), host.CodeNotFound)
	res, err := s.ResolveIncident(ctx, tn.ID, at(3*time.Hour))
	must(t, "ResolveIncident", err)
	if res.State != host.IncidentResolved || res.ResolvedAt == nil || !res.ResolvedAt.Equal(at(3*time.Hour)) {
		t.Errorf("resolved %+v", res)
	}
	_, err = s.ResolveIncident(ctx, tn.ID, at(4*time.Hour))
	wantCode(t, "resolve with none open", err, host.CodeNotFound)
	pending, err = s.UnnotifiedIncidents(ctx, 10)
	must(t, "UnnotifiedIncidents", err)
	if len(pending) != 1 || pending[0].State != host.IncidentResolved {
		t.Errorf("unnotified after resolving %+v, want the resolution", pending)
	}
	// A new incident opens after a resolved one; tenants do not mix.
	_, opened, err = s.OpenIncident(ctx, inc)
	must(t, "reopen", err)
	all, err := s.ListIncidents(ctx, tn.ID, "", 0)
	must(t, "ListIncidents all", err)
	none, err := s.ListIncidents(ctx, other.ID, "", 0)
	must(t, "ListIncidents other", err)
	if !opened || len(all) != 2 || len(none) != 0 {
		t.Errorf("after reopening: opened %v, %d incidents, %d of the other tenant", opened, len(all), len(none))
	}
}

func testErasures(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "erasures")
	other := mustTenant(t, s, "erasures-other")
	e, err := s.CreateErasure(ctx, host.Erasure{TenantID: tn.ID, RequestedBy: "alice", Subject: &host.ErasureSubject{Phone: "+14155550100"},
		PhoneHash: host.PhoneHash("+14155550100"), Receipt: []byte(`{"steps":[]}`)})
	must(t, "CreateErasure", err)
	if e.State != host.ErasureRunning || e.Subject == nil || e.Subject.Phone != "+14155550100" || e.ID == "" {
		t.Errorf("created %+v", e)
	}
	_, err = s.CreateErasure(ctx, host.Erasure{TenantID: tn.ID, Subject: &host.ErasureSubject{}})
	wantCode(t, "erasure of nobody", err, host.CodeInvalid)
	_, err = s.GetErasure(ctx, other.ID, e.ID)
	wantCode(t, "another tenant's erasure", err, host.CodeNotFound)
	got, err := s.SaveErasureReceipt(ctx, tn.ID, e.ID, []byte(`{"steps":[{"step":"local"}]}`), false)
	must(t, "SaveErasureReceipt", err)
	if got.State != host.ErasureRunning || got.Subject == nil {
		t.Errorf("after saving progress %+v", got)
	}
	done, err := s.SaveErasureReceipt(ctx, tn.ID, e.ID, []byte(`{"steps":[{"step":"local"}],"state":"done"}`), true)
	must(t, "finish", err)
	if done.State != host.ErasureDone || done.Subject != nil || done.FinishedAt == nil || done.PhoneHash != e.PhoneHash {
		t.Errorf("done %+v: want done, the subject dropped, the hash kept", done)
	}
	back, err := s.GetErasure(ctx, tn.ID, e.ID)
	must(t, "GetErasure", err)
	if back.Subject != nil || string(back.Receipt) == "" {
		t.Errorf("read back %+v", back)
	}

	// Pages, newest first, of the tenant's erasures only.
	ids := []string{e.ID}
	for i := range 4 {
		n, err := s.CreateErasure(ctx, host.Erasure{TenantID: tn.ID, Subject: &host.ErasureSubject{Email: fmt.Sprintf("p%d@example.com", i)}, Receipt: []byte(`{}`)})
		must(t, "CreateErasure", err)
		ids = append(ids, n.ID)
	}
	_, err = s.CreateErasure(ctx, host.Erasure{TenantID: other.ID, Subject: &host.ErasureSubject{ExternalID: "x"}, Receipt: []byte(`{}`)})
	must(t, "CreateErasure other", err)
	var listed []host.Erasure
	before := ""
	for range 5 {
		page, err := s.ListErasures(ctx, tn.ID, before, 2)
		must(t, "ListErasures", err)
		if len(page) > 2 {
			t.Fatalf("a page of %d, limit 2", len(page))
		}
		listed = append(listed, page...)
		if len(page) < 2 {
			break
		}
		before = page[len(page)-1].ID
	}
	var listedIDs []string
	for i, l := range listed {
		listedIDs = append(listedIDs, l.ID)
		if i > 0 {
			prev := listed[i-1]
			if l.CreatedAt.After(prev.CreatedAt) || l.CreatedAt.Equal(prev.CreatedAt) && l.ID > prev.ID {
				t.Errorf("erasure %s listed after %s: want newest first (then by id)", l.ID, prev.ID)
			}
		}
	}
	slices.Sort(listedIDs)
	slices.Sort(ids)
	if !slices.Equal(listedIDs, ids) {
		t.Errorf("listed %v, want each of %v once", listedIDs, ids)
	}
	_, err = s.ListErasures(ctx, other.ID, e.ID, 2)
	wantCode(t, "another tenant's erasure as the cursor", err, host.CodeInvalid)
}
