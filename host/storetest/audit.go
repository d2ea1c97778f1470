package storetest

import (
	"context"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testAudit(t *testing.T, s host.Store) {
	ctx := t.Context()

	// 12 entries, one a minute from t0: tenants a and b alternate, actions
	// cycle through three, one host-wide entry at the end.
	actions := []string{"credential.decrypt", "record.create", "record.update"}
	var all []host.AuditEntry
	for i := range 12 {
		e := host.AuditEntry{
			At:             at(time.Duration(i) * time.Minute),
			TenantID:       []string{"ten_a", "ten_b"}[i%2],
			ActorType:      host.ActorTool,
			ActorID:        "agent-1",
			Action:         actions[i%3],
			RequestID:      name("req", i),
			ConversationID: name("conv", i),
			Outcome:        host.OutcomeOK,
			Detail:         "object=lead",
		}
		if i == 11 {
			e.TenantID, e.ActorType, e.Action, e.Outcome = "", host.ActorSystem, "kek.rotate", host.OutcomeError
		}
		got, err := s.AppendAudit(ctx, e)
		must(t, "AppendAudit", err)
		if got.ID <= 0 || (len(all) > 0 && got.ID <= all[len(all)-1].ID) {
			t.Fatalf("AppendAudit ID %d: want positive and increasing", got.ID)
		}
		e.ID = got.ID
		diff(t, "AppendAudit", e, got)
		all = append(all, got)
	}
	// newest returns the entries for which keep is true, newest first.
	newest := func(keep func(i int, e host.AuditEntry) bool) []host.AuditEntry {
		var out []host.AuditEntry
		for i := len(all) - 1; i >= 0; i-- {
			if keep(i, all[i]) {
				out = append(out, all[i])
			}
		}
		return out
	}

	tests := []struct {
		name string
		f    host.AuditFilter
		want []host.AuditEntry
	}{
		{"All", host.AuditFilter{}, newest(func(int, host.AuditEntry) bool { return true })},
		{"Tenant", host.AuditFilter{TenantID: "ten_a"}, newest(func(i int, e host.AuditEntry) bool { return e.TenantID == "ten_a" })},
		{"Action", host.AuditFilter{Action: "record.create"}, newest(func(i int, e host.AuditEntry) bool { return e.Action == "record.create" })},
		{"TenantAndAction", host.AuditFilter{TenantID: "ten_b", Action: "credential.decrypt"},
			newest(func(i int, e host.AuditEntry) bool { return e.TenantID == "ten_b" && e.Action == "credential.decrypt" })},
		{"Since", host.AuditFilter{Since: at(9 * time.Minute)}, newest(func(i int, _ host.AuditEntry) bool { return i >= 9 })},
		{"Until", host.AuditFilter{Until: at(2 * time.Minute)}, newest(func(i int, _ host.AuditEntry) bool { return i < 2 })},
		{"SinceUntilSubMicro", host.AuditFilter{Since: at(3*time.Minute + 1), Until: at(5*time.Minute + 1)},
			newest(func(i int, _ host.AuditEntry) bool { return i == 4 || i == 5 })},
		{"Window", host.AuditFilter{Since: at(3 * time.Minute), Until: at(6 * time.Minute), TenantID: "ten_b"},
			newest(func(i int, _ host.AuditEntry) bool { return i == 3 || i == 5 })},
		{"Limit", host.AuditFilter{Limit: 3}, newest(func(i int, _ host.AuditEntry) bool { return i >= 9 })},
		{"BeforeID", host.AuditFilter{BeforeID: all[2].ID}, newest(func(i int, _ host.AuditEntry) bool { return i < 2 })},
		{"Outcome", host.AuditFilter{Outcome: host.OutcomeError}, newest(func(i int, _ host.AuditEntry) bool { return i == 11 })},
		{"Actor", host.AuditFilter{ActorID: "agent-1", TenantID: "ten_a"}, newest(func(i int, e host.AuditEntry) bool { return e.TenantID == "ten_a" })},
		{"RequestID", host.AuditFilter{RequestID: name("req", 4)}, newest(func(i int, _ host.AuditEntry) bool { return i == 4 })},
		{"ConversationID", host.AuditFilter{ConversationID: name("conv", 7)}, newest(func(i int, _ host.AuditEntry) bool { return i == 7 })},
		{"NoMatch", host.AuditFilter{TenantID: "ten_none"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.f)
			must(t, "ListAudit", err)
			diff(t, "ListAudit", tc.want, got)
		})
	}

	t.Run("Paging", func(t *testing.T) {
		var got []host.AuditEntry
		f := host.AuditFilter{TenantID: "ten_a", Limit: 2}
		for range 10 {
			page, err := s.ListAudit(ctx, f)
			must(t, "ListAudit", err)
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			f.BeforeID = page[len(page)-1].ID
		}
		diff(t, "pages", newest(func(i int, e host.AuditEntry) bool { return e.TenantID == "ten_a" }), got)
	})

	t.Run("Stamp", func(t *testing.T) {
		got, err := s.AppendAudit(ctx, host.AuditEntry{ActorType: host.ActorOperator, Action: "tenant.create", Outcome: host.OutcomeOK})
		must(t, "AppendAudit", err)
		checkStamp(t, "At", got.At)
	})

	t.Run("Batch", func(t *testing.T) {
		batch := []host.AuditEntry{
			{TenantID: "ten_batch", ActorType: host.ActorTool, Action: "credential.decrypt", RequestID: "req-b1", Outcome: host.OutcomeOK},
			{TenantID: "ten_batch", ActorType: host.ActorTool, Action: "credential.decrypt", RequestID: "req-b2", Outcome: host.OutcomeOK},
			{TenantID: "ten_batch", ActorType: host.ActorSystem, Action: "credential.refresh", RequestID: "req-b3", Outcome: host.OutcomeError},
		}
		must(t, "AppendAudits", s.AppendAudits(ctx, batch))
		got, err := s.ListAudit(ctx, host.AuditFilter{TenantID: "ten_batch"})
		must(t, "ListAudit", err)
		if len(got) != 3 || got[0].RequestID != "req-b3" || got[2].RequestID != "req-b1" || got[0].ID <= got[1].ID {
			t.Fatalf("ListAudit after AppendAudits = %+v, want the 3 entries newest first", got)
		}
		for _, e := range got {
			checkStamp(t, "At", e.At)
		}
		// One invalid entry stores none of the batch.
		invalid := append([]host.AuditEntry{{TenantID: "ten_batch2", ActorType: host.ActorTool, Action: "x", Outcome: host.OutcomeOK}},
			host.AuditEntry{TenantID: "ten_batch2", ActorType: "robot", Action: "x", Outcome: host.OutcomeOK})
		if err := s.AppendAudits(ctx, invalid); host.CodeOf(err) != host.CodeInvalid {
			t.Fatalf("AppendAudits with an invalid entry = %v, want invalid", err)
		}
		if got, _ := s.ListAudit(ctx, host.AuditFilter{TenantID: "ten_batch2"}); len(got) != 0 {
			t.Fatalf("a refused batch stored %d entries", len(got))
		}
		must(t, "AppendAudits(nil)", s.AppendAudits(ctx, nil))
	})

	t.Run("BigBatch", func(t *testing.T) {
		// More entries than one statement takes: all stored, in order.
		const n = 1203
		batch := make([]host.AuditEntry, n)
		for i := range batch {
			batch[i] = host.AuditEntry{TenantID: "ten_big", ActorType: host.ActorSystem, Action: "x.batch", RequestID: name("req", i), Outcome: host.OutcomeOK}
		}
		must(t, "AppendAudits", s.AppendAudits(ctx, batch))
		var got []host.AuditEntry
		for before := int64(0); ; {
			page, err := s.ListAudit(ctx, host.AuditFilter{TenantID: "ten_big", BeforeID: before, Limit: host.MaxListLimit})
			must(t, "ListAudit", err)
			got = append(got, page...)
			if len(page) < host.MaxListLimit {
				break
			}
			before = page[len(page)-1].ID
		}
		if len(got) != n {
			t.Fatalf("%d entries stored of a batch of %d", len(got), n)
		}
		for i, e := range got { // newest first: the batch's last entry first
			if want := name("req", n-1-i); e.RequestID != want {
				t.Fatalf("entry %d from the newest is %s, want %s: the batch's order is lost", i, e.RequestID, want)
			}
		}
	})

	t.Run("Prune", func(t *testing.T) {
		// Entries 0-4 are before t0+5m; 5-11 and the batch's (stamped now)
		// are not.
		_, err := s.PruneAudit(ctx, at(5*time.Minute), 0)
		wantCode(t, "PruneAudit limit 0", err, host.CodeInvalid)
		n, err := s.PruneAudit(ctx, at(5*time.Minute), 2)
		must(t, "PruneAudit", err)
		diff(t, "first batch of two", int64(2), n)
		left, err := s.ListAudit(ctx, host.AuditFilter{Until: at(5 * time.Minute)})
		must(t, "ListAudit", err)
		diff(t, "left before t0+5m after a batch of two (the oldest went)", newest(func(i int, _ host.AuditEntry) bool { return i >= 2 && i < 5 }), left)
		var calls int
		n, err = host.PruneBatches(ctx, 2, func(ctx context.Context, limit int) (int64, error) {
			calls++
			return s.PruneAudit(ctx, at(5*time.Minute), limit)
		})
		must(t, "PruneBatches", err)
		diff(t, "pruned by the remaining batches", int64(3), n)
		diff(t, "batches (2, then 1: the last short one stops)", 2, calls)
		got, err := s.ListAudit(ctx, host.AuditFilter{Until: at(time.Hour)})
		must(t, "ListAudit", err)
		diff(t, "entries after the prune", newest(func(i int, _ host.AuditEntry) bool { return i >= 5 }), got)
		got, err = s.ListAudit(ctx, host.AuditFilter{TenantID: "ten_batch"})
		must(t, "ListAudit", err)
		diff(t, "recent entries kept", 3, len(got))
		n, err = s.PruneAudit(ctx, at(5*time.Minute), 100)
		must(t, "PruneAudit again", err)
		diff(t, "nothing left to prune", int64(0), n)
	})

	bad := host.AuditEntry{ActorType: host.ActorTool, Action: "x", Outcome: host.OutcomeOK}
	runErrors(t, []errorCase{
		{"BadActor", func(ctx context.Context) error {
			e := bad
			e.ActorType = "robot"
			_, err := s.AppendAudit(ctx, e)
			return err
		}, host.CodeInvalid},
		{"NoAction", func(ctx context.Context) error {
			e := bad
			e.Action = ""
			_, err := s.AppendAudit(ctx, e)
			return err
		}, host.CodeInvalid},
		{"NoOutcome", func(ctx context.Context) error {
			e := bad
			e.Outcome = ""
			_, err := s.AppendAudit(ctx, e)
			return err
		}, host.CodeInvalid},
	})
}
