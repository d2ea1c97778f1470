package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	athena "crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
)

// TestAthena runs the athenahealth driver through the host over real
// HTTP: the operator stores the platform's athenahealth app credentials
// once and connects a tenant with its practice and department alone (the
// driver obtains a client-credentials token, which the host stores sealed
// with its expiry, and records the practice as the account). The agent's
// tools create a patient (the canonical date_of_birth mapped to athenaOne's
// dob), look it up by phone and list it as changed, all with the stored
// token. When athenahealth revokes the token the host refreshes it once
// and the call still answers. A practice that has not granted the app
// fails its connection with athenahealth's reason.
func TestAthena(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	f, err := athena.Start(athena.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	sum, err := sdk.FileSHA256(athenaBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: "athena", Version: "e2e", Command: athenaBinary,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
	app := map[string]any{"values": map[string]string{"client_id": athena.DefaultClientID, "client_secret": athena.DefaultClientSecret}}
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/athena/app-credentials", app), http.StatusOK)
	connect := func(tenant, practice string) connectResult {
		t.Helper()
		return decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "athena",
			"credentials": map[string]string{"practice_id": practice, "department_id": athena.Department, "base_url": f.URL, "default_region": "US"}}), http.StatusOK)
	}

	tenant := h.createTenant(t, "Harbor Family Medicine")
	res := connect(tenant, athena.PracticeA)
	if res.Connection.Status != "active" || !res.Test.OK || res.Connection.AccountID != athena.PracticeA {
		t.Fatalf("connect: %+v; want active, account %s", res, athena.PracticeA)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued while connecting: %d, want 1", n)
	}

	token := h.agentToken(t, tenant, "conv-athena-1")
	created := decode[createResult](t, h.tool(t, token, "crm_create_record", map[string]any{"object": "customer",
		"idempotency_key": "conv-athena-1/create-1", "fields": map[string]any{
			"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0123",
			"date_of_birth": "1815-12-10", "city": "London"}}), http.StatusOK)
	if created.ExternalID == "" {
		t.Fatalf("create: %+v", created)
	}
	lookup := func() lookupResult {
		t.Helper()
		return decode[lookupResult](t, h.tool(t, token, "crm_lookup_customer", map[string]string{"phone": "(415) 555-0123"}), http.StatusOK)
	}
	got := lookup()
	if got.Customer == nil || got.Customer.ExternalID != created.ExternalID || got.MatchCount != 1 {
		t.Fatalf("lookup: %+v, want patient %s", got, created.ExternalID)
	}
	if fl := got.Customer.Fields; fl["first_name"] != "Ada" || fl["date_of_birth"] != "12/10/1815" || fl["city"] != "London" {
		t.Errorf("lookup fields %v", fl)
	}
	listed := decode[struct {
		Records []record `json:"records"`
	}](t, h.tool(t, token, "crm_list_recent", map[string]any{"object": "customer", "since": time.Now().Add(-time.Hour).Format(time.RFC3339)}), http.StatusOK)
	if len(listed.Records) != 1 || listed.Records[0].ExternalID != created.ExternalID {
		t.Errorf("list_recent: %+v", listed)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued after the tools ran: %d, want still 1 (the stored token)", n)
	}

	f.RevokeAll() // the token the host stored is one of them
	if got := lookup(); got.Customer == nil || got.Customer.ExternalID != created.ExternalID {
		t.Fatalf("lookup after athenahealth revoked the token: %+v", got)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Errorf("tokens issued after the revocation: %d, want 2 (one refresh)", n)
	}

	other := h.createTenant(t, "Not Our Practice")
	res = connect(other, athena.PracticeUngranted)
	if res.Connection.Status != "failed" || !strings.Contains(res.Connection.StatusReason+res.Test.Reason, "Incorrect permissions") {
		t.Errorf("connect to a practice that has not granted the app: %+v; want failed with athenahealth's reason", res)
	}
}
