package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
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
	salesforce "crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/sdk"
)

// salesforceBinary is crm-driver-salesforce in the plugin folder (see TestMain).
func salesforceBinary() (string, error) { return driverBinary("salesforce") }

// newSalesforceHarness starts a host in-process with the real Salesforce
// driver binary registered and a Salesforce fake on loopback.
func newSalesforceHarness(t *testing.T, oauthTTL time.Duration) (*harness, *salesforce.Server) {
	t.Helper()
	bin, err := salesforceBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := &harness{secret: []byte("e2e-agent-jwt-secret-0123456789abcdef"), pids: map[int]bool{}}
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
		if pid := h.manager.PID("salesforce"); pid != 0 {
			h.pids[pid] = true
		}
		h.closeManager(t)
	})
	b := broker.New(broker.Options{Store: store, Keyring: secrets.NewKeyring(kek), Drivers: h.manager, Logger: logger.Named("broker"),
		ConfigCacheTTL: time.Second, AuditBuffer: 4096, OAuthTTL: oauthTTL})
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	h.mirror = startMirror(t, store, b, logger)
	srv := httptest.NewServer(hosthttp.New(hosthttp.Config{Store: store, Broker: b, Drivers: h.manager, Logger: logger.Named("http"), Mirror: h.mirror,
		JWT: hosthttp.JWTConfig{HS256Secret: h.secret, Issuer: jwtIssuer, Audience: jwtAudience}}))
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
	h, f := newSalesforceHarness(t, 0)
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

// TestSalesforceOAuthConnect drives the host's connect flow over HTTP
// against the Salesforce fake's authorize and token endpoints: the
// authorize URL rendered from the driver's login_url template with PKCE
// and prompt=login, the callback exchanging the code through the real
// driver, the org recorded; a declined sign-in, a replayed, forged or
// expired state refused; token answers that fail the driver's checks (an
// instance that is not Salesforce's, a missing field, a bad signature)
// leave no active connection.
func TestSalesforceOAuthConnect(t *testing.T) {
	h, f := newSalesforceHarness(t, 2*time.Second)
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/salesforce/app-credentials", map[string]any{"values": f.App()}), http.StatusOK)
	tenant := h.createTenant(t, "Acme OAuth on Salesforce")
	start := func(t *testing.T, tenant string, fk *salesforce.Server) string {
		t.Helper()
		r := h.op(t, http.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "salesforce",
			"credentials": map[string]string{"base_url": fk.URL, "login_url": fk.URL}})
		out := decode[struct {
			URL string `json:"authorize_url"`
		}](t, r, http.StatusOK)
		u, err := url.Parse(out.URL)
		q := u.Query()
		if err != nil || !strings.HasPrefix(out.URL, fk.URL+"/services/oauth2/authorize?") || q.Get("client_id") != salesforce.DefaultClientID ||
			q.Get("state") == "" || q.Get("code_challenge") == "" || q.Get("prompt") != "login" || q.Get("redirect_uri") != h.URL+"/oauth/callback" {
			t.Fatalf("authorize URL %q lacks the login host, client id, state, PKCE challenge, prompt or callback", out.URL)
		}
		return out.URL
	}
	connection := func(t *testing.T, tenant string) (int, connection) {
		t.Helper()
		r := h.op(t, http.MethodGet, "/tenants/"+tenant+"/connection", nil)
		if r.Status != http.StatusOK {
			return r.Status, connection{}
		}
		return r.Status, decode[connection](t, r, http.StatusOK)
	}

	t.Run("declined", func(t *testing.T) {
		f.DenyAuthorization(true)
		defer f.DenyAuthorization(false)
		if code, _, _ := h.signIn(t, start(t, tenant, f)); code != http.StatusBadRequest {
			t.Errorf("declined sign-in answered %d, want 400", code)
		}
		if st, _ := connection(t, tenant); st != http.StatusNotFound {
			t.Errorf("a declined sign-in left a connection (GET answered %d)", st)
		}
	})

	var cb *url.URL
	t.Run("connect", func(t *testing.T) {
		var code int
		code, _, cb = h.signIn(t, start(t, tenant, f))
		if code != http.StatusOK {
			t.Fatalf("callback answered %d, want 200", code)
		}
		st, c := connection(t, tenant)
		if st != http.StatusOK || c.Status != "active" || c.AccountID != salesforce.OrgA || c.Config["instance_url"] != f.URL {
			t.Fatalf("after sign-in: %d %+v, want active for org %s on instance %s", st, c, salesforce.OrgA, f.URL)
		}
		tok := h.agentToken(t, tenant, "conv-sf-oauth")
		decode[map[string]any](t, h.tool(t, tok, "crm_lookup_customer", map[string]any{"email": "nobody@example.com"}), http.StatusOK)
	})

	t.Run("replayed state", func(t *testing.T) {
		if cb == nil {
			t.Skip("no callback to replay")
		}
		code, page := h.callbackPage(t, &http.Client{Timeout: 10 * time.Second}, cb.String())
		if code != http.StatusBadRequest || !strings.Contains(page, "already used") {
			t.Errorf("replayed callback answered %d %q, want 400 naming the used state", code, page)
		}
	})

	t.Run("forged state", func(t *testing.T) {
		if code := h.callback(t, &http.Client{Timeout: 10 * time.Second}, h.URL+"/oauth/callback?code=x&state=forged"); code != http.StatusBadRequest {
			t.Errorf("forged state answered %d, want 400", code)
		}
	})

	t.Run("expired state", func(t *testing.T) {
		u := start(t, tenant, f)
		time.Sleep(2500 * time.Millisecond)
		if code, _, _ := h.signIn(t, u); code != http.StatusBadRequest {
			t.Errorf("expired state answered %d, want 400", code)
		}
	})

	t.Run("refresh on 401", func(t *testing.T) {
		grants := func() int {
			n := 0
			for _, r := range f.Requests() {
				if r.Path == "/services/oauth2/token" && strings.Contains(r.Body, "grant_type=refresh_token") {
					n++
				}
			}
			return n
		}
		before := grants()
		f.ExpireSessions()
		tok := h.agentToken(t, tenant, "conv-sf-refresh")
		decode[map[string]any](t, h.tool(t, tok, "crm_lookup_customer", map[string]any{"email": "nobody@example.com"}), http.StatusOK)
		if n := grants() - before; n != 1 {
			t.Errorf("%d refresh grants for one expired session, want 1", n)
		}
	})

	for _, tc := range []struct {
		name string
		opts salesforce.Options
		says string
	}{
		{"instance not Salesforce's", salesforce.Options{InstanceURL: "https://evil.example.com"}, "not a Salesforce host"},
		{"token answer without instance_url", salesforce.Options{OmitTokenFields: []string{"instance_url"}}, "no instance_url"},
		{"token answer signed by another key", salesforce.Options{SigningSecret: "not-the-consumer-secret"}, "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := salesforce.New(t, tc.opts)
			other := h.createTenant(t, "Bad answer "+tc.name)
			code, page := h.signInPage(t, start(t, other, bad))
			if code == http.StatusOK || !strings.Contains(page, tc.says) {
				t.Errorf("callback answered %d %q, want a refusal saying %q", code, page, tc.says)
			}
			if st, c := connection(t, other); st == http.StatusOK && c.Status == "active" {
				t.Errorf("a refused token answer left an active connection: %+v", c)
			}
		})
	}
}

// signInPage follows an authorize URL as a browser would and returns the
// host callback's status and page.
func (h *harness) signInPage(t *testing.T, authorizeURL string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d, want a redirect to the callback", res.StatusCode)
	}
	return h.callbackPage(t, c, res.Header.Get("Location"))
}
