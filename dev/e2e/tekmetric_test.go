package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"crmhost.dev/host"
	tekmetric "crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/sdk"
)

// TestTekmetric runs the Tekmetric driver through the host over real HTTP:
// the operator stores the platform's partner credentials once, connects a
// tenant with nothing but its shop id (the driver obtains the token by
// client credentials; the host stores it, sealed, and records the shop as
// the account), and the agent's tools create and look up a customer with
// the stored token. When Tekmetric revokes the token, the host refreshes
// it once and the call still answers. A shop that has not authorized the
// partner app fails its connection with the driver's reason.
func TestTekmetric(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	f, err := tekmetric.Start(tekmetric.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	sum, err := sdk.FileSHA256(tekmetricBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: "tekmetric", Version: "e2e", Command: tekmetricBinary,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
	app := map[string]any{"values": map[string]string{"client_id": tekmetric.DefaultClientID, "client_secret": tekmetric.DefaultClientSecret}}
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/tekmetric/app-credentials", app), http.StatusOK)
	connect := func(tenant, shop string) connectResult {
		t.Helper()
		return decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "tekmetric",
			"credentials": map[string]string{"shop_id": shop, "base_url": f.URL, "default_region": "US"}}), http.StatusOK)
	}

	tenant := h.createTenant(t, "Lone Star Auto")
	res := connect(tenant, "101")
	if res.Connection.Status != "active" || !res.Test.OK || res.Connection.AccountID != "101" {
		t.Fatalf("connect: %+v; want active, account 101", res)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued while connecting: %d, want 1", n)
	}
	if got := h.op(t, http.MethodGet, "/tenants/"+tenant+"/connection", nil); strings.Contains(string(got.Body), f.Connection().Secret["access_token"]) {
		t.Error("GET connection shows the access token")
	}

	token := h.agentToken(t, tenant, "conv-tekmetric-1")
	created := decode[createResult](t, h.tool(t, token, "crm_create_record", map[string]any{"object": "customer",
		"idempotency_key": "conv-tekmetric-1/create-1", "fields": map[string]any{
			"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0123", "city": "Houston"}}), http.StatusOK)
	if created.ExternalID == "" {
		t.Fatalf("create: %+v", created)
	}
	lookup := func() lookupResult {
		t.Helper()
		return decode[lookupResult](t, h.tool(t, token, "crm_lookup_customer", map[string]string{"phone": "(415) 555-0123"}), http.StatusOK)
	}
	got := lookup()
	if got.Customer == nil || got.Customer.ExternalID != created.ExternalID || got.MatchCount != 1 {
		t.Fatalf("lookup: %+v, want customer %s", got, created.ExternalID)
	}
	if f := got.Customer.Fields; f["first_name"] != "Ada" || f["phone"] != "415-555-0123" || f["city"] != "Houston" {
		t.Errorf("lookup fields %v", f)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued after the tools ran: %d, want still 1 (the stored token)", n)
	}

	f.RevokeToken(f.Connection().Secret["access_token"]) // the partner app's token, the one the host stored
	if got := lookup(); got.Customer == nil || got.Customer.ExternalID != created.ExternalID {
		t.Fatalf("lookup after Tekmetric revoked the token: %+v", got)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Errorf("tokens issued after the revocation: %d, want 2 (one refresh)", n)
	}

	other := h.createTenant(t, "Not Our Shop")
	res = connect(other, "303")
	if res.Connection.Status != "failed" || !strings.Contains(res.Test.Reason, "has not authorized this platform's Tekmetric app") {
		t.Errorf("connect to an unauthorized shop: %+v; want failed with the driver's reason", res)
	}
}
