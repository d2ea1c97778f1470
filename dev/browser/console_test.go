package browser_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	odoo "crmhost.dev/plugins/odoo/fake"
	"github.com/chromedp/chromedp"
)

// TestConsole drives the console's flows in one chromium tab, in order:
// each builds on the one before, as an operator's kickoff call would.
func TestConsole(t *testing.T) {
	h := startHost(t)
	b := newBrowser(t)
	c := h.URL + "/console"
	by := chromedp.ByQuery

	// Sign in.
	b.run("sign-in page", chromedp.Navigate(c+"/"), chromedp.WaitVisible("#token", by))
	b.labelled("sign-in")
	b.allowErrors(true)
	b.run("wrong operator token", chromedp.SendKeys("#token", "crmo_notavalidtoken_x", by), chromedp.Submit("#token", by),
		chromedp.WaitVisible(".alert.bad", by))
	b.allowErrors(false)
	b.run("sign in", chromedp.Navigate(c+"/login"), chromedp.WaitVisible("#token", by), chromedp.SendKeys("#token", h.operator, by), chromedp.Submit("#token", by),
		chromedp.WaitVisible("#tenant-rows", by))
	b.labelled("tenants")

	// Connect a form-credential provider (Odoo): a wrong key, then the
	// right one; the wizard is driven by the keyboard alone.
	var odooTenant string
	t.Run("connect form provider", func(t *testing.T) {
		b.run("create tenant", chromedp.SendKeys("#tname", "Acme Odoo", by), chromedp.Submit("#tname", by),
			chromedp.WaitVisible(`a.choice[href*="provider=odoo"]`, by))
		b.labelled("provider choice")
		b.tabTo(`a.choice[href*="provider=odoo"]`)
		b.run("pick odoo by keyboard", chromedp.KeyEvent("\r"), chromedp.WaitVisible("#f-database", by))
		b.labelled("odoo form")
		var loc string
		b.do("tenant id", chromedp.Location(&loc))
		odooTenant = strings.Split(strings.SplitAfter(loc, "/tenants/")[1], "/")[0]
		b.tabTo("#f-base_url")
		b.run("type the form", chromedp.KeyEvent(h.odoo.URL), chromedp.KeyEvent("\t"), chromedp.KeyEvent(odoo.DefaultDatabase),
			chromedp.KeyEvent("\t"), chromedp.KeyEvent(odoo.DefaultLogin), chromedp.KeyEvent("\t"), chromedp.KeyEvent("wrong-api-key"))
		b.allowErrors(true)
		b.tabTo("#connect-submit")
		b.run("submit a wrong key", chromedp.KeyEvent("\r"), chromedp.WaitVisible(".alert.bad details", by))
		b.allowErrors(false)
		if msg := b.text(".alert.bad .msg"); !strings.Contains(msg, "did not accept") {
			t.Errorf("wrong key message %q", msg)
		}
		b.run("open the details", chromedp.Click(".alert.bad summary", by), chromedp.WaitVisible(".alert.bad dl", by))
		b.run("the right key", chromedp.SendKeys("#f-api_key", odoo.DefaultAPIKey, by))
		b.tabTo("#connect-submit")
		b.run("submit the right key", chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#status-badge[data-status="active"]`, by))
	})

	// Connect HubSpot through the OAuth popup against the fake's
	// authorize page.
	var hsTenant string
	t.Run("connect oauth popup", func(t *testing.T) {
		b.run("tenants", chromedp.Navigate(c+"/"), chromedp.SendKeys("#tname", "Acme HubSpot", by), chromedp.Submit("#tname", by),
			chromedp.WaitVisible(`a.choice[href*="provider=hubspot"]`, by))
		b.run("pick hubspot", chromedp.Click(`a.choice[href*="provider=hubspot"]`, by), chromedp.WaitVisible("form[data-oauth]", by))
		var loc string
		b.do("tenant id", chromedp.Location(&loc))
		hsTenant = strings.Split(strings.SplitAfter(loc, "/tenants/")[1], "/")[0]
		b.labelled("hubspot form")
		b.run("advanced settings", chromedp.Click("details.advanced summary", by), chromedp.WaitVisible("#f-app_base_url", by),
			setValue("#f-app_base_url", h.hubspot.URL), setValue("#f-base_url", h.hubspot.URL))
		b.run("sign in through the popup", chromedp.Click("#connect-submit", by), chromedp.WaitVisible(`#status-badge[data-status="active"]`, by))
		if acct := b.text("#account-id"); acct == "" {
			t.Error("no provider account id after the OAuth connect")
		}
	})

	// A popup closed before the sign-in finished is detected and
	// explained; nothing changes.
	t.Run("popup closed mid-flow", func(t *testing.T) {
		stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<!doctype html><title>Sign in</title><p>Sign in to the provider</p>`))
		}))
		defer stall.Close()
		b.run("reconnect form", chromedp.Navigate(c+"/tenants/"+hsTenant+"/connect?provider=hubspot"), chromedp.WaitVisible("form[data-oauth]", by),
			chromedp.Click("details.advanced summary", by),
			// A provider sign-in page the customer leaves without
			// signing in.
			setValue("#f-app_base_url", stall.URL))
		targets := b.targets()
		b.run("open the popup", chromedp.Click("#connect-submit", by), chromedp.WaitVisible("#oauth-status.alert", by))
		b.closeNewTargets(targets)
		b.run("closed popup explained", chromedp.WaitVisible("#oauth-status.alert.bad", by))
		if msg := b.text("#oauth-status"); !strings.Contains(msg, "closed before the sign-in finished") {
			t.Errorf("closed popup message %q", msg)
		}
		b.run("still active", chromedp.Navigate(c+"/tenants/"+hsTenant), chromedp.WaitVisible(`#status-badge[data-status="active"]`, by))
	})

	// The studio: a write override, a live-field check, a preview against
	// a live record, then a create through the agent route with the
	// override applied, found in the audit trail by its request id.
	t.Run("mapping studio", func(t *testing.T) {
		h.agentCreate(t, hsTenant, "req-browser-seed", map[string]any{"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "phone": "+14155550111"})
		b.run("studio", chromedp.Navigate(c+"/tenants/"+hsTenant+"/mappings?object=customer"), chromedp.WaitVisible("#fields", by))
		b.labelled("studio")
		b.allowErrors(true)
		b.tabTo("#m-key")
		b.run("map to a field HubSpot lacks", chromedp.KeyEvent("customer.phone"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("nosuchfield"))
		b.tabTo("#m-save")
		b.run("refused", chromedp.KeyEvent("\r"), chromedp.WaitVisible(".alert.bad", by))
		b.allowErrors(false)
		if msg := b.text(".alert.bad .msg"); !strings.Contains(msg, "nosuchfield") {
			t.Errorf("unknown field message %q", msg)
		}
		if ov, _ := h.store.ListMappings(t.Context(), hsTenant, ""); len(ov) != 0 {
			t.Fatalf("a refused override was saved: %+v", ov)
		}
		b.tabTo("#m-key")
		b.run("write override by keyboard", chromedp.KeyEvent("customer.phone"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("mobilephone"))
		b.tabTo("#m-save")
		b.run("saved", chromedp.KeyEvent("\r"), chromedp.WaitVisible("#saved", by), chromedp.WaitVisible("#overrides", by))
		b.run("recent records", chromedp.Click("#preview-recent", by), chromedp.WaitVisible("#preview .record", by))
		if got := b.text("#preview .record-fields"); !strings.Contains(got, "grace@example.com") {
			t.Errorf("preview of the live record shows %q", got)
		}
		b.run("sample write", chromedp.Click("#preview-write", by), chromedp.WaitVisible("#sample-write", by))
		var sample map[string]any
		if err := json.Unmarshal([]byte(b.text("#sample-write")), &sample); err != nil || sample["mobilephone"] == nil || sample["phone"] != nil {
			t.Errorf("sample write %v (%v): want mobilephone, not phone", sample, err)
		}
		b.run("a record that no longer exists", chromedp.SendKeys("#p-id", "999999999", by), chromedp.Click("#preview-lookup", by),
			chromedp.WaitVisible("#preview .alert", by))

		h.agentCreate(t, hsTenant, "req-browser-override", map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+14155550100"})
		found := false
		for _, o := range h.hubspot.Records("contacts") {
			if o.Properties["email"] == "ada@example.com" {
				found = true
				if o.Properties["mobilephone"] == "" || o.Properties["phone"] != "" {
					t.Errorf("created contact %v: want the phone in mobilephone (the override), not phone", o.Properties)
				}
			}
		}
		if !found {
			t.Fatal("the agent's create did not reach HubSpot")
		}
		b.run("audit", chromedp.Navigate(c+"/audit"), chromedp.WaitVisible("#a-request", by))
		b.labelled("audit")
		b.run("filter by request id", chromedp.SendKeys("#a-request", "req-browser-override", by), chromedp.Click("#audit-apply", by),
			chromedp.WaitVisible(`#audit-rows tr[data-request="req-browser-override"]`, by))
		var n int
		b.run("only that request", chromedp.Evaluate(`document.querySelectorAll('#audit-rows tbody tr:not([data-request="req-browser-override"])').length`, &n))
		if n != 0 || !strings.Contains(b.text("#audit-rows"), "record.create") {
			t.Errorf("the filtered audit trail shows %d other rows or no record.create", n)
		}
		b.run("row detail", chromedp.Click(`#audit-rows tr[data-request="req-browser-override"] td a`, by), chromedp.WaitVisible("#audit-entry", by))
	})

	// Reconnect in place keeps the connection and its mappings.
	t.Run("reconnect in place", func(t *testing.T) {
		b.run("tenant", chromedp.Navigate(c+"/tenants/"+hsTenant), chromedp.WaitVisible(`a[href*="reconnect=1"]`, by))
		b.run("reconnect", chromedp.Click(`a[href*="reconnect=1"]`, by), chromedp.WaitVisible("form[data-oauth]", by),
			chromedp.Click("details.advanced summary", by), setValue("#f-app_base_url", h.hubspot.URL))
		b.run("sign in again", chromedp.Click("#connect-submit", by), chromedp.WaitVisible(`#status-badge[data-status="active"]`, by))
		ov, err := h.store.ListMappings(t.Context(), hsTenant, host.MappingWrite)
		if err != nil || len(ov) != 1 || ov[0].Target != "mobilephone" {
			t.Errorf("overrides after the reconnect: %+v, %v", ov, err)
		}
		b.run("reconnect link", chromedp.Click(`form[action$="/connect/link"] button`, by), chromedp.WaitVisible("#reconnect-link", by))
		var link string
		b.do("read link", chromedp.Value("#reconnect-link", &link, by))
		b.run("the customer's page", chromedp.Navigate(link), chromedp.WaitVisible("#connect-form", by))
		b.labelled("reconnect link")
	})

	// API keys: create (shown once), revoke.
	t.Run("api keys", func(t *testing.T) {
		b.run("keys", chromedp.Navigate(c+"/tenants/"+odooTenant+"/keys"), chromedp.WaitVisible("#key-form", by))
		b.labelled("keys")
		b.run("create", chromedp.Click("#key-create", by), chromedp.WaitVisible("#created-key", by))
		var key string
		b.do("read key", chromedp.Value("#created-key", &key, by))
		if !strings.HasPrefix(key, "crmk_") {
			t.Fatalf("created key %q", key)
		}
		b.run("revoke", chromedp.Click(`#key-list button.danger`, by), chromedp.WaitVisible(`#key-list .badge.bad`, by))
		ks, _ := h.store.ListAPIKeys(t.Context(), odooTenant)
		if len(ks) != 1 || ks[0].RevokedAt == nil {
			t.Errorf("keys after revoking: %+v", ks)
		}
	})

	t.Run("drivers and docs", func(t *testing.T) {
		b.run("drivers", chromedp.Navigate(c+"/drivers"), chromedp.WaitVisible("#driver-hubspot", by))
		b.labelled("drivers")
		b.run("docs", chromedp.Navigate(h.URL+"/docs"), chromedp.WaitVisible("#tag-tools, section h2", by))
	})

	// A form on another origin posting to the console is refused.
	t.Run("cross-origin form", func(t *testing.T) {
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<!doctype html><form method="post" action="` + c + `/tenants"><input name="name" value="Evil" aria-label="name"><button id="go">go</button></form>`))
		}))
		defer evil.Close()
		before, _ := h.store.ListTenants(t.Context())
		b.allowErrors(true)
		b.run("evil page", chromedp.Navigate(evil.URL), chromedp.Click("#go", by), chromedp.WaitVisible("body", by), chromedp.Sleep(300*time.Millisecond))
		b.allowErrors(false)
		after, _ := h.store.ListTenants(t.Context())
		if len(after) != len(before) {
			t.Fatal("a cross-origin form created a tenant")
		}
		if body := b.text("body"); !strings.Contains(body, "cross-origin request refused") && !strings.Contains(body, "sign in") {
			t.Errorf("cross-origin answer %q", body)
		}
	})
}

// agentCreate creates a record through the agent's route with a request id.
func (h *hostEnv) agentCreate(t *testing.T, tenant, requestID string, fields map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"object": "customer", "fields": fields, "idempotency_key": requestID})
	req, _ := http.NewRequest("POST", h.URL+"/api/tools/crm_create_record", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.agentToken(t, tenant))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", requestID)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var p map[string]any
		_ = json.NewDecoder(res.Body).Decode(&p)
		t.Fatalf("agent create = %d %v", res.StatusCode, p)
	}
}
