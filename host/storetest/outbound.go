package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func testInboundEvents(t *testing.T, s host.Store) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	ev := func(tenant, key string, occurred time.Duration) host.InboundEvent {
		return host.InboundEvent{TenantID: tenant, Provider: "acme-crm", DedupeKey: key, Kind: "record.created", Object: "lead",
			ExternalID: "42", OccurredAt: ptr(at(occurred)), ReceivedAt: at(time.Hour), Data: map[string]any{"n": 1.0}}
	}
	got, err := s.RecordInboundEvents(ctx, []host.InboundEvent{ev(a.ID, "k1", 0), ev(a.ID, "k2", time.Second), ev(b.ID, "k1", 0)})
	must(t, "RecordInboundEvents", err)
	if len(got) != 3 || got[0].Status != host.EventReceived || got[0].ID == "" {
		t.Fatalf("first recording = %+v, want 3 received events", got)
	}
	// A redelivery of k1 (another tenant's k1 is a different event) and a
	// new one: only the new one is stored.
	again, err := s.RecordInboundEvents(ctx, []host.InboundEvent{ev(a.ID, "k1", 0), ev(a.ID, "k3", 2*time.Second)})
	must(t, "RecordInboundEvents again", err)
	if len(again) != 1 || again[0].DedupeKey != "k3" {
		t.Fatalf("redelivery stored %+v, want only k3", again)
	}
	// Concurrent redeliveries store each key once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 8 {
		wg.Go(func() {
			out, err := s.RecordInboundEvents(ctx, []host.InboundEvent{ev(b.ID, "race", 0)})
			if err != nil {
				t.Errorf("concurrent RecordInboundEvents: %v", err)
			}
			mu.Lock()
			fresh += len(out)
			mu.Unlock()
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Errorf("8 concurrent deliveries of one event stored %d, want 1", fresh)
	}

	e1, err := s.GetInboundEvent(ctx, a.ID, got[0].ID)
	must(t, "GetInboundEvent", err)
	diff(t, "stored event", got[0], e1)
	_, err = s.GetInboundEvent(ctx, b.ID, got[0].ID)
	wantCode(t, "another tenant's event", err, host.CodeNotFound)

	list, err := s.ListInboundEvents(ctx, a.ID, host.InboundEventFilter{Limit: 2})
	must(t, "ListInboundEvents", err)
	if len(list) != 2 {
		t.Fatalf("page of 2 = %d events", len(list))
	}
	rest, err := s.ListInboundEvents(ctx, a.ID, host.InboundEventFilter{Before: list[1].ID})
	must(t, "ListInboundEvents page 2", err)
	if len(rest) != 1 {
		t.Errorf("page 2 = %d events, want 1", len(rest))
	}
	pending, err := s.PendingInboundEvents(ctx, at(2*time.Hour), 100)
	must(t, "PendingInboundEvents", err)
	if len(pending) != 5 {
		t.Errorf("pending = %d events, want 5", len(pending))
	}

	settled, err := s.SettleInboundEvent(ctx, a.ID, e1.ID, host.EventProcessed, "1 decision")
	must(t, "SettleInboundEvent", err)
	if settled.Status != host.EventProcessed || settled.Attempts != 1 || settled.ProcessedAt == nil || settled.Outcome != "1 decision" {
		t.Errorf("settled = %+v", settled)
	}
	_, err = s.SettleInboundEvent(ctx, a.ID, e1.ID, host.EventFailed, "again")
	wantCode(t, "settling twice", err, host.CodeConflict)
	runErrors(t, []errorCase{
		{"unknown tenant", func(ctx2 context.Context) error {
			_, err := s.RecordInboundEvents(ctx2, []host.InboundEvent{ev("ten_nope", "x", 0)})
			return err
		}, host.CodeNotFound},
		{"no dedupe key", func(ctx2 context.Context) error {
			_, err := s.RecordInboundEvents(ctx2, []host.InboundEvent{ev(a.ID, "", 0)})
			return err
		}, host.CodeInvalid},
		{"bad status", func(ctx2 context.Context) error {
			_, err := s.ListInboundEvents(ctx2, a.ID, host.InboundEventFilter{Status: "odd"})
			return err
		}, host.CodeInvalid},
		{"settle unknown", func(ctx2 context.Context) error {
			_, err := s.SettleInboundEvent(ctx2, a.ID, "evt_nope", host.EventProcessed, "")
			return err
		}, host.CodeNotFound},
	})
	processed, err := s.ListInboundEvents(ctx, a.ID, host.InboundEventFilter{Status: host.EventProcessed})
	must(t, "list processed", err)
	if len(processed) != 1 {
		t.Errorf("processed = %d, want 1", len(processed))
	}

	// Prune drops settled events only; their keys may then come again.
	n, err := s.PruneInboundEvents(ctx, at(2*time.Hour))
	must(t, "PruneInboundEvents", err)
	if n != 1 {
		t.Errorf("pruned %d, want 1", n)
	}

	// Record states never roll back.
	st := host.RecordState{TenantID: a.ID, Object: "deal", ExternalID: "7", Fields: map[string]any{"stage": "new"}, OccurredAt: at(time.Minute)}
	prev, ok, err := s.AdvanceRecordState(ctx, st)
	must(t, "AdvanceRecordState", err)
	if prev != nil || !ok {
		t.Errorf("first state: prev %v advanced %v", prev, ok)
	}
	older := st
	older.Fields, older.OccurredAt = map[string]any{"stage": "older"}, at(0)
	prev, ok, err = s.AdvanceRecordState(ctx, older)
	must(t, "AdvanceRecordState older", err)
	if ok || prev == nil || prev.Fields["stage"] != "new" {
		t.Errorf("an older state: prev %+v advanced %v, want not advanced over new", prev, ok)
	}
	newer := st
	newer.Fields, newer.OccurredAt = map[string]any{"stage": "won"}, at(2*time.Minute)
	prev, ok, err = s.AdvanceRecordState(ctx, newer)
	must(t, "AdvanceRecordState newer", err)
	if !ok || prev == nil || prev.Fields["stage"] != "new" {
		t.Errorf("a newer state: prev %+v advanced %v", prev, ok)
	}
}

func testTriggerRules(t *testing.T, s host.Store) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	r := host.TriggerRule{TenantID: a.ID, Name: "new leads", Enabled: true, Events: []string{"record.created"}, Objects: []string{"lead"},
		Purpose: host.PurposeInformational, Conditions: []host.Condition{{Field: "lead.status", Op: host.OpEquals, Value: "new"}}, UpdatedAt: at(0), UpdatedBy: "op"}
	v1, err := s.PutTriggerRule(ctx, r, 0)
	must(t, "PutTriggerRule", err)
	if v1.ID == "" || v1.Version != 1 {
		t.Fatalf("created = %+v", v1)
	}
	v2in := v1
	v2in.Enabled, v2in.UpdatedAt = false, at(time.Minute)
	v2, err := s.PutTriggerRule(ctx, v2in, 1)
	must(t, "PutTriggerRule v2", err)
	if v2.Version != 2 {
		t.Errorf("version = %d, want 2", v2.Version)
	}
	_, err = s.PutTriggerRule(ctx, v2in, 1)
	wantCode(t, "a stale version", err, host.CodeConflict)
	cur, err := s.GetTriggerRule(ctx, a.ID, v1.ID)
	must(t, "GetTriggerRule", err)
	diff(t, "current rule", v2, cur)
	old, err := s.GetTriggerRuleVersion(ctx, a.ID, v1.ID, 1)
	must(t, "GetTriggerRuleVersion", err)
	diff(t, "version 1", v1, old)
	hist, err := s.TriggerRuleHistory(ctx, a.ID, v1.ID)
	must(t, "TriggerRuleHistory", err)
	diff(t, "history", []host.TriggerRule{v2, v1}, hist)
	list, err := s.ListTriggerRules(ctx, a.ID)
	must(t, "ListTriggerRules", err)
	diff(t, "rules", []host.TriggerRule{v2}, list)
	del := v2
	del.Deleted = true
	_, err = s.PutTriggerRule(ctx, del, 2)
	must(t, "delete", err)
	list, err = s.ListTriggerRules(ctx, a.ID)
	must(t, "ListTriggerRules after delete", err)
	diff(t, "rules after delete", []host.TriggerRule{}, list)
	runErrors(t, []errorCase{
		{"another tenant's rule", func(c context.Context) error { _, err := s.GetTriggerRule(c, b.ID, v1.ID); return err }, host.CodeNotFound},
		{"update a missing rule", func(c context.Context) error {
			x := r
			x.ID = "trg_nope"
			_, err := s.PutTriggerRule(c, x, 3)
			return err
		}, host.CodeNotFound},
		{"bad purpose", func(c context.Context) error {
			x := r
			x.Purpose = "sales"
			_, err := s.PutTriggerRule(c, x, 0)
			return err
		}, host.CodeInvalid},
		{"bad op", func(c context.Context) error {
			x := r
			x.Conditions = []host.Condition{{Field: "lead.x", Op: "like"}}
			_, err := s.PutTriggerRule(c, x, 0)
			return err
		}, host.CodeInvalid},
		{"unknown tenant", func(c context.Context) error {
			x := r
			x.TenantID = "ten_nope"
			_, err := s.PutTriggerRule(c, x, 0)
			return err
		}, host.CodeNotFound},
	})

	_, err = s.GetOutboundSettings(ctx, a.ID)
	wantCode(t, "no settings", err, host.CodeNotFound)
	set := host.OutboundSettings{TenantID: a.ID, Enabled: true, SellerName: "Acme Homes LLC", CallbackURL: "https://dialer.example/hooks",
		SecretCiphertext: []byte{1, 2}, SecretWrappedDEK: []byte{3}, SecretKEKID: "local", UpdatedAt: at(0)}
	got, err := s.PutOutboundSettings(ctx, set)
	must(t, "PutOutboundSettings", err)
	back, err := s.GetOutboundSettings(ctx, a.ID)
	must(t, "GetOutboundSettings", err)
	diff(t, "settings", got, back)
	_, err = s.PutOutboundSettings(ctx, host.OutboundSettings{TenantID: a.ID, CallbackURL: "ftp://x"})
	wantCode(t, "bad callback URL", err, host.CodeInvalid)
}

func testConsents(t *testing.T, s host.Store) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	c := host.ConsentRecord{TenantID: a.ID, SellerName: "Acme Homes LLC", PersonName: "Ada", Phone: "+13055550123",
		Purposes: []host.CallPurpose{host.PurposeTelemarketing}, AIVoice: true, Written: true, DisclosureText: "I agree", DisclosureVersion: "v1",
		Method: "web_form", Source: "first_party", ConsentedAt: at(0)}
	got, err := s.CreateConsent(ctx, c)
	must(t, "CreateConsent", err)
	if got.ID == "" || got.Version != 1 || got.DisclosureHash != host.HashDisclosure("I agree") || got.Revoked() {
		t.Fatalf("created = %+v", got)
	}
	back, err := s.GetConsent(ctx, a.ID, got.ID)
	must(t, "GetConsent", err)
	diff(t, "consent", got, back)
	_, err = s.GetConsent(ctx, b.ID, got.ID)
	wantCode(t, "another tenant's consent", err, host.CodeNotFound)
	second, err := s.CreateConsent(ctx, c)
	must(t, "second CreateConsent", err)
	list, err := s.ListConsents(ctx, a.ID, c.Phone, 0)
	must(t, "ListConsents", err)
	if len(list) != 2 || list[0].ID != second.ID {
		t.Errorf("consents = %+v, want the two, newest first", list)
	}
	_, err = s.GetDNC(ctx, a.ID, c.Phone)
	wantCode(t, "not listed yet", err, host.CodeNotFound)
	revoked, err := s.RevokePhone(ctx, a.ID, c.Phone, host.Revocation{Channel: "call", RawText: "stop calling me", ReceivedAt: at(time.Hour)})
	must(t, "RevokePhone", err)
	if len(revoked) != 2 || !revoked[0].Revoked() || revoked[0].Version != 2 {
		t.Errorf("revoked = %+v, want both, version 2", revoked)
	}
	dnc, err := s.GetDNC(ctx, a.ID, c.Phone)
	must(t, "GetDNC", err)
	if dnc.Source != "revocation:call" {
		t.Errorf("DNC entry = %+v", dnc)
	}
	_, err = s.GetDNC(ctx, b.ID, c.Phone)
	wantCode(t, "another tenant's list", err, host.CodeNotFound)
	e, err := s.AddDNC(ctx, host.DNCEntry{TenantID: a.ID, Phone: c.Phone, Source: "operator"})
	must(t, "AddDNC again", err)
	if e.Source != "revocation:call" {
		t.Errorf("a number listed again keeps its first entry, got %+v", e)
	}
	// Consents and DNC entries outlive their tenant.
	must(t, "DeleteTenant", s.DeleteTenant(ctx, a.ID))
	if _, err := s.GetConsent(ctx, a.ID, got.ID); err != nil {
		t.Errorf("a deleted tenant's consent is gone: %v", err)
	}
	if _, err := s.GetDNC(ctx, a.ID, c.Phone); err != nil {
		t.Errorf("a deleted tenant's DNC entry is gone: %v", err)
	}

	scrub := host.DNCScrub{TenantID: b.ID, Phone: "+12065550100", NationalRegistered: true, NationalListDate: ptr(at(0)), Reassigned: host.ReassignedNo, ScrubbedAt: at(time.Hour)}
	stored, err := s.PutDNCScrub(ctx, scrub)
	must(t, "PutDNCScrub", err)
	sb, err := s.GetDNCScrub(ctx, b.ID, scrub.Phone)
	must(t, "GetDNCScrub", err)
	diff(t, "scrub", stored, sb)
	runErrors(t, []errorCase{
		{"consent for unknown tenant", func(x context.Context) error {
			y := c
			y.TenantID = "ten_nope"
			_, err := s.CreateConsent(x, y)
			return err
		}, host.CodeNotFound},
		{"consent without seller", func(x context.Context) error {
			y := c
			y.TenantID = b.ID
			y.SellerName = ""
			_, err := s.CreateConsent(x, y)
			return err
		}, host.CodeInvalid},
		{"consent with a bad method", func(x context.Context) error {
			y := c
			y.TenantID = b.ID
			y.Method = "telepathy"
			_, err := s.CreateConsent(x, y)
			return err
		}, host.CodeInvalid},
		{"no scrub", func(x context.Context) error { _, err := s.GetDNCScrub(x, b.ID, "+19999999999"); return err }, host.CodeNotFound},
		{"revoke for unknown tenant", func(x context.Context) error {
			_, err := s.RevokePhone(x, "ten_nope", c.Phone, host.Revocation{Channel: "sms"})
			return err
		}, host.CodeNotFound},
	})
}

func testDecisions(t *testing.T, s host.Store) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	d := host.Decision{TenantID: a.ID, EventID: "evt_1", RuleID: "trg_1", RuleVersion: 2, RuleSetVersion: "rs-1", Outcome: host.DecisionFired,
		Purpose: host.PurposeInformational, Subject: "viewing", Phone: "+13055550123", ConsentID: "cns_1", ConsentVersion: 1,
		States: []string{"FL"}, TimeZones: []string{"America/New_York"}, LocalTimes: []host.LocalTime{{Zone: "America/New_York", Local: "2021-03-04T00:06:07-05:00"}},
		EarliestAt: ptr(at(0)), LatestAt: ptr(at(time.Hour)), DecidedAt: at(0), Actor: "system"}
	req := &host.CallRequest{Payload: json.RawMessage(`{"phone":"+13055550123"}`)}
	got, call, created, err := s.RecordDecision(ctx, d, req)
	must(t, "RecordDecision", err)
	if !created || call == nil || call.Status != host.CallPending || got.RetainUntil != at(host.DecisionRetention) {
		t.Fatalf("recorded = %+v, %+v, %v", got, call, created)
	}
	again, call2, created, err := s.RecordDecision(ctx, d, req)
	must(t, "RecordDecision again", err)
	if created || again.ID != got.ID || call2 == nil || call2.ID != call.ID {
		t.Errorf("a second decision for the same event and rule: %+v %+v created %v", again, call2, created)
	}
	blocked := d
	blocked.RuleID, blocked.Outcome, blocked.Reason, blocked.DecidedAt = "trg_2", host.DecisionBlocked, "consent_missing", at(time.Minute)
	bl, none, _, err := s.RecordDecision(ctx, blocked, nil)
	must(t, "RecordDecision blocked", err)
	if none != nil {
		t.Errorf("a blocked decision got a call request")
	}
	back, err := s.GetDecision(ctx, a.ID, got.ID)
	must(t, "GetDecision", err)
	diff(t, "decision", got, back)
	list, err := s.ListDecisions(ctx, a.ID, host.DecisionFilter{})
	must(t, "ListDecisions", err)
	diff(t, "decisions", []host.Decision{bl, got}, list)
	list, err = s.ListDecisions(ctx, a.ID, host.DecisionFilter{Outcome: host.DecisionBlocked})
	must(t, "ListDecisions blocked", err)
	diff(t, "blocked decisions", []host.Decision{bl}, list)
	n, err := s.CountFired(ctx, a.ID, d.Phone, "viewing", at(-time.Hour))
	must(t, "CountFired", err)
	if n != 1 {
		t.Errorf("CountFired = %d, want 1", n)
	}
	n, _ = s.CountFired(ctx, a.ID, d.Phone, "viewing", at(time.Second))
	if n != 0 {
		t.Errorf("CountFired since later = %d, want 0", n)
	}

	calls, err := s.ListCallRequests(ctx, a.ID, host.CallRequestFilter{Status: host.CallPending})
	must(t, "ListCallRequests", err)
	diff(t, "calls", []host.CallRequest{*call}, calls, cmpopts.IgnoreFields(host.CallRequest{}, "Payload"))
	pend, err := s.PendingCallRequests(ctx, at(time.Hour), 10)
	must(t, "PendingCallRequests", err)
	if len(pend) != 1 {
		t.Errorf("pending calls = %d", len(pend))
	}
	_, err = s.GetCallRequest(ctx, b.ID, call.ID)
	wantCode(t, "another tenant's call", err, host.CodeNotFound)
	att, err := s.SettleCallRequest(ctx, a.ID, call.ID, host.CallPending, "unavailable: 503")
	must(t, "SettleCallRequest attempt", err)
	if att.Attempts != 1 || att.LastError == "" || att.Status != host.CallPending {
		t.Errorf("after a failed attempt: %+v", att)
	}
	done, err := s.SettleCallRequest(ctx, a.ID, call.ID, host.CallDelivered, "")
	must(t, "SettleCallRequest delivered", err)
	if done.DeliveredAt == nil || done.Attempts != 2 {
		t.Errorf("delivered = %+v", done)
	}
	_, err = s.SettleCallRequest(ctx, a.ID, call.ID, host.CallFailed, "late")
	wantCode(t, "settling a delivered call", err, host.CodeConflict)
	// Decisions outlive their tenant (5 years, exempt from purges).
	must(t, "DeleteTenant", s.DeleteTenant(ctx, a.ID))
	if _, err := s.GetDecision(ctx, a.ID, got.ID); err != nil {
		t.Errorf("a deleted tenant's decision is gone: %v", err)
	}
	runErrors(t, []errorCase{
		{"fired without a request", func(x context.Context) error {
			y := d
			y.RuleID = "trg_x"
			_, _, _, err := s.RecordDecision(x, y, nil)
			return err
		}, host.CodeInvalid},
		{"bad outcome", func(x context.Context) error {
			y := d
			y.Outcome = "maybe"
			_, _, _, err := s.RecordDecision(x, y, nil)
			return err
		}, host.CodeInvalid},
		{"bad cursor", func(x context.Context) error {
			_, err := s.ListDecisions(x, b.ID, host.DecisionFilter{Before: "dec_nope"})
			return err
		}, host.CodeInvalid},
	})
}
