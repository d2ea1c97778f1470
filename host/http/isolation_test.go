package http_test

import (
	"encoding/json"
	nethttp "net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"crmhost.dev/host"
	hosthttp "crmhost.dev/host/http"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// isoObject is which object a cell of the isolation matrix addresses.
type isoObject int

const (
	ownObject   isoObject = iota // tenant A's
	otherObject                  // tenant B's, asked for by A
	noObject                     // one that does not exist
)

// isoCred is the kind of credential a route takes.
type isoCred string

const (
	credAgent    isoCred = "agent JWT"
	credAPIKey   isoCred = "API key"
	credOperator isoCred = "operator token"
)

// isoCall is one request of a cell. probe is the object's identifier as
// the caller wrote it (an id, a key, a search term): the answers for B's
// object and for a nonexistent one are compared with it replaced.
type isoCall struct {
	method, path string
	body         any
	hdr          []string
	probe        string
}

// isoRow is one route of the matrix.
type isoRow struct {
	route string // "METHOD /gin/path", as Server.Routes() lists it
	cred  isoCred
	// scope is the scope the missing-scope cell's credential lacks; empty
	// when the route's credential carries no scopes (operator routes).
	scope string
	// call builds the request for an object; the credential is the cell's.
	call func(isoObject) isoCall
	// other, none: whether the route takes an object for which B's, or a
	// nonexistent one, can be asked. When not, why says why.
	other, none bool
	why         string
	// own is the status for A's object; absent the status for B's object
	// and a nonexistent one (404; 200 or 2xx where the route answers an
	// absent object with an empty result or creates a fresh one).
	own, absent int
	// mask are answer fields that differ by nature between B's object and a
	// nonexistent one (the id of a freshly created record).
	mask []string
	// spans: the operator legitimately sees every tenant on this route, so
	// B's identity may appear in A's answer (its secrets still may not).
	spans bool
	// after checks, once the own and other cells ran, that B's objects are
	// untouched.
	after func(t *testing.T)
}

// TestTenantIsolationMatrix is the isolation matrix (TestTenantIsolation, in
// auth_test.go, walks the agent routes by hand): every authenticated route ×
// {A's object, B's object, a nonexistent object} × {missing scope, each
// wrong kind of credential, no credential}. B's object and a nonexistent
// one get the same answer (same status and code, bodies equal but for
// request_id and instance); a missing scope is a 403; a wrong or missing
// credential a 401 that is the same whatever object it asks for; no answer
// holds another tenant's id, fields, tokens or keys. Every request and
// answer is also validated against the OpenAPI document.
func TestTenantIsolationMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	validate(t, e)
	GET, POST, PUT, DELETE := nethttp.MethodGet, nethttp.MethodPost, nethttp.MethodPut, nethttp.MethodDelete

	// Tenants A and B, connected to the same driver with different accounts.
	a, tokA := e.connected("Acme", "acme")
	b, tokB := e.connected("Globex", "globex")
	disposable := e.createTenant("Disposable")
	tok := func(tenant, scope string) string {
		return sign(t, jwt.SigningMethodHS256, hsSecret, claims(tenant, scope))
	}
	tokARead, tokAWrite := tok(a, hosthttp.ScopeRead), tok(a, hosthttp.ScopeWrite)

	// Records: A has a few, B many more, so B's last id does not exist in
	// A's account (the mem driver numbers records per account) even after
	// the cells below create some for A.
	adaBody := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "email": "ada@acme.example"}}
	r := e.tool("crm_create_record", tokA, adaBody, "Idempotency-Key", "iso-a")
	wantStatus(t, r, 200)
	ownID := r.object(t)["external_id"].(string)
	var otherID string
	bFields := map[string]any{"first_name": "Bartholomew", "last_name": "Quist", "email": "bart@globex.example", "phone": "+1 415 555 0199"}
	for i := range 25 {
		r := e.tool("crm_create_record", tokB, map[string]any{"object": "customer", "fields": bFields}, "Idempotency-Key", "iso-b-"+strconv.Itoa(i))
		wantStatus(t, r, 200)
		otherID = r.object(t)["external_id"].(string)
	}
	const noID = "p-999999"

	// Mapping overrides: B's key is unknown to A.
	for _, m := range []struct{ tenant, kind, key string }{
		{a, "read", "customer.acme_only"}, {a, "read", "customer.acme_del"},
		{b, "write", "customer.globex_only"}, {b, "read", "customer.shared"},
	} {
		wantStatus(t, e.op(PUT, "/tenants/"+m.tenant+"/mappings/"+m.kind+"/"+m.key, map[string]string{"target": "notes"}), 200)
	}

	// API keys.
	mirrorScopes := []string{"conversations:write", "customers:write", "cases:write"}
	outboundScopes := []string{"consents:write", "dnc:write", "calls:read"}
	aFull, _ := e.issueKey(a, append(append([]string{"crm:read", "crm:write", "leads:write"}, mirrorScopes...), outboundScopes...)...)
	aNoCRMWrite, _ := e.issueKey(a, "crm:read", "leads:write")
	aNoLeads, _ := e.issueKey(a, "crm:read", "crm:write")
	aWriteOnly, _ := e.issueKey(a, "crm:write")
	aNoConsents, _ := e.issueKey(a, "crm:read", "dnc:write", "calls:read")
	aNoDNC, _ := e.issueKey(a, "crm:read", "consents:write", "calls:read")
	aNoCalls, _ := e.issueKey(a, "crm:read", "consents:write", "dnc:write")
	_, aSpareID := e.issueKey(a, "crm:read")
	bFull, bKeyID := e.issueKey(b, append([]string{"crm:read", "crm:write", "leads:write"}, mirrorScopes...)...)
	r = e.op(GET, "/tenants/"+b+"/api-keys", nil)
	wantStatus(t, r, 200)
	var bKeys struct {
		APIKeys []struct{ ID, Prefix string } `json:"api_keys"`
	}
	r.decode(t, &bKeys)
	bPrefix := bKeys.APIKeys[0].Prefix

	// Public creates and leads, each with an idempotency key; both tenants'
	// CRMs take leads as people.
	e.mapLeads(a)
	e.mapLeads(b)
	wantStatus(t, e.do(POST, "/v1/crm/create-record", aFull, adaBody, "Idempotency-Key", "iso-av1"), 200)
	wantStatus(t, e.do(POST, "/v1/crm/create-record", bFull, map[string]any{"object": "customer", "fields": bFields}, "Idempotency-Key", "iso-bv1"), 200)
	leadA := map[string]any{"fields": map[string]any{"first_name": "Ada", "email": "ada@acme.example"}}
	r = e.do(POST, "/v1/leads", aFull, leadA, "Idempotency-Key", "lead-a")
	wantStatus(t, r, 202)
	ownLead, _ := r.object(t)["id"].(string)
	r = e.do(POST, "/v1/leads", bFull, map[string]any{"fields": bFields}, "Idempotency-Key", "lead-b")
	wantStatus(t, r, 202)
	otherLead, _ := r.object(t)["id"].(string)
	noLead := "lead_" + strings.Repeat("0", max(1, len(otherLead)-len("lead_")))

	// Mirrored rows of each class and an erasure, for A and for B.
	type mirrored struct{ customer, kase, conv, erasure string }
	mirrorOf := func(key, tenant, name string) mirrored {
		t.Helper()
		id := func(path string, body any) string {
			r := e.do(POST, path, key, body)
			wantStatus(t, r, 202)
			return r.object(t)["row"].(map[string]any)["id"].(string)
		}
		var m mirrored
		m.customer = id("/v1/customers", map[string]any{"fields": map[string]any{"first_name": name}})
		m.kase = id("/v1/cases", map[string]any{"fields": map[string]any{"subject": name + "'s case"}, "customer": map[string]any{"id": m.customer}})
		m.conv = id("/v1/conversations", map[string]any{"customer": map[string]any{"id": m.customer}, "messages": []map[string]any{{"role": "caller", "text": "hi"}}})
		r := e.op(POST, "/tenants/"+tenant+"/forget", map[string]string{"email": "nobody-" + name + "@example.com"})
		wantStatus(t, r, 202)
		m.erasure = r.object(t)["id"].(string)
		return m
	}
	mA, mB := mirrorOf(aFull, a, "Ada"), mirrorOf(bFull, b, "Bartholomew")
	noRow := func(prefix string) string { return prefix + strings.Repeat("0", 26) }

	// Outbound: rules, consents and call requests of both tenants.
	mkRule := func(tenant, name string) string {
		r := e.op(POST, "/tenants/"+tenant+"/trigger-rules", map[string]any{"name": name, "enabled": true, "events": []string{"record.created"},
			"objects": []string{"customer"}, "purpose": "informational"})
		wantStatus(t, r, 201)
		return r.object(t)["id"].(string)
	}
	aRule, aRuleDel, bRule := mkRule(a, "acme calls"), mkRule(a, "acme spare"), mkRule(b, "globex calls")
	mkConsent := func(tenant, person, phone string) string {
		body := consentBody("Seller of "+person, phone)
		body["person_name"] = person
		r := e.op(POST, "/tenants/"+tenant+"/consents", body)
		wantStatus(t, r, 201)
		return r.object(t)["id"].(string)
	}
	aConsent, bConsent := mkConsent(a, "Ada", "+1 212 555 0123"), mkConsent(b, "Bartholomew Quist", "+1 415 555 0199")
	mkCall := func(tenant, event string) string {
		_, c, _, err := e.store.RecordDecision(t.Context(), host.Decision{TenantID: tenant, EventID: event, RuleID: "trg_iso", Outcome: host.DecisionFired, Purpose: host.PurposeInformational},
			&host.CallRequest{Payload: json.RawMessage(`{"type":"outbound_call.requested"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	aCall, bCall := mkCall(a, "evt_iso_a"), mkCall(b, "evt_iso_b")
	bRuleIntact := func(t *testing.T) {
		t.Helper()
		r, err := e.store.GetTriggerRule(t.Context(), b, bRule)
		if err != nil || r.Version != 1 || r.Deleted {
			t.Errorf("B's rule changed: %+v %v", r, err)
		}
	}
	bConsentIntact := func(t *testing.T) {
		t.Helper()
		c, err := e.store.GetConsent(t.Context(), b, bConsent)
		if err != nil || c.Revoked() {
			t.Errorf("B's consent changed: %+v %v", c, err)
		}
	}
	bCallIntact := func(t *testing.T) {
		t.Helper()
		c, err := e.store.GetCallRequest(t.Context(), b, bCall)
		if err != nil || c.Status != host.CallPending {
			t.Errorf("B's call request changed: %+v %v", c, err)
		}
	}

	// A driver registered to be removed.
	if _, err := e.store.RegisterDriver(t.Context(), host.DriverEntry{Slug: "mem-remove", Command: filepath.Base(memBinary), SHA256: memSHA}); err != nil {
		t.Fatal(err)
	}
	noTenant := "ten_" + strings.Repeat("0", max(1, len(a)-len("ten_")))

	// Everything that must never reach A: B's identity and data, and every
	// secret.
	bIdentity := []string{b, "globex", "Bartholomew", "Quist", "555 0199", "4155550199", bKeyID, bPrefix, otherLead, mB.customer, mB.kase, mB.conv, mB.erasure,
		bRule, bConsent, bCall}
	secrets := []string{operatorToken, string(hsSecret), "good-key", tokA, tokB, tokARead, tokAWrite, aFull, aNoCRMWrite, aNoLeads, aWriteOnly, bFull,
		aNoConsents, aNoDNC, aNoCalls}

	bRecordIntact := func(t *testing.T) {
		t.Helper()
		r := e.tool("crm_lookup_customer", tokB, map[string]string{"external_id": otherID})
		wantStatus(t, r, 200)
		var got struct {
			Customer struct{ Fields map[string]any }
		}
		r.decode(t, &got)
		if diff := cmp.Diff(bFields, got.Customer.Fields); diff != "" {
			t.Errorf("B's record %s changed (-want +got):\n%s", otherID, diff)
		}
	}
	bMappingsIntact := func(t *testing.T) {
		t.Helper()
		r := e.op(GET, "/tenants/"+b+"/mappings", nil)
		wantStatus(t, r, 200)
		var m struct {
			Overrides []struct{ Kind, Key, Target string }
		}
		r.decode(t, &m)
		got := map[string]string{}
		for _, o := range m.Overrides {
			got[o.Kind+" "+o.Key] = o.Target
		}
		if got["write customer.globex_only"] != "notes" || got["read customer.shared"] != "notes" {
			t.Errorf("B's overrides changed: %s", r.body)
		}
	}
	bKeyIntact := func(t *testing.T) {
		t.Helper()
		wantStatus(t, e.do(GET, "/v1/leads/"+otherLead, bFull, nil), 200)
	}

	pick := func(o isoObject, own, other, none string) string {
		return [...]string{own, other, none}[o]
	}
	tenantPath := func(o isoObject, suffix string) isoCall {
		id := pick(o, a, "", noTenant)
		return isoCall{method: GET, path: "/api/operator/tenants/" + id + suffix, probe: id}
	}
	with := func(c isoCall, method string, body any) isoCall {
		c.method, c.body = method, body
		return c
	}
	const spansWhy = "the operator token spans every tenant: B is reached by B's own id, not through A"
	const collectionWhy = "a collection: the own cell checks that none of B's objects are in it"
	const notOwnedWhy = "not a tenant's object"

	// mirrorRow and mirrorGet are the rows of a mirrored class's POST and
	// GET: a repeat of A's idempotency key replays, B's key is fresh for A.
	mirrorRow := func(path, scope, own, other, none string, body map[string]any) isoRow {
		return isoRow{route: "POST " + path, cred: credAPIKey, scope: scope, own: 202, absent: 202, other: true, none: true,
			mask: []string{"row"},
			call: func(o isoObject) isoCall {
				k := pick(o, "iso-mirror-a"+path, "iso-mirror-b"+path, "iso-mirror-fresh"+path)
				return isoCall{method: POST, path: path, body: body, hdr: []string{"Idempotency-Key", k}, probe: k}
			}}
	}
	mirrorGet := func(path, scope, own, other, none string) isoRow {
		return isoRow{route: "GET " + path + "/:id", cred: credAPIKey, scope: scope + " crm:read", own: 200, absent: 404, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, own, other, none)
				return isoCall{method: GET, path: path + "/" + id, probe: id}
			}}
	}

	rows := []isoRow{
		// Agent tool routes: the tenant is the token's.
		{route: "POST /api/tools/crm_lookup_customer", cred: credAgent, scope: hosthttp.ScopeRead, own: 200, absent: 200, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, ownID, otherID, noID)
				return isoCall{method: POST, path: "/api/tools/crm_lookup_customer", body: map[string]string{"external_id": id}, probe: id}
			}},
		{route: "POST /api/tools/crm_search_records", cred: credAgent, scope: hosthttp.ScopeRead, own: 200, absent: 200, other: true, none: true,
			call: func(o isoObject) isoCall {
				q := pick(o, "Ada", "Bartholomew", "Nobodyatall")
				return isoCall{method: POST, path: "/api/tools/crm_search_records", body: map[string]any{"object": "customer", "query": q}, probe: q}
			}},
		{route: "POST /api/tools/crm_list_recent", cred: credAgent, scope: hosthttp.ScopeRead, own: 200, why: collectionWhy,
			call: func(isoObject) isoCall {
				return isoCall{method: POST, path: "/api/tools/crm_list_recent", body: map[string]any{"object": "customer", "limit": 1000}}
			}},
		{route: "POST /api/tools/crm_create_record", cred: credAgent, scope: hosthttp.ScopeWrite, own: 200, absent: 200, other: true, none: true,
			mask: []string{"external_id", "record_url"},
			call: func(o isoObject) isoCall {
				// The object is the idempotency key: A's replays, B's must
				// not (nor be refused as reused): keys are per tenant.
				k := pick(o, "iso-a", "iso-b-24", "iso-fresh-tool")
				return isoCall{method: POST, path: "/api/tools/crm_create_record", body: adaBody, hdr: []string{"Idempotency-Key", k}, probe: k}
			}},
		{route: "POST /api/tools/crm_update_record", cred: credAgent, scope: hosthttp.ScopeWrite, own: 200, absent: 404, other: true, none: true,
			after: bRecordIntact,
			call: func(o isoObject) isoCall {
				id := pick(o, ownID, otherID, noID)
				return isoCall{method: POST, path: "/api/tools/crm_update_record", body: map[string]any{"object": "customer", "external_id": id,
					"fields": map[string]any{"last_name": "Overwritten"}}, probe: id}
			}},

		// The public API: the tenant is the key's; /v1/crm/* are the agent's
		// tools for a key.
		{route: "POST /v1/crm/lookup-customer", cred: credAPIKey, scope: "crm:read", own: 200, absent: 200, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, ownID, otherID, noID)
				return isoCall{method: POST, path: "/v1/crm/lookup-customer", body: map[string]string{"external_id": id}, probe: id}
			}},
		{route: "POST /v1/crm/search-records", cred: credAPIKey, scope: "crm:read", own: 200, absent: 200, other: true, none: true,
			call: func(o isoObject) isoCall {
				q := pick(o, "Ada", "Bartholomew", "Nobodyatall")
				return isoCall{method: POST, path: "/v1/crm/search-records", body: map[string]any{"object": "customer", "query": q}, probe: q}
			}},
		{route: "POST /v1/crm/list-recent", cred: credAPIKey, scope: "crm:read", own: 200, why: collectionWhy,
			call: func(isoObject) isoCall {
				return isoCall{method: POST, path: "/v1/crm/list-recent", body: map[string]any{"object": "customer", "limit": 1000}}
			}},
		{route: "POST /v1/crm/update-record", cred: credAPIKey, scope: "crm:write", own: 200, absent: 404, other: true, none: true,
			after: bRecordIntact,
			call: func(o isoObject) isoCall {
				id := pick(o, ownID, otherID, noID)
				return isoCall{method: POST, path: "/v1/crm/update-record", body: map[string]any{"object": "customer", "external_id": id,
					"fields": map[string]any{"last_name": "Overwritten"}}, probe: id}
			}},
		{route: "POST /v1/crm/create-record", cred: credAPIKey, scope: "crm:write", own: 200, absent: 200, other: true, none: true,
			mask: []string{"external_id", "record_url"},
			call: func(o isoObject) isoCall {
				k := pick(o, "iso-av1", "iso-bv1", "iso-fresh-v1")
				return isoCall{method: POST, path: "/v1/crm/create-record", body: adaBody, hdr: []string{"Idempotency-Key", k}, probe: k}
			}},
		{route: "POST /v1/leads", cred: credAPIKey, scope: "leads:write", own: 202, absent: 202, other: true, none: true,
			mask: []string{"id", "created_at", "updated_at"},
			call: func(o isoObject) isoCall {
				k := pick(o, "lead-a", "lead-b", "lead-fresh")
				return isoCall{method: POST, path: "/v1/leads", body: leadA, hdr: []string{"Idempotency-Key", k}, probe: k}
			}},
		{route: "GET /v1/leads/:id", cred: credAPIKey, scope: "leads:write crm:read", own: 200, absent: 404, other: true, none: true,
			after: bKeyIntact,
			call: func(o isoObject) isoCall {
				id := pick(o, ownLead, otherLead, noLead)
				return isoCall{method: GET, path: "/v1/leads/" + id, probe: id}
			}},

		// The public outbound routes.
		{route: "POST /v1/consents", cred: credAPIKey, scope: "consents:write", own: 201, why: "records a fresh consent: no object of B's can be named",
			call: func(isoObject) isoCall {
				return isoCall{method: POST, path: "/v1/consents", body: consentBody("Acme Homes LLC", "+1 212 555 0112")}
			}},
		{route: "GET /v1/consents/:id", cred: credAPIKey, scope: "consents:write", own: 200, absent: 404, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, aConsent, bConsent, "cns_"+strings.Repeat("0", max(1, len(bConsent)-len("cns_"))))
				return isoCall{method: GET, path: "/v1/consents/" + id, probe: id}
			}},
		{route: "POST /v1/consents/revoke", cred: credAPIKey, scope: "consents:write", own: 200, after: bConsentIntact,
			why: "names a number: A's revocation of B's customer's number revokes A's consents only (B's checked after)",
			call: func(isoObject) isoCall {
				return isoCall{method: POST, path: "/v1/consents/revoke", body: map[string]any{"phone": "+1 415 555 0199", "channel": "call"}}
			}},
		{route: "POST /v1/dnc-scrubs", cred: credAPIKey, scope: "dnc:write", own: 200, why: "records A's own scrub of a number",
			call: func(isoObject) isoCall {
				return isoCall{method: POST, path: "/v1/dnc-scrubs", body: map[string]any{"phone": "+1 212 555 0123", "national_list_date": "2026-11-20T00:00:00Z"}}
			}},
		{route: "GET /v1/call-requests", cred: credAPIKey, scope: "calls:read", own: 200, why: collectionWhy,
			call: func(isoObject) isoCall { return isoCall{method: GET, path: "/v1/call-requests"} }},
		{route: "POST /v1/call-requests/:id/ack", cred: credAPIKey, scope: "calls:read", own: 200, absent: 404, other: true, none: true, after: bCallIntact,
			call: func(o isoObject) isoCall {
				id := pick(o, aCall, bCall, "call_"+strings.Repeat("0", max(1, len(bCall)-len("call_"))))
				return isoCall{method: POST, path: "/v1/call-requests/" + id + "/ack", probe: id}
			}},

		// Operator routes.
		{route: "GET /api/operator/health", cred: credOperator, own: 200, why: notOwnedWhy,
			call: func(isoObject) isoCall { return isoCall{method: GET, path: "/api/operator/health"} }},
		{route: "GET /api/operator/audit", cred: credOperator, own: 200, spans: true, why: spansWhy,
			call: func(isoObject) isoCall { return isoCall{method: GET, path: "/api/operator/audit?limit=1000"} }},
		{route: "GET /api/operator/drivers", cred: credOperator, own: 200, why: notOwnedWhy,
			call: func(isoObject) isoCall { return isoCall{method: GET, path: "/api/operator/drivers"} }},
		{route: "POST /api/operator/drivers", cred: credOperator, own: 201, why: notOwnedWhy,
			call: func(isoObject) isoCall {
				return isoCall{method: POST, path: "/api/operator/drivers", body: map[string]any{"file": filepath.Base(memBinary)}}
			}},
		{route: "GET /api/operator/drivers/:slug", cred: credOperator, own: 200, absent: 404, none: true, why: notOwnedWhy,
			call: func(o isoObject) isoCall {
				s := pick(o, "mem", "", "nosuch")
				return isoCall{method: GET, path: "/api/operator/drivers/" + s, probe: s}
			}},
		{route: "DELETE /api/operator/drivers/:slug", cred: credOperator, own: 204, absent: 404, none: true, why: notOwnedWhy,
			call: func(o isoObject) isoCall {
				s := pick(o, "mem-remove", "", "nosuch")
				return isoCall{method: DELETE, path: "/api/operator/drivers/" + s, probe: s}
			}},
		{route: "PUT /api/operator/drivers/:slug/app-credentials", cred: credOperator, own: 200, absent: 404, none: true, why: notOwnedWhy,
			call: func(o isoObject) isoCall {
				s := pick(o, "mem", "", "nosuch")
				return isoCall{method: PUT, path: "/api/operator/drivers/" + s + "/app-credentials", probe: s,
					body: map[string]any{"values": map[string]string{"partner_key": "iso-partner-key"}}}
			}},
		{route: "GET /api/operator/drivers/:slug/app-credentials", cred: credOperator, own: 200, absent: 404, none: true, why: notOwnedWhy,
			call: func(o isoObject) isoCall {
				s := pick(o, "mem", "", "nosuch")
				return isoCall{method: GET, path: "/api/operator/drivers/" + s + "/app-credentials", probe: s}
			}},
		{route: "DELETE /api/operator/drivers/:slug/app-credentials", cred: credOperator, own: 204, absent: 404, none: true, why: notOwnedWhy,
			call: func(o isoObject) isoCall {
				s := pick(o, "mem", "", "nosuch")
				return isoCall{method: DELETE, path: "/api/operator/drivers/" + s + "/app-credentials", probe: s}
			}},
		{route: "GET /api/operator/tenants", cred: credOperator, own: 200, spans: true, why: spansWhy,
			call: func(isoObject) isoCall { return isoCall{method: GET, path: "/api/operator/tenants"} }},
		{route: "POST /api/operator/tenants", cred: credOperator, own: 201, why: notOwnedWhy,
			call: func(isoObject) isoCall {
				return isoCall{method: POST, path: "/api/operator/tenants", body: map[string]string{"name": "Initech"}}
			}},
		{route: "GET /api/operator/tenants/:tenant_id", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "") }},
		{route: "DELETE /api/operator/tenants/:tenant_id", cred: credOperator, own: 204, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				id := pick(o, disposable, "", noTenant)
				return isoCall{method: DELETE, path: "/api/operator/tenants/" + id, probe: id}
			}},
		{route: "PUT /api/operator/tenants/:tenant_id/connection", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/connection"), PUT, map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme", "api_key": "good-key"}})
			}},
		{route: "GET /api/operator/tenants/:tenant_id/connection", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/connection") }},
		{route: "PATCH /api/operator/tenants/:tenant_id/connection", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/connection"), nethttp.MethodPatch, map[string]any{"credentials": map[string]string{"region": "eu"}})
			}},
		{route: "POST /api/operator/tenants/:tenant_id/connection/oauth", cred: credOperator, own: 400, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/connection/oauth"), POST, map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme"}})
			}},
		{route: "GET /api/operator/tenants/:tenant_id/connection/objects", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/connection/objects") }},
		{route: "POST /api/operator/tenants/:tenant_id/connection/objects", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return with(tenantPath(o, "/connection/objects"), POST, nil) }},
		{route: "POST /api/operator/tenants/:tenant_id/connection/test", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return with(tenantPath(o, "/connection/test"), POST, nil) }},
		{route: "GET /api/operator/tenants/:tenant_id/mappings", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/mappings") }},
		{route: "PUT /api/operator/tenants/:tenant_id/mappings/:kind/:key", cred: credOperator, own: 200, absent: 404, none: true,
			why: "an upsert of A's own override, named by a canonical key; B's overrides of the same key stay untouched (checked after)", after: bMappingsIntact,
			call: func(o isoObject) isoCall {
				c := tenantPath(o, "/mappings/read/customer.shared")
				return with(c, PUT, map[string]string{"target": "first"})
			}},
		{route: "DELETE /api/operator/tenants/:tenant_id/mappings/:kind/:key", cred: credOperator, own: 204, absent: 404, other: true, none: true,
			after: bMappingsIntact,
			call: func(o isoObject) isoCall {
				kind := pick(o, "read", "write", "write")
				k := pick(o, "customer.acme_del", "customer.globex_only", "customer.nothing_here")
				return isoCall{method: DELETE, path: "/api/operator/tenants/" + a + "/mappings/" + kind + "/" + k, probe: k}
			}},
		{route: "GET /api/operator/tenants/:tenant_id/fields/:object", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/fields/customer") }},
		{route: "GET /api/operator/tenants/:tenant_id/audit", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/audit?limit=1000") }},
		{route: "POST /api/operator/tenants/:tenant_id/api-keys", cred: credOperator, own: 201, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/api-keys"), POST, map[string]any{"scopes": []string{"crm:read"}})
			}},
		{route: "GET /api/operator/tenants/:tenant_id/api-keys", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/api-keys") }},
		// Outbound operator routes.
		{route: "GET /api/operator/tenants/:tenant_id/webhook-events", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/webhook-events") }},
		{route: "GET /api/operator/tenants/:tenant_id/decisions", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/decisions") }},
		{route: "GET /api/operator/tenants/:tenant_id/outbound", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/outbound") }},
		{route: "PUT /api/operator/tenants/:tenant_id/outbound", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/outbound"), PUT, map[string]any{"enabled": false, "seller_name": "Acme Homes LLC"})
			}},
		{route: "GET /api/operator/tenants/:tenant_id/trigger-rules", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/trigger-rules") }},
		{route: "POST /api/operator/tenants/:tenant_id/trigger-rules", cred: credOperator, own: 201, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/trigger-rules"), POST, map[string]any{"name": "more", "events": []string{"record.created"}, "objects": []string{"lead"}})
			}},
		{route: "GET /api/operator/tenants/:tenant_id/trigger-rules/:rule_id", cred: credOperator, own: 200, absent: 404, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, aRule, bRule, "trg_"+strings.Repeat("0", max(1, len(bRule)-len("trg_"))))
				return isoCall{method: GET, path: "/api/operator/tenants/" + a + "/trigger-rules/" + id, probe: id}
			}},
		{route: "PUT /api/operator/tenants/:tenant_id/trigger-rules/:rule_id", cred: credOperator, own: 200, absent: 404, other: true, none: true, after: bRuleIntact,
			call: func(o isoObject) isoCall {
				id := pick(o, aRule, bRule, "trg_"+strings.Repeat("0", max(1, len(bRule)-len("trg_"))))
				return isoCall{method: PUT, path: "/api/operator/tenants/" + a + "/trigger-rules/" + id, probe: id,
					body: map[string]any{"name": "renamed", "events": []string{"record.created"}, "objects": []string{"customer"}, "version": 1}}
			}},
		{route: "DELETE /api/operator/tenants/:tenant_id/trigger-rules/:rule_id", cred: credOperator, own: 204, absent: 404, other: true, none: true, after: bRuleIntact,
			call: func(o isoObject) isoCall {
				id := pick(o, aRuleDel, bRule, "trg_"+strings.Repeat("0", max(1, len(bRule)-len("trg_"))))
				return isoCall{method: DELETE, path: "/api/operator/tenants/" + a + "/trigger-rules/" + id, probe: id}
			}},
		{route: "GET /api/operator/tenants/:tenant_id/consents", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/consents") }},
		{route: "POST /api/operator/tenants/:tenant_id/consents", cred: credOperator, own: 201, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/consents"), POST, consentBody("Acme Homes LLC", "+1 212 555 0111"))
			}},
		{route: "GET /api/operator/tenants/:tenant_id/consents/:consent_id", cred: credOperator, own: 200, absent: 404, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, aConsent, bConsent, "cns_"+strings.Repeat("0", max(1, len(bConsent)-len("cns_"))))
				return isoCall{method: GET, path: "/api/operator/tenants/" + a + "/consents/" + id, probe: id}
			}},
		{route: "POST /api/operator/tenants/:tenant_id/consents/revoke", cred: credOperator, own: 200, absent: 404, none: true, after: bConsentIntact,
			why: "names a number: A's revocation of B's customer's number revokes A's consents only (B's checked after)",
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/consents/revoke"), POST, map[string]any{"phone": "+1 415 555 0199", "channel": "operator"})
			}},

		{route: "DELETE /api/operator/tenants/:tenant_id/api-keys/:key_id", cred: credOperator, own: 204, absent: 404, other: true, none: true,
			after: bKeyIntact,
			call: func(o isoObject) isoCall {
				id := pick(o, aSpareID, bKeyID, "key_"+strings.Repeat("0", max(1, len(bKeyID)-len("key_"))))
				return isoCall{method: DELETE, path: "/api/operator/tenants/" + a + "/api-keys/" + id, probe: id}
			}},
		// Mirrored classes on the public API.
		mirrorRow("/v1/customers", "customers:write", mA.customer, mB.customer, noRow("cus_"), map[string]any{"fields": map[string]any{"first_name": "Ada"}}),
		mirrorGet("/v1/customers", "customers:write", mA.customer, mB.customer, noRow("cus_")),
		mirrorRow("/v1/cases", "cases:write", mA.kase, mB.kase, noRow("case_"), map[string]any{"fields": map[string]any{"subject": "x"}}),
		mirrorGet("/v1/cases", "cases:write", mA.kase, mB.kase, noRow("case_")),
		mirrorRow("/v1/conversations", "conversations:write", mA.conv, mB.conv, noRow("conv_"), map[string]any{"subject": "x"}),
		mirrorGet("/v1/conversations", "conversations:write", mA.conv, mB.conv, noRow("conv_")),
		{route: "POST /v1/conversations/:id/messages", cred: credAPIKey, scope: "conversations:write", own: 202, absent: 404, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, mA.conv, mB.conv, noRow("conv_"))
				return isoCall{method: POST, path: "/v1/conversations/" + id + "/messages", body: map[string]any{"messages": []map[string]any{{"role": "agent", "text": "ok"}}}, probe: id}
			}},
		{route: "GET /v1/conversations/:id/messages", cred: credAPIKey, scope: "conversations:write crm:read", own: 200, absent: 404, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, mA.conv, mB.conv, noRow("conv_"))
				return isoCall{method: GET, path: "/v1/conversations/" + id + "/messages", probe: id}
			}},

		// The operator's mirror routes.
		{route: "GET /api/operator/incidents", cred: credOperator, own: 200, spans: true, why: spansWhy,
			call: func(isoObject) isoCall { return isoCall{method: GET, path: "/api/operator/incidents?state=all"} }},
		{route: "GET /api/operator/tenants/:tenant_id/mirror", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/mirror") }},
		{route: "GET /api/operator/tenants/:tenant_id/mirror/rows", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/mirror/rows") }},
		{route: "POST /api/operator/tenants/:tenant_id/mirror/redrive", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return with(tenantPath(o, "/mirror/redrive"), POST, map[string]any{}) }},
		{route: "POST /api/operator/tenants/:tenant_id/forget", cred: credOperator, own: 202, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall {
				return with(tenantPath(o, "/forget"), POST, map[string]any{"email": "nobody-else@example.com"})
			}},
		{route: "GET /api/operator/tenants/:tenant_id/erasures", cred: credOperator, own: 200, absent: 404, none: true, why: spansWhy,
			call: func(o isoObject) isoCall { return tenantPath(o, "/erasures") }},
		{route: "GET /api/operator/tenants/:tenant_id/erasures/:erasure_id", cred: credOperator, own: 200, absent: 404, other: true, none: true,
			call: func(o isoObject) isoCall {
				id := pick(o, mA.erasure, mB.erasure, noRow("era_"))
				return isoCall{method: GET, path: "/api/operator/tenants/" + a + "/erasures/" + id, probe: id}
			}},
	}

	// The matrix covers every authenticated route the router has.
	srv := e.srv.Config.Handler.(*hosthttp.Server)
	// Host-wide routes with no tenant data (/metrics has its own token).
	// Inbound webhooks carry no host credential: the driver verifies each
	// delivery's signature (webhook_test.go).
	open := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
		"POST /webhooks/:provider", "GET /webhooks/:provider", "HEAD /webhooks/:provider", "PUT /webhooks/:provider",
		// The OAuth callback's credential is its single-use state (oauth_test.go).
		"GET /oauth/callback"}
	var want, got []string
	for _, r := range srv.Routes() {
		if !slices.Contains(open, r) {
			want = append(want, r)
		}
	}
	for _, row := range rows {
		got = append(got, row.route)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the isolation matrix does not cover the router's authenticated routes (-routes +matrix):\n%s", diff)
	}

	// The right credential of each kind for A (all scopes), a credential
	// of A's kind lacking a scope, and the wrong kinds.
	right := map[isoCred]string{credAgent: tokA, credAPIKey: aFull, credOperator: operatorToken}
	wrongKinds := map[isoCred][]isoCred{
		credAgent:    {credAPIKey, credOperator},
		credAPIKey:   {credAgent, credOperator},
		credOperator: {credAgent, credAPIKey},
	}
	lacking := map[isoCred]map[string]string{
		credAgent: {hosthttp.ScopeRead: tokAWrite, hosthttp.ScopeWrite: tokARead},
		credAPIKey: {"crm:read": aWriteOnly, "crm:write": aNoCRMWrite, "leads:write": aNoLeads, "leads:write crm:read": aWriteOnly,
			"customers:write": aNoCRMWrite, "cases:write": aNoCRMWrite, "conversations:write": aNoCRMWrite,
			"customers:write crm:read": aWriteOnly, "cases:write crm:read": aWriteOnly, "conversations:write crm:read": aWriteOnly,
			"consents:write": aNoConsents, "dnc:write": aNoDNC, "calls:read": aNoCalls},
	}

	cells := 0
	send := func(t *testing.T, c isoCall, cred string, bad bool) resp {
		t.Helper()
		hdr := slices.Clone(c.hdr)
		if bad {
			hdr = append(hdr, expect(expectInvalidRequest)...)
		}
		return e.do(c.method, c.path, cred, c.body, hdr...)
	}
	// noLeak fails if r holds anything in forbidden (the probe excepted: the
	// caller sent it).
	noLeak := func(t *testing.T, r resp, probe string, forbidden []string) {
		t.Helper()
		body := strings.ToLower(string(r.body))
		if probe != "" {
			body = strings.ReplaceAll(body, strings.ToLower(probe), "")
		}
		for _, f := range forbidden {
			if f != "" && strings.Contains(body, strings.ToLower(f)) {
				t.Errorf("the answer leaks %q: %s", f, r.body)
			}
		}
	}
	for _, row := range rows {
		t.Run(strings.ReplaceAll(row.route, "/", "_"), func(t *testing.T) {
			forbidden := secrets
			if !row.spans {
				forbidden = append(slices.Clone(secrets), bIdentity...)
			}
			objects := []isoObject{ownObject}
			if row.other {
				objects = append(objects, otherObject)
			}
			if row.none {
				objects = append(objects, noObject)
			}
			if !row.other || !row.none {
				t.Logf("%s: %s", row.route, row.why)
			}

			// Credential cells first: they must change nothing, and their
			// answer must not depend on the object asked for.
			type credCell struct {
				name   string
				cred   string
				status int
				code   string
			}
			var credCells []credCell
			if row.scope != "" {
				credCells = append(credCells, credCell{"missing scope " + row.scope, lacking[row.cred][row.scope], 403, "forbidden"})
			}
			for _, k := range wrongKinds[row.cred] {
				credCells = append(credCells, credCell{"wrong credential: " + string(k), right[k], 401, "unauthenticated"})
			}
			credCells = append(credCells, credCell{"no credential", "", 401, "unauthenticated"})
			for _, cc := range credCells {
				var first any
				for _, o := range objects {
					c := row.call(o)
					r := send(t, c, cc.cred, true)
					cells++
					wantProblem(t, r, cc.status, cc.code, "")
					noLeak(t, r, c.probe, forbidden)
					if cc.cred != "" && strings.Contains(string(r.body), cc.cred) {
						t.Errorf("%s: the answer echoes the credential", cc.name)
					}
					n := normalize(t, r.body, c.probe, nil)
					if first == nil {
						first = n
					} else if diff := cmp.Diff(first, n); diff != "" {
						t.Errorf("%s: the answer depends on the object asked for (-A's +object %d):\n%s", cc.name, o, diff)
					}
				}
			}

			// Object cells, with A's right credential.
			var absent resp
			var absentProbe string
			for _, o := range objects {
				c := row.call(o)
				r := send(t, c, right[row.cred], false)
				cells++
				noLeak(t, r, c.probe, forbidden)
				if o == ownObject {
					wantStatus(t, r, row.own)
					continue
				}
				if r.status != row.absent {
					t.Errorf("object %d (%s): status %d, want %d: %s", o, c.probe, r.status, row.absent, r.body)
					continue
				}
				if row.absent == 404 {
					wantProblem(t, r, 404, "not_found", "")
				}
				if r.header.Get("Idempotent-Replayed") != "" {
					t.Errorf("object %d (%s): a replayed answer: %s", o, c.probe, r.body)
				}
				if absent.status == 0 {
					absent, absentProbe = r, c.probe
					continue
				}
				if diff := cmp.Diff(normalize(t, absent.body, absentProbe, row.mask), normalize(t, r.body, c.probe, row.mask)); diff != "" {
					t.Errorf("B's object and a nonexistent one are told apart (-B's +nonexistent):\n%s", diff)
				}
			}
			if row.after != nil {
				row.after(t)
			}
		})
	}
	// Each route has 3 objects × 5 credentials (A's right one, one lacking
	// the scope, two of the wrong kinds, none).
	t.Logf("isolation matrix: %d routes × 3 objects × 5 credentials = %d cells: %d checked, %d not applicable",
		len(rows), len(rows)*15, cells, len(rows)*15-cells)
}

// normalize decodes an answer for comparison: request_id and instance
// dropped, the probed identifier replaced, masked fields blanked.
func normalize(t *testing.T, body []byte, probe string, mask []string) any {
	t.Helper()
	s := string(body)
	if probe != "" {
		s = strings.ReplaceAll(s, probe, "{object}")
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("answer %s is not JSON: %v", body, err)
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "request_id")
		delete(m, "instance")
		for _, k := range mask {
			if _, ok := m[k]; ok {
				m[k] = "{masked}"
			}
		}
	}
	return v
}
