package broker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/jobs"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

// queueFunc is a broker.LeadQueue set once the fixture's store exists.
type queueFunc struct {
	mu    sync.Mutex
	fn    func(ctx context.Context, l host.Lead) (host.Lead, error)
	calls int
}

func (q *queueFunc) EnqueueLead(ctx context.Context, l host.Lead) (host.Lead, error) {
	q.mu.Lock()
	q.calls++
	fn := q.fn
	q.mu.Unlock()
	return fn(ctx, l)
}

func (q *queueFunc) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.calls
}

// leadFixture is a broker whose leads go to a queue backed by the store
// only (no jobs run): for tests of what SubmitLead accepts.
func leadFixture(t *testing.T) (*fixture, *queueFunc) {
	t.Helper()
	q := &queueFunc{}
	f := newFixture(t, broker.Options{Leads: q})
	q.fn = f.store.CreateLead
	return f, q
}

// jobsFixture is a broker whose leads are written by a running jobs.Runner
// that calls the broker back.
func jobsFixture(t *testing.T) *fixture {
	t.Helper()
	q := &queueFunc{}
	f := newFixture(t, broker.Options{Leads: q})
	r, err := jobs.New(ctx(t), jobs.Options{Store: f.store, Writer: f.b, PollInterval: 20 * time.Millisecond, Migrate: true,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	q.fn = r.EnqueueLead
	if err := r.Start(ctx(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Stop(c); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return f
}

// mapLeads maps the canonical lead onto the mem driver's people.
func (f *fixture) mapLeads(tenant string) {
	f.t.Helper()
	for _, m := range []host.FieldMapping{
		{TenantID: tenant, Kind: host.MappingObject, Key: "lead", Target: "people"},
		{TenantID: tenant, Kind: host.MappingWrite, Key: "lead.first_name", Target: "first"},
		{TenantID: tenant, Kind: host.MappingWrite, Key: "lead.email", Target: "email"},
		{TenantID: tenant, Kind: host.MappingWrite, Key: "lead.phone", Target: "phone"},
	} {
		if _, err := f.b.SetMapping(ctx(f.t), operator, m); err != nil {
			f.t.Fatal(err)
		}
	}
}

var publicAPI = broker.Actor{Type: host.ActorAPIKey, ID: "key_1", RequestID: "req-lead"}

// waitLead polls until the lead leaves pending.
func (f *fixture) waitLead(l host.Lead) host.Lead {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := f.b.GetLead(ctx(f.t), l.TenantID, l.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		if got.Status != host.LeadPending {
			return got
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("lead still pending after 30s: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSubmitLeadIsWrittenToCRM(t *testing.T) {
	t.Parallel()
	f := jobsFixture(t)
	ten := f.connected("acme")
	f.mapLeads(ten)

	l, err := f.b.SubmitLead(ctx(t), publicAPI, ten, map[string]any{"first_name": "Ada", "lead.email": "ada@example.com"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != host.LeadPending || !strings.HasPrefix(l.ID, host.LeadIDPrefix) {
		t.Errorf("submitted lead %+v, want pending", l)
	}
	if diff := cmp.Diff(map[string]any{"first_name": "Ada", "email": "ada@example.com"}, l.Fields); diff != "" {
		t.Errorf("stored fields (-want +got):\n%s", diff)
	}

	got := f.waitLead(l)
	if got.Status != host.LeadWritten || got.ExternalID == "" || got.Attempts != 1 || got.LastError != "" {
		t.Fatalf("lead after the job: %+v", got)
	}
	r, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "ada@example.com"})
	if err != nil || r.MatchCount != 1 || r.Customer.ExternalID != got.ExternalID {
		t.Errorf("lookup of the written lead = %+v, %v; want one match %s", r, err, got.ExternalID)
	}

	if rows := f.audit(ten, "lead.submit"); len(rows) != 1 || rows[0].ActorType != host.ActorAPIKey || rows[0].Detail != l.ID {
		t.Errorf("lead.submit audit rows %+v", rows)
	}
	if rows := f.audit(ten, "lead.write"); len(rows) != 1 || rows[0].Outcome != host.OutcomeOK || rows[0].ActorType != host.ActorSystem {
		t.Errorf("lead.write audit rows %+v", rows)
	}
	var decrypts int
	for _, row := range f.audit(ten, "credential.decrypt") {
		if row.RequestID == l.ID && row.ActorType == host.ActorSystem {
			decrypts++
		}
	}
	if decrypts != 1 {
		t.Errorf("%d credential.decrypt rows for the lead's write, want 1", decrypts)
	}

	list, err := f.b.ListLeads(ctx(t), ten, host.LeadFilter{Status: host.LeadWritten})
	if err != nil || len(list) != 1 || list[0].ID != l.ID {
		t.Errorf("ListLeads = %v, %v", list, err)
	}
	other := f.connected("other")
	if _, err := f.b.GetLead(ctx(t), other, l.ID); host.CodeOf(err) != host.CodeNotFound {
		t.Errorf("GetLead as another tenant: %v, want not_found", err)
	}
	if list, err := f.b.ListLeads(ctx(t), other, host.LeadFilter{}); err != nil || len(list) != 0 {
		t.Errorf("ListLeads as another tenant = %v, %v; want none", list, err)
	}
}

// A lead the CRM refuses fails with the CRM's error, after one attempt.
func TestSubmitLeadRefusedByCRMFails(t *testing.T) {
	t.Parallel()
	f := jobsFixture(t)
	ten := f.connected("acme")
	f.mapLeads(ten)
	// The host cannot judge an email address; the mem CRM refuses one
	// without an @.
	l, err := f.b.SubmitLead(ctx(t), publicAPI, ten, map[string]any{"email": "not an address"}, "")
	if err != nil {
		t.Fatal(err)
	}
	got := f.waitLead(l)
	if got.Status != host.LeadFailed || got.Attempts != 1 || !strings.HasPrefix(got.LastError, "invalid: fields.email: ") {
		t.Errorf("lead refused by the CRM: %+v", got)
	}
	if rows := f.audit(ten, "lead.write"); len(rows) != 1 || rows[0].Outcome != host.OutcomeError {
		t.Errorf("lead.write audit rows %+v", rows)
	}
}

// Input SubmitLead refuses stores nothing, enqueues nothing and touches no
// secret.
func TestSubmitLeadRefusesBeforeStoring(t *testing.T) {
	t.Parallel()
	f, q := leadFixture(t)
	ten := f.connected("acme")
	unmapped := f.connected("unmapped") // the mem driver has no lead object
	f.mapLeads(ten)
	bare, err := f.store.CreateTenant(ctx(t), host.Tenant{Name: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.audit(ten, "credential.decrypt"))

	tests := []struct {
		name   string
		tenant string
		fields map[string]any
		key    string
		code   host.ErrorCode
		field  string
		says   string
	}{
		{"UnknownFields", ten, map[string]any{"email": "a@b.c", "shoe_size": 44, "lead.hat": "x"}, "", host.CodeInvalid, "fields.hat", "lead.hat, lead.shoe_size"},
		{"NoFields", ten, map[string]any{}, "", host.CodeInvalid, "fields", ""},
		{"BothForms", ten, map[string]any{"email": "a@b.c", "lead.email": "d@e.f"}, "", host.CodeInvalid, "fields", "lead.email"},
		{"LongKey", ten, map[string]any{"email": "a@b.c"}, strings.Repeat("k", 256), host.CodeInvalid, "idempotency_key", ""},
		{"NoLeadObject", unmapped, map[string]any{"email": "a@b.c"}, "", host.CodeInvalid, "object", `"lead"`},
		{"NotConnected", bare.ID, map[string]any{"email": "a@b.c"}, "", host.CodeNotConnected, "", ""},
		{"NoTenant", "ten_missing", map[string]any{"email": "a@b.c"}, "", host.CodeNotFound, "", ""},
		// Certain to fail at the CRM: refused now, naming the field.
		{"ImpossiblePhone", ten, map[string]any{"email": "a@b.c", "phone": "+1 555"}, "", host.CodeInvalid, "fields.phone", "not a possible phone number"},
		{"NotAPhone", ten, map[string]any{"phone": "call me maybe"}, "", host.CodeInvalid, "fields.phone", "not a phone number"},
		{"HugeValue", ten, map[string]any{"email": "a@b.c", "first_name": strings.Repeat("x", 300<<10)}, "", host.CodeInvalid, "fields.first_name", "at most 65536"},
		{"HugeNestedValue", ten, map[string]any{"email": "a@b.c", "first_name": map[string]any{"parts": []any{strings.Repeat("x", 70<<10)}}}, "", host.CodeInvalid, "fields.first_name", "bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.b.SubmitLead(ctx(t), publicAPI, tc.tenant, tc.fields, tc.key)
			wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not name %s", err, tc.says)
			}
		})
	}
	for _, tn := range []string{ten, unmapped, bare.ID} {
		if ls, err := f.store.ListLeads(ctx(t), tn, host.LeadFilter{}); err != nil || len(ls) != 0 {
			t.Errorf("leads stored for %s after refusals: %v, %v", tn, ls, err)
		}
	}
	if n := q.count(); n != 0 {
		t.Errorf("%d leads enqueued after refusals", n)
	}
	if n := len(f.audit(ten, "credential.decrypt")); n != before {
		t.Errorf("refused leads decrypted the credential %d times", n-before)
	}
	if rows := f.audit(ten, "lead.submit"); len(rows) != 0 {
		t.Errorf("refused leads wrote lead.submit rows: %+v", rows)
	}
}

func TestSubmitLeadIdempotent(t *testing.T) {
	t.Parallel()
	f, q := leadFixture(t)
	ten := f.connected("acme")
	f.mapLeads(ten)
	fields := map[string]any{"first_name": "Ada", "email": "ada@example.com"}
	first, err := f.b.SubmitLead(ctx(t), publicAPI, ten, fields, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if first.IdempotencyKey != "k1" {
		t.Errorf("IdempotencyKey %q, want k1", first.IdempotencyKey)
	}
	// The same lead, keyed the other way, is the same request.
	again, err := f.b.SubmitLead(ctx(t), publicAPI, ten, map[string]any{"lead.first_name": "Ada", "email": "ada@example.com"}, "k1")
	if err != nil || again.ID != first.ID {
		t.Errorf("repeat = %+v, %v; want lead %s", again, err, first.ID)
	}
	if n := q.count(); n != 1 {
		t.Errorf("%d leads enqueued for one key, want 1", n)
	}
	_, err = f.b.SubmitLead(ctx(t), publicAPI, ten, map[string]any{"first_name": "Grace"}, "k1")
	wantCode(t, err, host.CodeIdempotencyReused, "idempotency_key")
	// Another tenant's key space is its own.
	other := f.connected("other")
	f.mapLeads(other)
	theirs, err := f.b.SubmitLead(ctx(t), publicAPI, other, fields, "k1")
	if err != nil || theirs.ID == first.ID {
		t.Errorf("another tenant's lead with the same key = %+v, %v", theirs, err)
	}
	// Without a key every submission is a new lead.
	a, err1 := f.b.SubmitLead(ctx(t), publicAPI, ten, fields, "")
	b, err2 := f.b.SubmitLead(ctx(t), publicAPI, ten, fields, "")
	if err1 != nil || err2 != nil || a.ID == b.ID {
		t.Errorf("unkeyed submissions: %s, %s (%v, %v); want two leads", a.ID, b.ID, err1, err2)
	}
}

func TestSubmitLeadWithoutQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten := f.connected("acme")
	_, err := f.b.SubmitLead(ctx(t), publicAPI, ten, map[string]any{"email": "a@b.c"}, "")
	wantCode(t, err, host.CodeInternal, "")
}

var _ jobs.LeadWriter = (*broker.Broker)(nil)
