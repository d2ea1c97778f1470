package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	salesforce "crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/sdk"
)

// salesforceBinary finds crm-driver-salesforce in $CRMHOST_PLUGIN_DIR, or
// builds it once into a temporary folder.
var salesforceBinary = sync.OnceValues(func() (string, error) {
	if dir := os.Getenv(pluginDirEnv); dir != "" {
		bin := dev.DriverBinary(dir, "salesforce")
		_, err := os.Stat(bin)
		return bin, err
	}
	dir, err := os.MkdirTemp("", "crmhost-e2e-salesforce")
	if err != nil {
		return "", err
	}
	bin := dev.DriverBinary(dir, "salesforce")
	out, err := exec.Command("go", "build", "-trimpath", "-o", bin, "crmhost.dev/plugins/salesforce").CombinedOutput()
	if err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string {
	return "build crm-driver-salesforce: " + e.err.Error() + "\n" + e.out
}

// newSalesforceHarness starts a host in-process with the real Salesforce
// driver binary registered and a Salesforce fake on loopback.
func newSalesforceHarness(t *testing.T) (*harness, *salesforce.Server) {
	t.Helper()
	bin, err := salesforceBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if os.Getenv(pluginDirEnv) == "" {
			_ = os.RemoveAll(filepath.Dir(bin))
		}
	})
	ctx := context.Background()
	h := &harness{operator: "op-" + strings.Repeat("y", 24), secret: []byte("e2e-agent-jwt-secret-0123456789abcdef"), pids: map[int]bool{}}
	logger := testLogger(t)
	f := salesforce.New(t, salesforce.Options{})
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
	if _, err := store.RegisterDriver(ctx, host.DriverEntry{Slug: "salesforce", Version: "e2e", Command: bin, SHA256: sum,
		ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
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
	h.manager = drivers.NewManager(store, drivers.Options{Logger: logger.Named("drivers"), Backoff: 50 * time.Millisecond,
		WatchInterval: 20 * time.Millisecond, EgressAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	t.Cleanup(func() {
		if pid := h.manager.PID("salesforce"); pid != 0 {
			h.pids[pid] = true
		}
		h.closeManager(t)
	})
	b := broker.New(broker.Options{Store: store, Keyring: secrets.NewKeyring(kek), Drivers: h.manager, Logger: logger.Named("broker"),
		ConfigCacheTTL: time.Second, AuditBuffer: 4096})
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	srv := httptest.NewServer(hosthttp.New(hosthttp.Config{Store: store, Broker: b, Drivers: h.manager, Logger: logger.Named("http"),
		OperatorToken: h.operator, JWT: hosthttp.JWTConfig{HS256Secret: h.secret}}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	h.client = &http.Client{Timeout: time.Minute}
	return h, f
}

// TestSalesforceThroughTheHost: a tenant connected to the Salesforce fake
// through the operator routes, the agent's tools looking a caller up among
// Contacts then Leads, the host refreshing an expired session with the
// driver and the connected app's credentials, and an Outbound Message
// routed to the tenant by its org id and acknowledged in SOAP.
func TestSalesforceThroughTheHost(t *testing.T) {
	h, f := newSalesforceHarness(t)
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/salesforce/app-credentials", map[string]any{"values": f.App()}), http.StatusOK)
	tenant := h.createTenant(t, "Acme on Salesforce")
	conn := f.Connection()
	res := decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection",
		map[string]any{"provider": "salesforce", "credentials": dev.Credentials(conn)}), http.StatusOK)
	if res.Connection.Status != "active" || !res.Test.OK {
		t.Fatalf("connect: %+v", res)
	}
	agent := h.agentToken(t, tenant, "conv-sf-1")

	decode[map[string]any](t, h.tool(t, agent, "crm_create_record", map[string]any{"object": "lead", "idempotency_key": "sf-e2e-1",
		"fields": map[string]any{"first_name": "Grace", "last_name": "Hopper", "company": "Navy", "phone": "+1 415 555 0199"}}), http.StatusOK)
	lookup := func() record {
		t.Helper()
		r := decode[struct {
			Customer *record `json:"customer"`
		}](t, h.tool(t, agent, "crm_lookup_customer", map[string]any{"phone": "(415) 555-0199"}), http.StatusOK)
		if r.Customer == nil {
			t.Fatal("lookup found nothing")
		}
		return *r.Customer
	}
	if got := lookup(); got.Object != "lead" || got.Fields["company"] != "Navy" || got.Fields["last_name"] != "Hopper" {
		t.Fatalf("lookup (Contact, then Lead) = %+v, want the lead mapped as a lead", got)
	}

	// The org's session times out: the host refreshes it with the driver
	// (the connected app's credentials are the driver's app credentials)
	// and retries once.
	f.ExpireSessions()
	if got := lookup(); got.Object != "lead" {
		t.Fatalf("lookup after the session expired = %+v", got)
	}
	refreshes := 0
	for _, r := range f.Requests() {
		if r.Path == "/services/oauth2/token" && strings.Contains(r.Body, "grant_type=refresh_token") {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Fatalf("%d refresh grants reached Salesforce, want 1", refreshes)
	}

	// An Outbound Message for the tenant's org is routed by its org id.
	ids := f.Records(salesforce.OrgA, "Lead")
	msg, err := f.OutboundMessage(salesforce.OrgA, "", ids[0].ID())
	if err != nil {
		t.Fatal(err)
	}
	r := h.send(t, request{method: http.MethodPost, path: "/webhooks/salesforce", body: msg.Body,
		header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}})
	if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("<Ack>true</Ack>")) {
		t.Fatalf("outbound message answered %s", r)
	}
	// One for an org no tenant is connected to is refused, unacknowledged.
	other := bytes.ReplaceAll(msg.Body, []byte(salesforce.OrgA), []byte(salesforce.OrgB))
	wantProblem(t, h.send(t, request{method: http.MethodPost, path: "/webhooks/salesforce", body: other,
		header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}), http.StatusNotFound, "not_found")
}
