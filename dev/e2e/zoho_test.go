package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	zoho "crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/sdk"
)

// zohoHarness is a harness with the Zoho driver registered, its fake
// running and the fake's app credentials stored for the driver.
func zohoHarness(t *testing.T) (*harness, *zoho.Server) {
	t.Helper()
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
	return h, zf
}

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
	h, zf := zohoHarness(t)
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

// TestZohoWebhookRouting: two tenants connected to two Zoho orgs with the
// host's notification URL; connecting opens each org's channel (the
// driver's credential update, stored by the host). A delivery to the one
// URL (/webhooks/zoho) is routed by its channel token to the tenant of its
// org alone; a token whose MAC was altered is refused.
func TestZohoWebhookRouting(t *testing.T) {
	h, zf := zohoHarness(t)
	notify := h.URL + "/webhooks/zoho"
	tenants := map[string]string{}
	for name, conn := range map[string]sdk.Connection{zoho.OrgA: zf.Connection(), zoho.OrgB: zf.OtherConnection()} {
		creds := dev.Credentials(conn)
		creds["webhook_url"] = notify
		id := h.createTenant(t, "Zoho webhook "+name)
		res := decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+id+"/connection", map[string]any{"provider": "zoho", "credentials": creds}), http.StatusOK)
		if !res.Test.OK || res.Test.Reason != "" || res.Connection.AccountID != conn.AccountID {
			t.Fatalf("org %s: connect = %+v, want active with org %s and the channel open", name, res, conn.AccountID)
		}
		st := decode[connection](t, h.op(t, http.MethodGet, "/tenants/"+id+"/connection", nil), http.StatusOK)
		if st.Config["watch_channel_id"] == "" {
			t.Fatalf("org %s: the channel the driver opened was not kept (config %v)", name, st.Config)
		}
		tenants[name] = id
	}
	received := func(tenant string) int {
		page := decode[struct {
			Entries []struct{ Action, Outcome string } `json:"entries"`
		}](t, h.op(t, http.MethodGet, "/tenants/"+tenant+"/audit?action=webhook.receive", nil), http.StatusOK)
		n := 0
		for _, e := range page.Entries {
			if e.Action == "webhook.receive" && e.Outcome == "ok" {
				n++
			}
		}
		return n
	}
	deliver := func(t *testing.T, body []byte) response {
		t.Helper()
		return h.send(t, request{method: http.MethodPost, path: "/webhooks/zoho", body: body, header: http.Header{"Content-Type": {"application/json"}}})
	}
	var chB zoho.Channel
	for _, c := range zf.Channels(zoho.OrgB) {
		chB = c
	}
	if chB.NotifyURL != notify {
		t.Fatalf("org B's channel notifies %q, want %q", chB.NotifyURL, notify)
	}
	r := decode[map[string]any](t, deliver(t, zf.Notification(chB, "Contacts", "update", []string{"5725767000000400001", "5725767000000400002"}, time.Now())), http.StatusOK)
	if r["received"] != 2.0 || r["tenants"] != 1.0 {
		t.Errorf("delivery for org B = %v, want 2 events for 1 tenant", r)
	}
	if a, b := received(tenants[zoho.OrgA]), received(tenants[zoho.OrgB]); a != 0 || b != 1 {
		t.Errorf("deliveries received: org A's tenant %d, org B's %d; want only B's", a, b)
	}
	forged := chB
	forged.Token = forged.Token[:len(forged.Token)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(forged.Token, "A")]
	wantProblem(t, deliver(t, zf.Notification(forged, "Contacts", "update", []string{"1"}, time.Now())), http.StatusUnauthorized, "unauthenticated")
	if b := received(tenants[zoho.OrgB]); b != 1 {
		t.Errorf("a forged delivery reached org B's tenant (%d receipts)", b)
	}
}
