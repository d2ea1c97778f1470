package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	mindbody "crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
)

// mindbodyBinary is crm-driver-mindbody in the plugin folder (see TestMain).
func mindbodyBinary() (string, error) { return driverBinary("mindbody") }

// TestMindbody runs the Mindbody driver through the host over real HTTP:
// the operator stores the platform's API key once; a business connects
// with its site id and a staff login (the driver issues the staff token,
// the host seals it with its 24-hour expiry and records the site as the
// account); the agent's tools create and look up a client by phone (which
// Mindbody cannot search) with the stored token; when Mindbody revokes the
// token the host refreshes once and the call still answers; a delivery to
// the one webhook URL reaches the tenant of its site among two; a site
// that does not exist fails its connection with the driver's reason.
func TestMindbody(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	f := mindbody.New(t, mindbody.Options{})
	bin, err := mindbodyBinary()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sdk.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: "mindbody", Version: "e2e", Command: bin,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/mindbody/app-credentials", map[string]any{"values": f.Connection().App}), http.StatusOK)
	connect := func(tenant, site, password string) connectResult {
		t.Helper()
		return decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "mindbody",
			"credentials": map[string]string{"site_id": site, "username": mindbody.StaffUsername, "password": password,
				"base_url": f.BaseURL(), "default_region": "US"}}), http.StatusOK)
	}

	spa := h.createTenant(t, "Lotus Day Spa")
	res := connect(spa, "555001", mindbody.StaffPasswordA)
	if res.Connection.Status != "active" || !res.Test.OK || res.Connection.AccountID != "555001" || res.Connection.Config["site_name"] != "Lotus Day Spa" {
		t.Fatalf("connect: %+v; want active, account 555001, the site's name", res)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued while connecting: %d, want 1", n)
	}

	token := h.agentToken(t, spa, "conv-mindbody-1")
	created := decode[createResult](t, h.tool(t, token, "crm_create_record", map[string]any{"object": "customer",
		"idempotency_key": "conv-mindbody-1/create-1", "fields": map[string]any{
			"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0123", "city": "London"}}), http.StatusOK)
	if created.ExternalID == "" {
		t.Fatalf("create: %+v", created)
	}
	lookup := func() lookupResult {
		t.Helper()
		return decode[lookupResult](t, h.tool(t, token, "crm_lookup_customer", map[string]string{"phone": "(415) 555-0123"}), http.StatusOK)
	}
	got := lookup()
	if got.Customer == nil || got.Customer.ExternalID != created.ExternalID || got.MatchCount != 1 {
		t.Fatalf("lookup: %+v, want client %s", got, created.ExternalID)
	}
	if fl := got.Customer.Fields; fl["first_name"] != "Ada" || fl["phone"] != "+14155550123" || fl["city"] != "London" {
		t.Errorf("lookup fields %v", fl)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued after the tools ran: %d, want still 1 (the stored token)", n)
	}

	f.Revoke(mindbody.SiteA)
	if got := lookup(); got.Customer == nil || got.Customer.ExternalID != created.ExternalID {
		t.Fatalf("lookup after Mindbody revoked the token: %+v", got)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Errorf("tokens issued after the revocation: %d, want 2 (one refresh)", n)
	}

	// One webhook URL for every site: a delivery reaches its site's tenant.
	gym := h.createTenant(t, "Iron Works Gym")
	if res := connect(gym, "555002", mindbody.StaffPasswordB); res.Connection.Status != "active" {
		t.Fatalf("connect the gym: %+v", res)
	}
	deliver := func(req sdk.WebhookRequest) response {
		return h.send(t, request{method: http.MethodPost, path: "/webhooks/mindbody", body: req.Body, header: req.Headers})
	}
	r := decode[map[string]any](t, deliver(f.Delivery(mindbody.SiteA, "client.updated", map[string]any{"clientId": created.ExternalID}, time.Now())), http.StatusOK)
	if r["received"] != 1.0 || r["tenants"] != 1.0 {
		t.Errorf("delivery for the spa's site = %v, want 1 event for 1 tenant", r)
	}
	receipts := func(tenant string) int {
		page := decode[struct {
			Entries []struct{ Action, Outcome string } `json:"entries"`
		}](t, h.op(t, http.MethodGet, "/tenants/"+tenant+"/audit?action=webhook.receive", nil), http.StatusOK)
		return len(page.Entries)
	}
	if a, b := receipts(spa), receipts(gym); a != 1 || b != 0 {
		t.Errorf("webhook receipts: spa %d, gym %d; want only the spa's", a, b)
	}
	tampered := f.Delivery(mindbody.SiteB, "client.updated", map[string]any{"clientId": "1"}, time.Now())
	tampered.Body = bytes.Replace(tampered.Body, []byte(`"clientId":"1"`), []byte(`"clientId":"2"`), 1)
	wantProblem(t, deliver(tampered), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, deliver(f.Delivery(777777, "client.updated", map[string]any{"clientId": "1"}, time.Now())), http.StatusNotFound, "not_found")
	// Mindbody validates the URL with HEAD: 200.
	if r := h.send(t, request{method: http.MethodHead, path: "/webhooks/mindbody"}); r.Status != http.StatusOK {
		t.Errorf("HEAD /webhooks/mindbody answered %d", r.Status)
	}

	// A site that does not exist (or has not activated the integration).
	nowhere := h.createTenant(t, "Nowhere Studio")
	res = connect(nowhere, "777", mindbody.StaffPasswordA)
	if res.Connection.Status != "failed" || !strings.Contains(res.Connection.StatusReason+res.Test.Reason, "activate the integration") {
		t.Errorf("connect to an unknown site: %+v; want failed with the driver's reason", res)
	}
}
