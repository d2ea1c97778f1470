package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	salesforce "crmhost.dev/plugins/salesforce/fake"
	toast "crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk"
)

// afternoon is Wednesday 9 December 2026, 14:00 in New York and 11:00 in
// San Francisco: inside every calling window.
var afternoon = time.Date(2026, 12, 9, 19, 0, 0, 0, time.UTC)

// register adds a driver binary to h's catalog.
func register(t *testing.T, h *harness, slug, bin string) {
	t.Helper()
	sum, err := sdk.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: slug, Version: "e2e", Command: bin,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
}

// outboundTenant gives tenant outbound settings (no callback: requests
// are pulled), consent for phone, and rule as its one trigger rule.
func outboundTenant(t *testing.T, h *harness, tenant, phone string, rule map[string]any) {
	t.Helper()
	decode[map[string]any](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/outbound", map[string]any{"enabled": true, "seller_name": "Acme Homes LLC"}), http.StatusOK)
	decode[map[string]any](t, h.op(t, http.MethodPost, "/tenants/"+tenant+"/consents", map[string]any{"seller_name": "Acme Homes LLC", "phone": phone,
		"purposes": []string{"informational"}, "ai_voice": true, "written": true, "disclosure_text": "Acme Homes LLC may call me with an AI voice.",
		"disclosure_version": "v1", "method": "web_form", "source": "first_party", "consented_at": "2026-11-01T00:00:00Z"}), http.StatusCreated)
	decode[map[string]any](t, h.op(t, http.MethodPost, "/tenants/"+tenant+"/trigger-rules", rule), http.StatusCreated)
}

// settled waits until tenant has n settled events and returns them,
// newest first.
func settled(t *testing.T, h *harness, tenant string, n int) []host.InboundEvent {
	t.Helper()
	var evs []host.InboundEvent
	waitUntil(t, func() bool {
		all, err := h.store.ListInboundEvents(t.Context(), tenant, host.InboundEventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		evs = evs[:0]
		for _, e := range all {
			if e.Status != host.EventReceived {
				evs = append(evs, e)
			}
		}
		return len(evs) >= n
	})
	return evs
}

func decisions(t *testing.T, h *harness, tenant string) []host.Decision {
	t.Helper()
	ds, err := h.store.ListDecisions(t.Context(), tenant, host.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestOutboundSalesforce: Outbound Messages carry a record's latest
// state only, so the host derives the change from the last state it
// knows: a lead's company becoming "Army" fires the rule once. A message
// routed to the right org among several is acknowledged in SOAP; a
// redelivery of the same notification is a duplicate; a notification with
// an older state, arriving late, is ignored; an org no tenant is
// connected to is refused. (Outbound Messages carry no signature or
// timestamp: the org id is the check.)
func TestOutboundSalesforce(t *testing.T) {
	bin, err := salesforceBinary()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{pluginDir: filepath.Dir(bin), outbound: &outboundOptions{now: func() time.Time { return afternoon }, jobs: jobsRun}})
	register(t, h, "salesforce", bin)
	f := salesforce.New(t, salesforce.Options{})
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/salesforce/app-credentials", map[string]any{"values": f.App()}), http.StatusOK)
	tenants := []string{}
	for i, conn := range []sdk.Connection{f.Connection(), f.OtherConnection()} {
		id := h.createTenant(t, "Salesforce "+string(rune('A'+i)))
		decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+id+"/connection", map[string]any{"provider": "salesforce", "credentials": dev.Credentials(conn)}), http.StatusOK)
		tenants = append(tenants, id)
	}
	a := tenants[0]
	outboundTenant(t, h, a, "+1 212 555 0123", map[string]any{"name": "company became Army", "enabled": true, "purpose": "informational",
		"events": []string{"record.created", "record.updated"}, "objects": []string{"lead"},
		"conditions": []map[string]any{{"field": "lead.company", "op": "changed_to", "value": "Army"}}})
	agent := h.agentToken(t, a, "sf-outbound")
	created := decode[map[string]any](t, h.tool(t, agent, "crm_create_record", map[string]any{"object": "lead", "idempotency_key": "sf-out-1",
		"fields": map[string]any{"first_name": "Grace", "last_name": "Hopper", "company": "Navy", "phone": "+1 212 555 0123"}}), http.StatusOK)
	id := created["external_id"].(string)
	send := func(req sdk.WebhookRequest) response {
		t.Helper()
		return h.send(t, request{method: http.MethodPost, path: "/webhooks/salesforce", body: req.Body, header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}})
	}
	acked := func(r response) {
		t.Helper()
		if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("<Ack>true</Ack>")) {
			t.Fatalf("outbound message answered %s", r)
		}
	}
	msg := func() sdk.WebhookRequest {
		t.Helper()
		m, err := f.OutboundMessage(salesforce.OrgA, "", id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	navy, navyAgain := msg(), msg() // two notifications of the first state
	acked(send(navy))
	settled(t, h, a, 1)
	decode[map[string]any](t, h.tool(t, agent, "crm_update_record", map[string]any{"object": "lead", "external_id": id, "fields": map[string]any{"company": "Army"}}), http.StatusOK)
	army := msg()
	acked(send(army))
	acked(send(army)) // Salesforce's at-least-once redelivery
	settled(t, h, a, 2)
	acked(send(navyAgain)) // delivered late, out of order
	evs := settled(t, h, a, 3)
	if len(evs) != 3 {
		t.Fatalf("events = %+v, want 3 (the redelivery deduplicated)", evs)
	}
	ds := decisions(t, h, a)
	if len(ds) != 1 || ds[0].Outcome != host.DecisionFired || ds[0].Phone != "+12125550123" {
		t.Fatalf("decisions = %+v, want one fired", ds)
	}
	var late host.InboundEvent
	for _, e := range evs {
		if e.ID != ds[0].EventID && strings.Contains(e.Outcome, "out of order") {
			late = e
		}
	}
	if late.ID == "" {
		t.Errorf("the late notification of the older state was not ignored as out of order: %+v", evs)
	}
	if other, _ := h.store.ListInboundEvents(t.Context(), tenants[1], host.InboundEventFilter{}); len(other) != 0 {
		t.Errorf("the other org's tenant got %d events", len(other))
	}
	unknown := bytes.ReplaceAll(army.Body, []byte(salesforce.OrgA), []byte("00D000000000999EAA"))
	wantProblem(t, h.send(t, request{method: http.MethodPost, path: "/webhooks/salesforce", body: unknown, header: http.Header{"Content-Type": {"text/xml"}}}), http.StatusNotFound, "not_found")
}

// TestOutboundToast: orders webhooks routed by restaurant among several;
// a guest on an order's check, with consent, prompts one call request
// (pulled: the tenant has no callback); Toast's retry of the delivery is
// a duplicate; a delivery signed earlier, arriving after a newer one, is
// ignored as out of order; forged, stale and unknown-restaurant
// deliveries are refused.
func TestOutboundToast(t *testing.T) {
	h := newHarness(t, harnessOptions{outbound: &outboundOptions{now: func() time.Time { return afternoon }, jobs: jobsRun}})
	register(t, h, "toast", toastBinary)
	f, err := toast.Start(toast.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/toast/app-credentials", map[string]any{"values": map[string]string{
		"client_id": toast.DefaultClientID, "client_secret": toast.DefaultClientSecret, "webhook_secret": toast.DefaultWebhookSecret}}), http.StatusOK)
	tenants := map[string]string{}
	for _, r := range []string{toast.RestaurantA, toast.RestaurantB} {
		id := h.createTenant(t, "Toast "+r[:8])
		decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+id+"/connection", map[string]any{"provider": "toast",
			"credentials": map[string]string{"restaurant_guid": r, "base_url": f.URL, "default_region": "US"}}), http.StatusOK)
		tenants[r] = id
	}
	a := tenants[toast.RestaurantA]
	outboundTenant(t, h, a, "+1 415 555 0123", map[string]any{"name": "guests", "enabled": true, "purpose": "informational",
		"events": []string{"record.updated"}, "objects": []string{"customer"}})
	ada := toast.Customer{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Phone: "4155550123", PhoneCountryCode: "1"}
	order := f.AddOrder(toast.RestaurantA, toast.Check{Customer: &ada, TotalAmount: 42})
	send := func(req sdk.WebhookRequest) response {
		t.Helper()
		return h.send(t, request{method: http.MethodPost, path: "/webhooks/toast", body: req.Body, header: http.Header(req.Headers)})
	}
	older := f.Delivery(toast.RestaurantA, order, time.Now().Add(-time.Minute))
	newer := f.Delivery(toast.RestaurantA, order, time.Now())
	if r := decode[map[string]any](t, send(newer), http.StatusOK); r["stored"] != 2.0 || r["tenants"] != 1.0 {
		t.Fatalf("delivery = %v, want the order and its guest stored for one tenant", r)
	}
	if r := decode[map[string]any](t, send(newer), http.StatusOK); r["duplicates"] != 2.0 || r["stored"] != 0.0 {
		t.Errorf("Toast's retry = %v, want duplicates", r)
	}
	settled(t, h, a, 2)
	decode[map[string]any](t, send(older), http.StatusOK)
	evs := settled(t, h, a, 4)
	ds := decisions(t, h, a)
	if len(ds) != 1 || ds[0].Outcome != host.DecisionFired || ds[0].Phone != "+14155550123" {
		t.Fatalf("decisions = %+v; events %+v; want one fired", ds, evs)
	}
	outOfOrder := 0
	for _, e := range evs {
		if strings.Contains(e.Outcome, "out of order") {
			outOfOrder++
		}
	}
	if outOfOrder != 1 {
		t.Errorf("events = %+v, want the older delivery's guest event ignored as out of order", evs)
	}
	key, _ := issueKey(t, h, a, "calls:read")
	pulled := decode[struct {
		CallRequests []struct {
			ID, Status string
		} `json:"call_requests"`
	}](t, h.send(t, request{method: http.MethodGet, path: "/v1/call-requests?status=pending", token: key}), http.StatusOK)
	if len(pulled.CallRequests) != 1 {
		t.Errorf("pulled %+v, want one pending call request", pulled.CallRequests)
	}
	if evs, _ := h.store.ListInboundEvents(t.Context(), tenants[toast.RestaurantB], host.InboundEventFilter{}); len(evs) != 0 {
		t.Errorf("the other restaurant's tenant got %d events", len(evs))
	}
	forged := f.Delivery(toast.RestaurantA, order, time.Now())
	forged.Body = bytes.Replace(forged.Body, []byte("Lovelace"), []byte("Lovelock"), 1)
	wantProblem(t, send(forged), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, send(f.Delivery(toast.RestaurantA, order, time.Now().Add(-time.Hour))), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, send(f.Delivery("0b0b0b0b-0000-4000-8000-000000000000", order, time.Now())), http.StatusNotFound, "not_found")
}

// issueKey issues an API key for tenant with scopes.
func issueKey(t *testing.T, h *harness, tenant string, scopes ...string) (string, string) {
	t.Helper()
	r := decode[struct{ ID, Key string }](t, h.op(t, http.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": scopes}), http.StatusCreated)
	return r.Key, r.ID
}
