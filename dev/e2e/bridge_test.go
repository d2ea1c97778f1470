package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	webhook "crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/sdk"
)

// TestWebhookBridge runs the custom-webhook driver through the host over
// real HTTP against the receiver fake: a tenant connects with an endpoint
// URL and a whsec_ secret (the endpoint's account recorded, its objects
// listed), and the agent's tools create and look up a customer through
// signed requests the receiver verifies. A second slug registered as
// catalog data on the same binary (as opentable is, against a
// partner-side adapter) serves another tenant. An endpoint at a private
// address fails its connection with the egress guard's reason, although
// the host lets drivers reach loopback here.
func TestWebhookBridge(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	f, err := webhook.Start(webhook.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	sum, err := sdk.FileSHA256(webhookBinary)
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"webhook", "opentable"} {
		if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: slug, Version: "e2e", Command: webhookBinary,
			SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
			t.Fatal(err)
		}
	}
	connect := func(tenant, provider string, conn sdk.Connection) connectResult {
		t.Helper()
		return decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection",
			map[string]any{"provider": provider, "credentials": dev.Credentials(conn)}), http.StatusOK)
	}

	tenant := h.createTenant(t, "Bridge A")
	res := connect(tenant, "webhook", f.Connection())
	if res.Connection.Status != "active" || !res.Test.OK || res.Connection.AccountID != webhook.AccountA {
		t.Fatalf("connect: %+v; want active, account %s", res, webhook.AccountA)
	}
	token := h.agentToken(t, tenant, "conv-bridge-1")
	created := decode[createResult](t, h.tool(t, token, "crm_create_record", map[string]any{"object": "customer",
		"idempotency_key": "conv-bridge-1/create-1", "fields": map[string]any{
			"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0123"}}), http.StatusOK)
	got := decode[lookupResult](t, h.tool(t, token, "crm_lookup_customer", map[string]string{"phone": "(415) 555-0123"}), http.StatusOK)
	if got.Customer == nil || got.Customer.ExternalID != created.ExternalID || got.Customer.Object != "customer" ||
		got.Customer.Fields["first_name"] != "Ada" || got.MatchCount != 1 {
		t.Fatalf("lookup: %+v, want customer %s mapped canonically", got, created.ExternalID)
	}
	for _, r := range f.Requests() {
		if r.Signature == "" || r.WebhookID == "" {
			t.Errorf("an unsigned request reached the endpoint: %+v", r)
		}
	}

	other := h.createTenant(t, "Bridge B via the second slug")
	if res := connect(other, "opentable", f.OtherConnection()); res.Connection.Status != "active" || res.Connection.AccountID != webhook.AccountB {
		t.Fatalf("connect through the second slug: %+v", res)
	}
	got = decode[lookupResult](t, h.tool(t, h.agentToken(t, other, "conv-bridge-2"), "crm_lookup_customer",
		map[string]string{"phone": "(415) 555-0123"}), http.StatusOK)
	if got.Customer != nil {
		t.Errorf("tenant B sees tenant A's customer: %+v", got.Customer)
	}

	private := f.Connection()
	private.Config = map[string]string{sdk.ConfigBaseURL: "http://10.0.0.7/hooks/acct-a", sdk.ConfigDefaultRegion: "US"}
	bad := h.createTenant(t, "Bridge at a private address")
	r := h.op(t, http.MethodPut, "/tenants/"+bad+"/connection", map[string]any{"provider": "webhook", "credentials": dev.Credentials(private)})
	if strings.Contains(string(r.Body), `"active"`) || !strings.Contains(string(r.Body), "private network") {
		t.Errorf("connect to a private endpoint: %s, want failed with the egress guard's reason", r)
	}
}
