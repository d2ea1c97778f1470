package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	samplecrm "crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/sdk"
)

// genericRESTBinary is crm-driver-genericrest in the plugin folder (see TestMain).
func genericRESTBinary() (string, error) { return driverBinary("genericrest") }

// TestGenericRESTThroughTheHost: a tenant connected through the operator
// route to the Sample CRM with the checked-in connector definition (what
// `make run` does): the connection's objects come from its definition,
// the agent's tools create a contact and look the caller up by phone,
// the token the driver obtained is stored by the host and reused, and a
// definition pointing at a private address is refused at connect.
func TestGenericRESTThroughTheHost(t *testing.T) {
	bin, err := genericRESTBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := &harness{secret: []byte("e2e-agent-jwt-secret-0123456789abcdef"), pids: map[int]bool{}}
	logger := testLogger(t)
	start := dev.Fakes["genericrest"]
	p, err := start(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	f := p.(*samplecrm.Server)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "crmhost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	h.store = store
	sum, err := sdk.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.RegisterDriver(ctx, host.DriverEntry{Slug: "genericrest", Version: "e2e", Command: bin, SHA256: sum,
		ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
	if h.operator, _, err = operators.New(store, nil).Issue(ctx, "e2e-operator"); err != nil {
		t.Fatal(err)
	}
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	kek, err := secrets.NewLocalKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	h.manager = drivers.NewManager(store, drivers.Options{Logger: logger.Named("drivers"), Backoff: 50 * time.Millisecond, PluginDir: filepath.Dir(bin),
		WatchInterval: 20 * time.Millisecond, EgressAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	t.Cleanup(func() {
		if pid := h.manager.PID("genericrest"); pid != 0 {
			h.pids[pid] = true
		}
		h.closeManager(t)
	})
	b := broker.New(broker.Options{Store: store, Keyring: secrets.NewKeyring(kek), Drivers: h.manager, Logger: logger.Named("broker"),
		ConfigCacheTTL: time.Second, AuditBuffer: 4096})
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	srv := httptest.NewServer(hosthttp.New(hosthttp.Config{Store: store, Broker: b, Drivers: h.manager, Logger: logger.Named("http"),
		JWT: hosthttp.JWTConfig{HS256Secret: h.secret, Issuer: jwtIssuer, Audience: jwtAudience}}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	h.client = &http.Client{Timeout: time.Minute}

	tenant := h.createTenant(t, "Acme on the Sample CRM")
	res := decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection",
		map[string]any{"provider": "genericrest", "credentials": dev.Credentials(f.Connection())}), http.StatusOK)
	if res.Connection.Status != "active" || !res.Test.OK {
		t.Fatalf("connect: %+v", res)
	}
	agent := h.agentToken(t, tenant, "conv-generic-1")
	created := decode[map[string]any](t, h.tool(t, agent, "crm_create_record", map[string]any{"object": "customer", "idempotency_key": "gr-e2e-1",
		"fields": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 415 555 0100"}}), http.StatusOK)
	if created["external_id"] == "" {
		t.Fatalf("create answered %v", created)
	}
	issued := f.TokensIssued()
	r := decode[struct {
		Customer *record `json:"customer"`
	}](t, h.tool(t, agent, "crm_lookup_customer", map[string]any{"phone": "(415) 555-0100"}), http.StatusOK)
	if r.Customer == nil || r.Customer.Object != "customer" || r.Customer.Fields["last_name"] != "Lovelace" {
		t.Fatalf("lookup = %+v, want the contact mapped as a customer", r.Customer)
	}
	if n := f.TokensIssued() - issued; n != 0 {
		t.Errorf("the lookup obtained %d new tokens: the one obtained at connect was not stored and reused", n)
	}

	other := h.createTenant(t, "Mallory")
	conn := f.Connection()
	conn.Config["base_url"] = "http://169.254.169.254"
	res = decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+other+"/connection",
		map[string]any{"provider": "genericrest", "credentials": dev.Credentials(conn)}), http.StatusOK)
	if res.Connection.Status != "failed" || res.Test.OK || !strings.Contains(res.Test.Reason, "metadata") {
		t.Fatalf("connect to a metadata address: %+v, want failed saying why", res)
	}
}
