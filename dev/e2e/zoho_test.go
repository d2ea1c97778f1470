package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	zoho "crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/sdk"
)

// TestZohoOAuthConnect drives Zoho's authorization-code flow over HTTP end
// to end against the Zoho fake's accounts server: the authorize URL comes
// from the driver's template over the connection's accounts server (with
// access_type=offline), the consent page redirects to the host's callback,
// the real driver exchanges the code (Zoho's token errors come with HTTP
// 200), the tokens land sealed with the api_domain, the org is recorded
// and the connection active; the agent's lookups work and an expired
// token is refreshed once. A data centre that does not exist is refused at
// the callback with a page naming the known ones, and nothing is stored.
func TestZohoOAuthConnect(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	zf := zoho.New(t, zoho.Options{})
	sum, err := sdk.FileSHA256(zohoBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: "zoho", Version: "e2e", Command: zohoBinary,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/zoho/app-credentials", map[string]any{"values": zf.AppCredentials()}), http.StatusOK)
	tenant := h.createTenant(t, "Zoho OAuth")
	start := func(t *testing.T, creds map[string]string) *url.URL {
		t.Helper()
		r := h.op(t, http.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "zoho", "credentials": creds})
		out := decode[struct {
			URL string `json:"authorize_url"`
		}](t, r, http.StatusOK)
		u, err := url.Parse(out.URL)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	connectionStatus := func(t *testing.T) (int, connection) {
		t.Helper()
		r := h.op(t, http.MethodGet, "/tenants/"+tenant+"/connection", nil)
		if r.Status != http.StatusOK {
			return r.Status, connection{}
		}
		return r.Status, decode[connection](t, r, http.StatusOK)
	}

	t.Run("unknown data centre", func(t *testing.T) {
		u := start(t, map[string]string{"accounts_server": "https://accounts.zoho.xx"})
		if u.Host != "accounts.zoho.xx" {
			t.Fatalf("authorize URL %s, want the configured accounts server", u)
		}
		// No browser reaches accounts.zoho.xx; a callback with the state
		// reaches the driver, which refuses the data centre.
		c := &http.Client{Timeout: 30 * time.Second}
		code, page := h.callbackPage(t, c, h.URL+"/oauth/callback?"+url.Values{"state": {u.Query().Get("state")}, "code": {"1000.x"}}.Encode())
		if code != http.StatusBadRequest || !strings.Contains(page, "accounts.zohocloud.ca") {
			t.Fatalf("callback for an unknown data centre answered %d %q, want 400 naming the data centres", code, page)
		}
		if st, _ := connectionStatus(t); st != http.StatusNotFound {
			t.Errorf("a refused data centre left a connection (GET answered %d)", st)
		}
	})

	t.Run("connect", func(t *testing.T) {
		u := start(t, map[string]string{"base_url": zf.URL, "accounts_server": zf.URL})
		q := u.Query()
		if !strings.HasPrefix(u.String(), zf.URL+"/oauth/v2/auth?") || q.Get("access_type") != "offline" || q.Get("client_id") != zoho.DefaultClientID ||
			q.Get("state") == "" || q.Get("redirect_uri") != h.URL+"/oauth/callback" {
			t.Fatalf("authorize URL %s lacks the accounts server, access_type=offline, the client id, a state or the callback", u)
		}
		if code, _, _ := h.signIn(t, u.String()); code != http.StatusOK {
			t.Fatalf("callback answered %d, want 200", code)
		}
		st, c := connectionStatus(t)
		if st != http.StatusOK || c.Status != "active" || c.AccountID != zf.Connection().AccountID || c.Config["api_domain"] != zf.URL {
			t.Fatalf("after sign-in: %d %+v, want active with org %s and the api_domain", st, c, zf.Connection().AccountID)
		}
		zf.Seed(zoho.OrgA, "Contacts", map[string]any{"Last_Name": "Lovelace", "Phone": "(415) 555-0100"})
		tok := h.agentToken(t, tenant, "conv-zoho")
		got := decode[struct {
			Customer *record `json:"customer"`
		}](t, h.tool(t, tok, "crm_lookup_customer", map[string]any{"phone": "+1 415 555 0100"}), http.StatusOK)
		if got.Customer == nil || got.Customer.Object != "customer" {
			t.Fatalf("lookup after connect = %+v, want the contact", got.Customer)
		}
	})

	t.Run("refresh on 401", func(t *testing.T) {
		before := zf.TokensIssued()
		zf.ExpireAccessTokens()
		tok := h.agentToken(t, tenant, "conv-zoho-refresh")
		decode[map[string]any](t, h.tool(t, tok, "crm_lookup_customer", map[string]any{"email": "nobody@example.com"}), http.StatusOK)
		if n := zf.TokensIssued() - before; n != 1 {
			t.Errorf("%d tokens issued for one expired token, want 1 refresh", n)
		}
	})
}
