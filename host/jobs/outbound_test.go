package jobs_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/mapping"
	"crmhost.dev/host/outbound"
	"crmhost.dev/host/secrets"
	"crmhost.dev/sdk"
)

// fakeReader is the CRM behind the outbound service: one customer
// object, records read back from a map, every read counted.
type fakeReader struct {
	mu      sync.Mutex
	records map[string]map[string]any
	reads   atomic.Int64
}

func (f *fakeReader) Mapping(context.Context, string) (*mapping.Mapping, string, error) {
	desc := sdk.Description{Slug: "acme-crm", Objects: []sdk.ObjectInfo{{Name: "people", Canonical: "customer",
		DefaultFields: map[string]string{"customer.phone": "phone", "customer.first_name": "first"}}}}
	return mapping.Resolve(desc, nil), "acme-crm", nil
}

func (f *fakeReader) LookupCustomer(_ context.Context, _ broker.Actor, _ string, in broker.LookupInput) (broker.LookupResult, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[in.ExternalID]
	if !ok {
		return broker.LookupResult{}, nil
	}
	return broker.LookupResult{Customer: &broker.Record{Object: "customer", ExternalID: in.ExternalID, Native: r}, MatchCount: 1}, nil
}

func (f *fakeReader) Audit(context.Context, broker.Actor, string, string, string, string) {}

// TestOutboundJobs: on both stores, an inbound event enqueued twice is
// processed once (River's unique jobs, and the event settles once): the
// record read back, the rule matched, one fired decision, and its call
// request posted to the callback and marked delivered.
func TestOutboundJobs(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) { outboundJobs(t, st, 0) })
}

// TestOutboundDelayedRule: a rule's delay schedules its gates (a
// decide_call job) for later; the call request comes after it.
func TestOutboundDelayedRule(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		start := time.Now()
		outboundJobs(t, st, 1)
		if took := time.Since(start); took < time.Second {
			t.Errorf("the delayed rule's call request came after %s, before its 1 s delay", took)
		}
	})
}

func outboundJobs(t *testing.T, st host.Store, delay int) {
	t.Helper()
	{
		ctx := t.Context()
		ten := tenant(t, st)
		key, err := secrets.GenerateLocalKey()
		if err != nil {
			t.Fatal(err)
		}
		kek, err := secrets.NewLocalKEK(key)
		if err != nil {
			t.Fatal(err)
		}
		crm := &fakeReader{records: map[string]map[string]any{"42": {"phone": "+1 212 555 0123", "first": "Ada"}}}
		noon := time.Date(2026, 12, 9, 17, 0, 0, 0, time.UTC)
		svc, err := outbound.New(outbound.Options{Store: st, CRM: crm, Keyring: secrets.NewKeyring(kek), Now: func() time.Time { return noon },
			AllowDeliveryTo: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		if err != nil {
			t.Fatal(err)
		}
		var posts atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			if r.Header.Get("webhook-signature") == "" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			posts.Add(1)
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(srv.Close)
		a := broker.Actor{Type: host.ActorOperator, ID: "test"}
		if _, _, err := svc.PutSettings(ctx, a, ten, outbound.SettingsInput{Enabled: true, SellerName: "Acme Homes LLC", CallbackURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateConsent(ctx, a, host.ConsentRecord{TenantID: ten, SellerName: "Acme Homes LLC", Phone: "(212) 555-0123",
			Purposes: []host.CallPurpose{host.PurposeInformational}, AIVoice: true, DisclosureText: "ok", DisclosureVersion: "v1",
			Method: "web_form", Source: "first_party", ConsentedAt: noon.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SaveRule(ctx, a, host.TriggerRule{TenantID: ten, Name: "new", Enabled: true, Events: []string{sdk.EventCreated},
			Objects: []string{"customer"}, Purpose: host.PurposeInformational, DelaySeconds: delay,
			Conditions: []host.Condition{{Field: "customer.first_name", Op: host.OpEquals, Value: "Ada"}}}, 0); err != nil {
			t.Fatal(err)
		}
		r := newRunner(t, jobs.Options{Store: st, Writer: newFakeCRM(), Outbound: svc})
		svc.Queue = r
		evs, err := st.RecordInboundEvents(ctx, []host.InboundEvent{{TenantID: ten, Provider: "acme-crm", DedupeKey: "e1", Kind: sdk.EventCreated,
			Object: "customer", ProviderObject: "people", ExternalID: "42", OccurredAt: &noon}})
		if err != nil || len(evs) != 1 {
			t.Fatalf("RecordInboundEvents: %v %v", evs, err)
		}
		for range 2 {
			if err := r.EnqueueEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
		}
		start(t, r)
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := st.ListCallRequests(ctx, ten, host.CallRequestFilter{Status: host.CallDelivered})
			if err != nil {
				t.Fatal(err)
			}
			if len(c) == 1 {
				break
			}
			if time.Now().After(deadline) {
				ev, _ := st.GetInboundEvent(ctx, ten, evs[0].ID)
				t.Fatalf("no delivered call request; event %s %q", ev.Status, ev.Outcome)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		ev, _ := st.GetInboundEvent(ctx, ten, evs[0].ID)
		ds, _ := st.ListDecisions(ctx, ten, host.DecisionFilter{})
		if ev.Status != host.EventProcessed || ev.Attempts != 1 || len(ds) != 1 || ds[0].Outcome != host.DecisionFired || posts.Load() != 1 || crm.reads.Load() != 1 {
			t.Errorf("event %s (attempts %d), decisions %+v, posts %d, reads %d; want processed once, one fired decision, one post, one read",
				ev.Status, ev.Attempts, ds, posts.Load(), crm.reads.Load())
		}
	}
}
