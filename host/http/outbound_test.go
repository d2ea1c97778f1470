package http_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/host/outbound"
)

// consentBody is a consent for phone naming seller, covering an AI voice
// and both purposes.
func consentBody(seller, phone string) map[string]any {
	return map[string]any{"seller_name": seller, "person_name": "Ada Lovelace", "phone": phone,
		"purposes": []string{"informational", "telemarketing"}, "ai_voice": true, "written": true,
		"disclosure_text":    "I agree that " + seller + " may call me with an artificial voice; not a condition of purchase.",
		"disclosure_version": "v3", "method": "web_form", "source": "first_party", "url": "https://acme.example/form",
		"ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "consented_at": "2026-11-01T10:00:00Z"}
}

// exerciseOutbound drives every outbound route to a success and an error
// under the contract (TestOpenAPILiveResponses calls it).
func exerciseOutbound(t *testing.T, e *env, tenant string) {
	t.Helper()
	GET, POST, PUT, DELETE := nethttp.MethodGet, nethttp.MethodPost, nethttp.MethodPut, nethttp.MethodDelete
	bad := expect(expectInvalidRequest)
	base := "/tenants/" + tenant

	// Settings: the secret once.
	r := e.op(PUT, base+"/outbound", map[string]any{"enabled": true, "seller_name": "Acme Homes LLC"})
	wantStatus(t, r, 200)
	if s, _ := r.object(t)["signing_secret"].(string); !strings.HasPrefix(s, outbound.SecretPrefix) {
		t.Errorf("the first save issued no signing secret: %s", r.body)
	}
	wantProblem(t, e.op(PUT, base+"/outbound", map[string]any{"callback_url": "ftp://dialer.example"}), 400, "invalid", "callback_url")
	r = e.op(GET, base+"/outbound", nil)
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), outbound.SecretPrefix) {
		t.Errorf("settings show the secret: %s", r.body)
	}
	wantProblem(t, e.op(GET, "/tenants/ten_nosuch/outbound", nil), 404, "not_found", "")

	// Trigger rules: a rule on an unmapped field is refused.
	rule := map[string]any{"name": "new customers", "enabled": true, "events": []string{"record.created"}, "objects": []string{"customer"},
		"purpose": "informational", "conditions": []map[string]any{{"field": "customer.email", "op": "exists"}}}
	r = e.op(POST, base+"/trigger-rules", rule)
	wantStatus(t, r, 201)
	id, _ := r.object(t)["id"].(string)
	unmapped := map[string]any{"name": "x", "events": []string{"record.updated"}, "objects": []string{"deal"},
		"conditions": []map[string]any{{"field": "deal.stage", "op": "changed_to", "value": "Viewing booked"}}}
	wantProblem(t, e.op(POST, base+"/trigger-rules", unmapped), 400, "invalid", "conditions[0].field")
	wantStatus(t, e.op(GET, base+"/trigger-rules", nil), 200)
	wantProblem(t, e.op(GET, "/tenants/ten_nosuch/trigger-rules", nil), 404, "not_found", "")
	wantStatus(t, e.op(GET, base+"/trigger-rules/"+id, nil), 200)
	wantProblem(t, e.op(GET, base+"/trigger-rules/trg_nosuch", nil), 404, "not_found", "")
	rule["version"] = 1
	rule["enabled"] = false
	r = e.op(PUT, base+"/trigger-rules/"+id, rule)
	wantStatus(t, r, 200)
	if v := r.object(t)["version"]; v != 2.0 {
		t.Errorf("version after an update = %v, want 2", v)
	}
	wantProblem(t, e.op(PUT, base+"/trigger-rules/"+id, rule), 409, "conflict", "")
	wantStatus(t, e.op(GET, base+"/trigger-rules/"+id+"?version=1", nil), 200)
	wantStatus(t, e.op(DELETE, base+"/trigger-rules/"+id, nil), 204)
	wantProblem(t, e.op(DELETE, base+"/trigger-rules/"+id, nil), 404, "not_found", "")

	// Consents through the operator routes.
	r = e.op(POST, base+"/consents", consentBody("Acme Homes LLC", "(212) 555-0123"))
	wantStatus(t, r, 201)
	cid, _ := r.object(t)["id"].(string)
	wantProblem(t, e.op(POST, base+"/consents", consentBody("Acme Homes LLC", "12")), 400, "invalid", "phone")
	wantStatus(t, e.op(GET, base+"/consents?phone=%2B12125550123", nil), 200)
	wantProblem(t, e.op(GET, base+"/consents?phone=nope", nil), 400, "invalid", "phone")
	wantStatus(t, e.op(GET, base+"/consents/"+cid, nil), 200)
	wantProblem(t, e.op(GET, base+"/consents/cns_nosuch", nil), 404, "not_found", "")
	wantStatus(t, e.op(POST, base+"/consents/revoke", map[string]any{"phone": "+12125550123", "channel": "operator", "raw_text": "asked by phone"}), 200)
	wantProblem(t, e.do(POST, "/api/operator"+base+"/consents/revoke", operatorToken, map[string]any{"phone": "+12125550123"}, bad...), 400, "invalid", "channel")
	wantStatus(t, e.op(GET, base+"/webhook-events?limit=5", nil), 200)
	wantProblem(t, e.op(GET, base+"/webhook-events?status=odd", nil), 400, "invalid", "status")
	wantStatus(t, e.op(GET, base+"/decisions", nil), 200)
	wantProblem(t, e.op(GET, base+"/decisions?outcome=maybe", nil), 400, "invalid", "outcome")

	// The public routes.
	key, _ := e.issueKey(tenant, "consents:write", "dnc:write", "calls:read")
	r = e.do(POST, "/v1/consents", key, consentBody("Acme Homes LLC", "+13055550123"))
	wantStatus(t, r, 201)
	cid, _ = r.object(t)["id"].(string)
	wantProblem(t, e.do(POST, "/v1/consents", key, consentBody("", "+13055550123"), bad...), 400, "invalid", "seller_name")
	wantStatus(t, e.do(GET, "/v1/consents/"+cid, key, nil), 200)
	wantProblem(t, e.do(GET, "/v1/consents/cns_nosuch", key, nil), 404, "not_found", "")
	wantStatus(t, e.do(POST, "/v1/consents/revoke", key, map[string]any{"phone": "+13055550123", "channel": "call", "raw_text": "stop"}), 200)
	wantProblem(t, e.do(POST, "/v1/consents/revoke", key, map[string]any{"phone": "x", "channel": "call"}), 400, "invalid", "phone")
	wantStatus(t, e.do(POST, "/v1/dnc-scrubs", key, map[string]any{"phone": "+13055550123", "national_registered": true, "national_list_date": "2026-11-20T00:00:00Z", "reassigned": "not_reassigned"}), 200)
	wantProblem(t, e.do(POST, "/v1/dnc-scrubs", key, map[string]any{"phone": "+13055550123", "reassigned": "maybe"}, bad...), 400, "invalid", "reassigned")
	wantStatus(t, e.do(GET, "/v1/call-requests", key, nil), 200)
	wantProblem(t, e.do(GET, "/v1/call-requests?status=odd", key, nil), 400, "invalid", "status")
	// A call request to acknowledge, planted as the gates would leave it.
	_, call, _, err := e.store.RecordDecision(context.Background(), host.Decision{TenantID: tenant, EventID: "evt_live", RuleID: "trg_live", Outcome: host.DecisionFired, Purpose: host.PurposeInformational},
		&host.CallRequest{Payload: json.RawMessage(`{"type":"outbound_call.requested"}`)})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.do(POST, "/v1/call-requests/"+call.ID+"/ack", key, nil), 200)
	wantProblem(t, e.do(POST, "/v1/call-requests/"+call.ID+"/ack", key, nil), 409, "conflict", "")
}

// callSink is a platform endpoint that receives call requests and
// checks their Standard Webhooks signature.
type callSink struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []outbound.CallPayload
	bad    int
}

func (s *callSink) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.secret, outbound.SecretPrefix))
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%s.", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("webhook-signature"))) {
		s.bad++
		w.WriteHeader(nethttp.StatusUnauthorized)
		return
	}
	var p outbound.CallPayload
	if err := json.Unmarshal(body, &p); err != nil {
		s.bad++
		w.WriteHeader(nethttp.StatusBadRequest)
		return
	}
	s.got = append(s.got, p)
	w.WriteHeader(nethttp.StatusNoContent)
}

func (s *callSink) calls() []outbound.CallPayload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]outbound.CallPayload(nil), s.got...)
}

// TestOutboundPipeline: a signed delivery of the in-memory CRM is stored
// before its 2xx, processed in the background (the record read back for
// its phone), and, with consent on file inside the calling window,
// becomes one signed call request at the tenant's callback; a replay is
// a duplicate and calls no one again; after a revocation the next event
// is a blocked decision with its reason; without consent too.
func TestOutboundPipeline(t *testing.T) {
	t.Parallel()
	// Wednesday 9 December 2026, 12:00 in New York.
	noon := time.Date(2026, 12, 9, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, func(o *envOptions) { o.outboundNow = func() time.Time { return noon } })
	tenant, tok := e.connected("Acme", "acme")
	wantStatus(t, e.op(nethttp.MethodPut, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{"partner_key": "pipe-key"}}), 200)
	sink := &callSink{t: t}
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	r := e.op(nethttp.MethodPut, "/tenants/"+tenant+"/outbound", map[string]any{"enabled": true, "seller_name": "Acme Homes LLC", "callback_url": srv.URL + "/calls?token=abc"})
	wantStatus(t, r, 200)
	sink.mu.Lock()
	sink.secret, _ = r.object(t)["signing_secret"].(string)
	sink.mu.Unlock()
	wantStatus(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/trigger-rules", map[string]any{"name": "new customers", "enabled": true,
		"events": []string{"record.created"}, "objects": []string{"customer"}, "purpose": "informational"}), 201)

	create := func(first, phone string) string {
		r := e.tool("crm_create_record", tok, map[string]any{"object": "customer", "fields": map[string]any{"first_name": first, "last_name": "L", "phone": phone}},
			"Idempotency-Key", "pipe-"+first)
		wantStatus(t, r, 200)
		return r.object(t)["external_id"].(string)
	}
	deliver := func(eventID, record string) map[string]any {
		body, _ := json.Marshal(map[string]any{"events": []memdriver.WebhookEvent{{ID: eventID, Account: "acme", Type: "created",
			Object: memdriver.ObjectPeople, Record: record, At: noon.UnixMilli()}}})
		r := e.do(nethttp.MethodPost, "/webhooks/mem", "", body, memdriver.SignatureHeader, memdriver.SignWebhook("pipe-key", body))
		wantStatus(t, r, 200)
		return r.object(t)
	}
	decided := func(eventKey string) host.Decision {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			evs, _ := e.store.ListInboundEvents(context.Background(), tenant, host.InboundEventFilter{})
			for _, ev := range evs {
				if ev.DedupeKey != eventKey || ev.Status == host.EventReceived {
					continue
				}
				ds, _ := e.store.ListDecisions(context.Background(), tenant, host.DecisionFilter{EventID: ev.ID})
				if len(ds) != 1 {
					t.Fatalf("event %s (%s: %s) has %d decisions, want 1", eventKey, ev.Status, ev.Outcome, len(ds))
				}
				return ds[0]
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("event %s was not processed", eventKey)
		return host.Decision{}
	}

	// Consent on file: one signed call request.
	ada := create("Ada", "+1 212 555 0123")
	wantStatus(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/consents", consentBody("Acme Homes LLC", "+12125550123")), 201)
	if got := deliver("ev-ada", ada); got["stored"] != 1.0 || got["duplicates"] != 0.0 {
		t.Errorf("first delivery: %v", got)
	}
	d := decided("ev-ada")
	if d.Outcome != host.DecisionFired || d.ConsentID == "" || d.RuleSetVersion == "" || d.LatestAt == nil {
		t.Fatalf("decision = %+v, want fired with its consent", d)
	}
	waitFor(t, func() bool { return len(sink.calls()) == 1 })
	call := sink.calls()[0].Data
	if call.Person.Phone != "+12125550123" || call.ConsentID != d.ConsentID || call.DecisionID != d.ID || call.Purpose != host.PurposeInformational ||
		!call.LatestAt.Equal(time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("call request = %+v", call)
	}
	// The provider retries the same event: stored once, no second call.
	if got := deliver("ev-ada", ada); got["stored"] != 0.0 || got["duplicates"] != 1.0 {
		t.Errorf("redelivery: %v", got)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(sink.calls()); n != 1 {
		t.Errorf("%d calls after a redelivery, want 1", n)
	}

	// Without consent: blocked, with the reason.
	bob := create("Bob", "+1 212 555 0199")
	deliver("ev-bob", bob)
	if d := decided("ev-bob"); d.Outcome != host.DecisionBlocked || d.Reason != outbound.ReasonConsentMissing {
		t.Errorf("no consent: %s %s (%s)", d.Outcome, d.Reason, d.Detail)
	}
	// After a revocation (a "stop" during the call): blocked.
	wantStatus(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/consents/revoke", map[string]any{"phone": "212-555-0123", "channel": "call", "raw_text": "stop calling"}), 200)
	deliver("ev-ada-2", ada)
	if d := decided("ev-ada-2"); d.Outcome != host.DecisionBlocked || d.Reason != outbound.ReasonDoNotCall {
		t.Errorf("after revocation: %s %s (%s)", d.Outcome, d.Reason, d.Detail)
	}
	if n := len(sink.calls()); n != 1 || sink.bad != 0 {
		t.Errorf("%d calls, %d badly signed; want 1, 0", n, sink.bad)
	}
	// The operator sees each delivery with its outcome.
	r = e.op(nethttp.MethodGet, "/tenants/"+tenant+"/webhook-events", nil)
	wantStatus(t, r, 200)
	var page struct {
		Events []struct{ Status, Outcome, DedupeKey string } `json:"events"`
	}
	r.decode(t, &page)
	if len(page.Events) != 3 || page.Events[0].Status != "processed" || !strings.Contains(page.Events[0].Outcome, "do_not_call") {
		t.Errorf("deliveries = %+v", page.Events)
	}
}

// waitFor polls cond for up to 15 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOutboundBadInput: an event of a type no rule knows is stored and
// explained, never a call; a malformed (but signed) body and an
// oversized one are refused before anything is stored; a trigger rule on
// an unmapped field is refused at save time (exerciseOutbound).
func TestOutboundBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	wantStatus(t, e.op(nethttp.MethodPut, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{"partner_key": "bad-key"}}), 200)
	wantStatus(t, e.op(nethttp.MethodPut, "/tenants/"+tenant+"/outbound", map[string]any{"enabled": true, "seller_name": "Acme Homes LLC"}), 200)
	wantStatus(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/trigger-rules", map[string]any{"name": "new", "enabled": true,
		"events": []string{"record.created"}, "objects": []string{"customer"}}), 201)
	post := func(body []byte) resp {
		return e.do(nethttp.MethodPost, "/webhooks/mem", "", body, memdriver.SignatureHeader, memdriver.SignWebhook("bad-key", body))
	}
	body, _ := json.Marshal(map[string]any{"events": []memdriver.WebhookEvent{{ID: "odd-1", Account: "acme", Type: "merged",
		Object: memdriver.ObjectPeople, Record: "p-000001", At: time.Now().UnixMilli()}}})
	if r := post(body); r.status != 200 || r.object(t)["stored"] != 1.0 {
		t.Fatalf("an unknown event type: %s, want stored", r)
	}
	waitFor(t, func() bool {
		evs, _ := e.store.ListInboundEvents(context.Background(), tenant, host.InboundEventFilter{})
		return len(evs) == 1 && evs[0].Status == host.EventIgnored && strings.Contains(evs[0].Outcome, "no trigger rule for merged")
	})
	wantProblem(t, post([]byte(`{"events": "not a list"}`)), 400, "invalid", "body")
	big := []byte(`{"events": [], "pad": "` + strings.Repeat("x", 70<<10) + `"}`)
	wantProblem(t, post(big), 413, "too_large", "body")
	if evs, _ := e.store.ListInboundEvents(context.Background(), tenant, host.InboundEventFilter{}); len(evs) != 1 {
		t.Errorf("%d events stored, want only the unknown type's", len(evs))
	}
	if ds, _ := e.store.ListDecisions(context.Background(), tenant, host.DecisionFilter{}); len(ds) != 0 {
		t.Errorf("decisions made of bad input: %+v", ds)
	}
}
