package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testMirror(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "mirror")
	other := mustTenant(t, s, "mirror-other")
	phone := host.PhoneHash("+14155550100")

	rows, err := s.CreateMirrorRows(ctx, []host.MirrorRow{
		{TenantID: tn.ID, Class: host.ClassCustomer, Fields: map[string]any{"email": "ada@example.com"}, PhoneHash: phone, IdempotencyKey: "k1", CreatedAt: at(0)},
		{TenantID: tn.ID, Class: host.ClassCase, Fields: map[string]any{"subject": "Broken"}, CreatedAt: at(time.Minute)},
	})
	must(t, "CreateMirrorRows", err)
	cus, cas := rows[0], rows[1]
	if cus.State != host.MirrorPending || len(cus.ID) < 20 || cus.ID[:4] != "cus_" || cas.ID[:5] != "case_" {
		t.Fatalf("created rows %+v %+v", cus, cas)
	}
	conv, err := s.CreateMirrorRows(ctx, []host.MirrorRow{{TenantID: tn.ID, Class: host.ClassConversation, Link: host.Link{RowID: cus.ID},
		PhoneHash: phone, CreatedAt: at(2 * time.Minute)}})
	must(t, "create conversation", err)
	msgs, err := s.CreateMirrorRows(ctx, []host.MirrorRow{
		{TenantID: tn.ID, Class: host.ClassMessage, ConversationID: conv[0].ID, Seq: 1, Fields: map[string]any{"text": "hi"}, CreatedAt: at(3 * time.Minute)},
		{TenantID: tn.ID, Class: host.ClassMessage, ConversationID: conv[0].ID, Seq: 2, Fields: map[string]any{"text": "there"}, CreatedAt: at(4 * time.Minute)},
	})
	must(t, "create messages", err)

	t.Run("Refused", func(t *testing.T) {
		runErrors(t, []errorCase{
			{"bad class", func(ctx2 context.Context) error {
				_, err := s.CreateMirrorRows(ctx2, []host.MirrorRow{{TenantID: tn.ID, Class: "fax"}})
				return err
			}, host.CodeInvalid},
			{"message without conversation", func(ctx2 context.Context) error {
				_, err := s.CreateMirrorRows(ctx2, []host.MirrorRow{{TenantID: tn.ID, Class: host.ClassMessage}})
				return err
			}, host.CodeInvalid},
			{"sequence taken", func(ctx2 context.Context) error {
				_, err := s.CreateMirrorRows(ctx2, []host.MirrorRow{{TenantID: tn.ID, Class: host.ClassMessage, ConversationID: conv[0].ID, Seq: 2}})
				return err
			}, host.CodeConflict},
			{"missing tenant", func(ctx2 context.Context) error {
				_, err := s.CreateMirrorRows(ctx2, []host.MirrorRow{{TenantID: "ten_missing", Class: host.ClassLead}})
				return err
			}, host.CodeNotFound},
			{"another tenant's row", func(ctx2 context.Context) error {
				_, err := s.GetMirrorRow(ctx2, other.ID, cus.ID)
				return err
			}, host.CodeNotFound},
			{"attempt to written", func(ctx2 context.Context) error {
				_, err := s.MarkMirrorAttempt(ctx2, tn.ID, cas.ID, "x", host.MirrorWritten)
				return err
			}, host.CodeInvalid},
		})
		// Nothing of a refused batch is stored.
		counts, err := s.MirrorCounts(ctx, tn.ID)
		must(t, "MirrorCounts", err)
		diff(t, "counts", []host.MirrorCount{{Class: host.ClassCase, State: host.MirrorPending, Count: 1},
			{Class: host.ClassConversation, State: host.MirrorPending, Count: 1}, {Class: host.ClassCustomer, State: host.MirrorPending, Count: 1},
			{Class: host.ClassMessage, State: host.MirrorPending, Count: 2}}, counts)
	})

	t.Run("ListAndPage", func(t *testing.T) {
		all, err := s.ListMirrorRows(ctx, tn.ID, host.MirrorFilter{Limit: 2})
		must(t, "ListMirrorRows", err)
		if len(all) != 2 || all[0].ID != msgs[1].ID || all[1].ID != msgs[0].ID {
			t.Errorf("first page %v", ids(all))
		}
		got, err := s.ListMirrorRows(ctx, tn.ID, host.MirrorFilter{ConversationID: conv[0].ID})
		must(t, "messages", err)
		diff(t, "messages in order", []string{msgs[0].ID, msgs[1].ID}, ids(got))
		got, err = s.ListMirrorRows(ctx, tn.ID, host.MirrorFilter{Class: host.ClassCustomer})
		must(t, "customers", err)
		diff(t, "customers", []host.MirrorRow{cus}, got)
		_, err = s.ListMirrorRows(ctx, tn.ID, host.MirrorFilter{Before: cas.ID + "x"})
		wantCode(t, "bad cursor", err, host.CodeInvalid)
	})

	t.Run("WriteAndAttempts", func(t *testing.T) {
		got, err := s.MarkMirrorAttempt(ctx, tn.ID, cas.ID, "unavailable: 503", host.MirrorPending)
		must(t, "attempt", err)
		if got.Attempts != 1 || got.LastError != "unavailable: 503" || got.State != host.MirrorPending {
			t.Errorf("after an attempt: %+v", got)
		}
		got, err = s.MarkMirrorAttempt(ctx, tn.ID, cas.ID, "invalid: no", host.MirrorFailed)
		must(t, "final attempt", err)
		if got.State != host.MirrorFailed {
			t.Errorf("after a final attempt: %+v", got)
		}
		w, err := s.MarkMirrorWritten(ctx, tn.ID, cus.ID, "c-1", "https://crm/c-1")
		must(t, "written", err)
		if w.State != host.MirrorWritten || w.WrittenAt == nil || w.Attempts != 1 || w.ExternalID != "c-1" {
			t.Errorf("written: %+v", w)
		}
		_, err = s.MarkMirrorWritten(ctx, tn.ID, cus.ID, "c-2", "")
		wantCode(t, "customer written twice", err, host.CodeConflict)
		_, err = s.MarkMirrorWritten(ctx, tn.ID, conv[0].ID, "n-1", "u")
		must(t, "conversation written", err)
		_, err = s.MarkMirrorWritten(ctx, tn.ID, conv[0].ID, "n-1", "u")
		must(t, "conversation written again (its transcript grew)", err)
		n, err := s.MarkMessagesWritten(ctx, tn.ID, conv[0].ID, 1, "n-1", "u")
		if err != nil || n != 1 {
			t.Errorf("MarkMessagesWritten: %d, %v; want 1", n, err)
		}
		n, err = s.MarkMessagesAttempt(ctx, tn.ID, conv[0].ID, 2, "rate_limited", host.MirrorPending)
		if err != nil || n != 1 {
			t.Errorf("MarkMessagesAttempt: %d, %v; want 1", n, err)
		}
	})

	t.Run("Backlog", func(t *testing.T) {
		bl, err := s.MirrorBacklog(ctx, at(time.Hour))
		must(t, "MirrorBacklog", err)
		var mine []host.Backlog
		for _, b := range bl {
			if b.TenantID == tn.ID {
				mine = append(mine, b)
			}
		}
		diff(t, "backlog", []host.Backlog{
			{TenantID: tn.ID, Class: host.ClassCase, Count: 1, OldestID: cas.ID, OldestAt: cas.CreatedAt, LastError: "invalid: no"},
			{TenantID: tn.ID, Class: host.ClassMessage, Count: 1, OldestID: msgs[1].ID, OldestAt: msgs[1].CreatedAt, LastError: "rate_limited"},
		}, mine)
	})

	t.Run("PersonAndDelete", func(t *testing.T) {
		got, err := s.FindPersonRows(ctx, tn.ID, host.PersonMatch{PhoneHash: phone})
		must(t, "FindPersonRows", err)
		want := []string{cus.ID, conv[0].ID, msgs[0].ID, msgs[1].ID}
		diff(t, "person rows", sortedIDs(want), ids(got))
		got, err = s.FindPersonRows(ctx, tn.ID, host.PersonMatch{ExternalID: "c-1"})
		must(t, "FindPersonRows by record", err)
		diff(t, "person rows by record", sortedIDs(want), ids(got))
		none, err := s.FindPersonRows(ctx, other.ID, host.PersonMatch{PhoneHash: phone})
		must(t, "FindPersonRows other tenant", err)
		diff(t, "other tenant's person rows", []string{}, ids(none))
		_, claimed, err := s.ClaimIdempotency(ctx, host.IdempotencyRecord{TenantID: tn.ID, Key: "k1", RequestHash: "h", ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		n, err := s.DeleteMirrorRows(ctx, tn.ID, append(want, "cus_missing"))
		if err != nil || n != 4 {
			t.Errorf("DeleteMirrorRows: %d, %v; want 4", n, err)
		}
		_, err = s.GetIdempotency(ctx, tn.ID, "k1")
		wantCode(t, "the deleted customer's idempotency record", err, host.CodeNotFound)
		_, err = s.GetMirrorRow(ctx, tn.ID, cus.ID)
		wantCode(t, "deleted row", err, host.CodeNotFound)
	})
}

func ids(rows []host.MirrorRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func sortedIDs(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// testPurgeProperty: over random rows in random states, created at random
// times, and random purge bounds, a purge removes exactly the written rows
// created and written at or before its bound, never any other.
func testPurgeProperty(t *testing.T, s host.Store) {
	ctx := t.Context()
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC().Truncate(time.Microsecond)
	for round := range 8 {
		tn := mustTenant(t, s, name("purge", round))
		var batch []host.MirrorRow
		for range 40 {
			batch = append(batch, host.MirrorRow{TenantID: tn.ID, Class: host.ClassCustomer,
				Fields: map[string]any{"n": r.IntN(100)}, CreatedAt: now.Add(-time.Duration(r.IntN(40*24)) * time.Hour)})
		}
		rows, err := s.CreateMirrorRows(ctx, batch)
		must(t, "CreateMirrorRows", err)
		for _, row := range rows {
			switch r.IntN(5) {
			case 0:
				_, err = s.MarkMirrorWritten(ctx, tn.ID, row.ID, "x", "")
			case 1:
				_, err = s.MarkMirrorAttempt(ctx, tn.ID, row.ID, "e", host.MirrorFailed)
			case 2:
				_, err = s.MarkMirrorAttempt(ctx, tn.ID, row.ID, "e", host.MirrorUnsupported)
			case 3:
				_, err = s.MarkMirrorAttempt(ctx, tn.ID, row.ID, "e", host.MirrorPending)
			}
			must(t, "mark", err)
		}
		before := map[string]host.MirrorRow{}
		all, err := s.ListMirrorRows(ctx, tn.ID, host.MirrorFilter{Limit: 1000})
		must(t, "list", err)
		for _, row := range all {
			before[row.ID] = row
		}
		bound := time.Now().Add(time.Duration(r.IntN(3)-1) * time.Hour).Add(-time.Duration(r.IntN(30*24)) * time.Hour)
		_, err = s.PurgeMirrorRows(ctx, host.ClassCustomer, bound, time.Time{}, 1000)
		must(t, "purge", err)
		after, err := s.ListMirrorRows(ctx, tn.ID, host.MirrorFilter{Limit: 1000})
		must(t, "list after", err)
		for _, row := range after {
			was := before[row.ID]
			eligible := was.State == host.MirrorWritten && was.WrittenAt != nil && !was.WrittenAt.After(bound) && !was.CreatedAt.After(bound)
			switch {
			case row.State == host.MirrorPurged && !eligible:
				t.Fatalf("round %d: purged %s (%s, created %v, written %v) with bound %v", round, row.ID, was.State, was.CreatedAt, was.WrittenAt, bound)
			case row.State != host.MirrorPurged && eligible:
				t.Fatalf("round %d: kept eligible row %s", round, row.ID)
			case row.State == host.MirrorPurged && (len(row.Fields) != 0 || row.PurgedAt == nil):
				t.Fatalf("round %d: tombstone %+v keeps content", round, row)
			}
		}
	}
}
