package http_test

import (
	"context"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/ratelimit"
	"github.com/google/go-cmp/cmp"
)

func TestPublicCreateRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	_, agentB := e.connected("Globex", "globex")
	key, _ := e.apiKey(tenant, "crm:write")

	r := e.create(key, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "phone": "+1 415 555 0100"}})
	wantStatus(t, r, nethttp.StatusOK)
	created := r.object(t)
	if diff := cmp.Diff([]string{"external_id", "record_url"}, keys(created)); diff != "" {
		t.Fatalf("answer keys (-want +got):\n%s", diff)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	recs := e.records(agent, "customer")
	if len(recs) != 1 || recs[0]["external_id"] != created["external_id"] || recs[0]["fields"].(map[string]any)["first_name"] != "Ada" {
		t.Errorf("the tenant's CRM holds %v, want the created record", recs)
	}
	if n := len(e.records(agentB, "customer")); n != 0 {
		t.Errorf("another tenant's CRM got %d records", n)
	}
	// Canonical input as for the agent: unknown keys are refused, named.
	wantProblem(t, e.create(key, map[string]any{"object": "customer", "fields": map[string]any{"shoe_size": 44}}), nethttp.StatusBadRequest, "invalid", "fields.shoe_size")
	wantProblem(t, e.create(key, map[string]any{"object": "deal", "fields": map[string]any{"amount": "lots"}}), nethttp.StatusBadRequest, "invalid", "fields.amount")
}

// mapLeads maps the canonical lead onto the mem driver's people, which is
// how an operator gives a CRM without a lead object one.
func (e *env) mapLeads(tenant string) {
	e.t.Helper()
	put := func(kind, key, target string) {
		wantStatus(e.t, e.op(nethttp.MethodPut, "/tenants/"+tenant+"/mappings/"+kind+"/"+key, map[string]string{"target": target}), nethttp.StatusOK)
	}
	put("object", "lead", "people")
	for short, field := range map[string]string{"first_name": "first", "last_name": "last", "email": "email", "phone": "phone"} {
		put("write", "lead."+short, field)
		put("read", "lead."+short, field)
	}
}

// lead gets a lead through GET /v1/leads/{id}.
func (e *env) lead(key, id string) map[string]any {
	e.t.Helper()
	r := e.do(nethttp.MethodGet, "/v1/leads/"+id, key, nil)
	wantStatus(e.t, r, nethttp.StatusOK)
	return r.object(e.t)
}

func TestLeads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	e.mapLeads(tenant)
	key, keyID := e.apiKey(tenant, "leads:write")
	reader, _ := e.apiKey(tenant, "crm:read")
	body := map[string]any{"fields": map[string]any{"first_name": "Ada", "email": "ada@example.com"}, "idempotency_key": "web-form-1"}

	first := e.do(nethttp.MethodPost, "/v1/leads", key, body, "X-Request-ID", "req-lead-1")
	wantStatus(t, first, nethttp.StatusAccepted)
	got := first.object(t)
	if diff := cmp.Diff([]string{"attempts", "created_at", "id", "status", "updated_at"}, keys(got)); diff != "" {
		t.Errorf("202 keys (-want +got):\n%s", diff)
	}
	id, _ := got["id"].(string)
	if !strings.HasPrefix(id, host.LeadIDPrefix) || got["status"] != "pending" || got["attempts"] != 0.0 {
		t.Fatalf("202 = %s", first.body)
	}

	// The job writes it; GET shows it written, to leads:write and
	// crm:read keys alike.
	deadline := time.Now().Add(20 * time.Second)
	var l map[string]any
	for l = e.lead(reader, id); l["status"] == "pending"; l = e.lead(reader, id) {
		if time.Now().After(deadline) {
			t.Fatalf("the lead is still pending: %v", l)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l["status"] != "written" || l["attempts"] != 1.0 || l["external_id"] == nil || !strings.HasPrefix(l["record_url"].(string), "https://") || l["last_error"] != nil {
		t.Fatalf("lead = %v", l)
	}
	if diff := cmp.Diff(l, e.lead(key, id)); diff != "" {
		t.Errorf("leads:write and crm:read keys see different leads:\n%s", diff)
	}
	recs := e.records(agent, "customer")
	if len(recs) != 1 || recs[0]["external_id"] != l["external_id"] || recs[0]["fields"].(map[string]any)["email"] != "ada@example.com" {
		t.Errorf("the CRM holds %v", recs)
	}

	// A repeat replays the first 202 byte for byte, storing nothing new.
	wantReplay(t, first, e.do(nethttp.MethodPost, "/v1/leads", key, body))
	wantReplay(t, first, e.do(nethttp.MethodPost, "/v1/leads", key, `{"fields": {"email": "ada@example.com", "first_name": "Ada"}}`, "Idempotency-Key", "web-form-1"))
	// The same lead with full canonical keys is the same request.
	wantReplay(t, first, e.do(nethttp.MethodPost, "/v1/leads", key, `{"fields": {"lead.email": "ada@example.com", "lead.first_name": "Ada"}}`, "Idempotency-Key", "web-form-1"))
	other := map[string]any{"fields": map[string]any{"first_name": "Grace"}, "idempotency_key": "web-form-1"}
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/leads", key, other), nethttp.StatusUnprocessableEntity, "idempotency_key_reused", "idempotency_key")
	if ls, err := e.store.ListLeads(context.Background(), tenant, host.LeadFilter{}); err != nil || len(ls) != 1 {
		t.Errorf("%d leads stored (%v), want 1", len(ls), err)
	}
	// Without a key every submission is a lead of its own.
	r := e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Grace"}})
	wantStatus(t, r, nethttp.StatusAccepted)
	if r.object(t)["id"] == id {
		t.Errorf("a keyless lead reused the first")
	}

	// The submission is audited under the API key.
	var found bool
	for _, row := range e.auditRows(tenant) {
		if row.Action == "lead.submit" && row.RequestID == "req-lead-1" {
			found = row.ActorType == host.ActorAPIKey && row.ActorID == keyID
		}
	}
	if !found {
		t.Errorf("no lead.submit audit row by key %s", keyID)
	}

	// Another tenant's lead is the same 404 as one that does not exist.
	tenantB, _ := e.connected("Globex", "globex")
	keyB, _ := e.apiKey(tenantB, "leads:write", "crm:read")
	theirs := e.do(nethttp.MethodGet, "/v1/leads/"+id, keyB, nil, "X-Request-ID", "req-404")
	wantProblem(t, theirs, nethttp.StatusNotFound, "not_found", "")
	missing := e.do(nethttp.MethodGet, "/v1/leads/lead_nosuchleadatall0000000000", keyB, nil, "X-Request-ID", "req-404")
	wantProblem(t, missing, nethttp.StatusNotFound, "not_found", "")
	if a, b := strings.ReplaceAll(string(theirs.body), id, "ID"), strings.ReplaceAll(string(missing.body), "lead_nosuchleadatall0000000000", "ID"); a != b {
		t.Errorf("another tenant's lead and a missing one answer differently:\n%s\n%s", a, b)
	}
}

// TestLeadsRefused: what SubmitLead refuses is a clear 400 that stores
// nothing and frees the key.
func TestLeadsRefused(t *testing.T) {
	t.Parallel()
	// The default body limit (1 MiB), so a 300 KB value reaches the check.
	e := newEnv(t, func(o *envOptions) { o.maxBody = 1 << 20 })
	tenant, _ := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "leads:write")
	// No lead object at this CRM yet.
	p := wantProblem(t, e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "l-1"}), nethttp.StatusBadRequest, "invalid", "object")
	if !strings.Contains(p.Detail, "lead") {
		t.Errorf("detail %q", p.Detail)
	}
	e.mapLeads(tenant)
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"shoe_size": 44}, "idempotency_key": "l-2"}), nethttp.StatusBadRequest, "invalid", "fields.shoe_size")
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{}, "idempotency_key": "l-3"}), nethttp.StatusBadRequest, "invalid", "fields")
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Ada"}, "idempotency_key": strings.Repeat("k", 256)}), nethttp.StatusBadRequest, "invalid", "idempotency_key")
	// Values certain to fail the write later are refused now.
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Ada", "phone": "+1 555"}, "idempotency_key": "l-4"}), nethttp.StatusBadRequest, "invalid", "fields.phone")
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": strings.Repeat("x", 300<<10)}, "idempotency_key": "l-5"}), nethttp.StatusBadRequest, "invalid", "fields.first_name")
	if ls, err := e.store.ListLeads(context.Background(), tenant, host.LeadFilter{}); err != nil || len(ls) != 0 {
		t.Errorf("refused leads were stored: %v, %v", ls, err)
	}
	for _, k := range []string{"l-1", "l-2", "l-3", "l-4", "l-5"} {
		if _, err := e.store.GetIdempotency(context.Background(), tenant, k); host.CodeOf(err) != host.CodeNotFound {
			t.Errorf("idempotency key %s kept: %v", k, err)
		}
	}
	// Now the first request, retried, goes through.
	wantStatus(t, e.do(nethttp.MethodPost, "/v1/leads", key, map[string]any{"fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "l-1"}), nethttp.StatusAccepted)
}

// TestPublicCRMVerbs: /v1/crm/* are the agent's CRM tools for an API key:
// the same answers as the agent's routes on the same tenant, the key's
// scopes checked (crm:read to look up, search and list; crm:write to
// create and update), the credential's decrypt audited to the key, and
// the same request limits.
func TestPublicCRMVerbs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(hosthttp.RateLimits{
		Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{}),
		APIKey:  ratelimit.Limit{Rate: 200, Period: time.Minute},
		Tool:    ratelimit.Limit{Rate: 3, Period: time.Minute},
	}))
	tenant, agent := e.connected("Acme", "acme")
	key, keyID := e.apiKey(tenant, "crm:read", "crm:write")
	readKey, _ := e.apiKey(tenant, "crm:read")
	writeKey, _ := e.apiKey(tenant, "crm:write")
	v1 := func(verb, k string, body any) resp {
		t.Helper()
		return e.do(nethttp.MethodPost, "/v1/crm/"+verb, k, body)
	}

	r := v1("create-record", key, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "email": "ada@example.com"}})
	wantStatus(t, r, nethttp.StatusOK)
	id := r.object(t)["external_id"].(string)
	wantStatus(t, v1("update-record", key, map[string]any{"object": "customer", "external_id": id, "fields": map[string]any{"last_name": "Lovelace"}}), nethttp.StatusOK)

	// The same answers as the agent's tools.
	for _, c := range []struct {
		verb, tool string
		body       any
	}{
		{"lookup-customer", "crm_lookup_customer", map[string]string{"email": "ada@example.com"}},
		{"search-records", "crm_search_records", map[string]any{"object": "customer", "query": "Ada"}},
		{"list-recent", "crm_list_recent", map[string]any{"object": "customer", "since": "2020-01-01T00:00:00Z"}},
	} {
		pub, tool := v1(c.verb, readKey, c.body), e.tool(c.tool, agent, c.body)
		wantStatus(t, pub, nethttp.StatusOK)
		wantStatus(t, tool, nethttp.StatusOK)
		if diff := cmp.Diff(tool.object(t), pub.object(t)); diff != "" {
			t.Errorf("/v1/crm/%s and %s disagree (-tool +public):\n%s", c.verb, c.tool, diff)
		}
		if !strings.Contains(string(pub.body), "Lovelace") {
			t.Errorf("/v1/crm/%s: %s, want the updated record", c.verb, pub.body)
		}
	}

	// Scopes.
	wantProblem(t, v1("lookup-customer", writeKey, map[string]string{"email": "ada@example.com"}), nethttp.StatusForbidden, "forbidden", "scope")
	wantProblem(t, v1("update-record", readKey, map[string]any{"object": "customer", "external_id": id, "fields": map[string]any{"last_name": "X"}}), nethttp.StatusForbidden, "forbidden", "scope")
	wantProblem(t, v1("list-recent", agent, map[string]any{"object": "customer"}), nethttp.StatusUnauthorized, "unauthenticated", "")

	// The decrypts behind the key's calls are audited to the key.
	byKey := 0
	for _, row := range e.auditRows(tenant) {
		if row.Action == "credential.decrypt" && row.ActorType == host.ActorAPIKey && row.ActorID == keyID {
			byKey++
		}
	}
	if byKey != 2 {
		t.Errorf("%d decrypts audited to key %s, want 2 (its create and update)", byKey, keyID)
	}

	// The per-(tenant, tool) limit, one budget with the agent's route:
	// the comparison above spent two of 3 (one public lookup, one agent's).
	wantStatus(t, v1("lookup-customer", readKey, map[string]string{"email": "ada@example.com"}), nethttp.StatusOK)
	p := wantProblem(t, v1("lookup-customer", key, map[string]string{"email": "ada@example.com"}), nethttp.StatusTooManyRequests, "rate_limited", "")
	if p.LimitedBy != hosthttp.LimitedByHost || !strings.Contains(p.Detail, `"tool"`) {
		t.Errorf("the 4th public lookup: %+v, want the host's tool limit", p)
	}
}
