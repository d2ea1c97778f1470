package http_test

import (
	"context"
	nethttp "net/http"
	"net/url"
	"strings"
	"testing"

	"crmhost.dev/host/internal/memdriver"
)

// startMemOAuth starts a sign-in for tenant and returns the authorize
// URL's query.
func (e *env) startMemOAuth(t *testing.T, tenant string, creds map[string]string) url.Values {
	t.Helper()
	r := e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "mem", "credentials": creds})
	wantStatus(t, r, nethttp.StatusOK)
	u, err := url.Parse(r.object(t)["authorize_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "https://login.mem.crmhost.invalid/"+creds["region"]+"/authorize" {
		t.Errorf("authorize endpoint %q, want the template rendered with region %q", got, creds["region"])
	}
	return u.Query()
}

// TestOAuthFlow: a sign-in started by an operator, its callback, and the
// ways a callback is refused (each with nothing stored).
func TestOAuthFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant := e.createTenant("Acme")
	creds := map[string]string{"account": "acme", "region": "eu"}

	// No app client id yet: the operator is told to set it.
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "mem", "credentials": creds}),
		nethttp.StatusBadRequest, "invalid", "client_id")
	wantStatus(t, e.op(nethttp.MethodPut, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{
		"client_id": "mem-client", "partner_key": "pk-0123456789"}}), nethttp.StatusOK)
	// Bad input at start: a template variable missing, a secret given, an unknown driver.
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme"}}),
		nethttp.StatusBadRequest, "invalid", "config.region")
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme", "region": "eu", "api_key": "x"}}),
		nethttp.StatusBadRequest, "invalid", "credentials.api_key")
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "nosuch", "credentials": creds}),
		nethttp.StatusBadRequest, "invalid", "provider")

	q := e.startMemOAuth(t, tenant, creds)
	if q.Get("client_id") != "mem-client" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("access_type") != "offline" || q.Get("scope") != "people deals" || q.Get("state") == "" ||
		q.Get("redirect_uri") != e.srv.URL+"/oauth/callback" {
		t.Fatalf("authorize query %v lacks client id, PKCE, extra params, scopes, state or redirect", q)
	}
	if _, err := e.store.GetConnection(context.Background(), tenant); err == nil {
		t.Fatal("starting a sign-in wrote a connection")
	}

	page := func(query string) (int, string) {
		t.Helper()
		r := e.do(nethttp.MethodGet, "/oauth/callback?"+query, "", nil)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("callback answered %q, want a page", ct)
		}
		return r.status, string(r.body)
	}
	// The provider refuses, a code the driver refuses: nothing stored,
	// and the state is spent.
	if code, body := page("state=" + url.QueryEscape(q.Get("state")) + "&error=access_denied"); code != 400 || !strings.Contains(body, "declined") {
		t.Errorf("declined: %d %s", code, body)
	}
	q = e.startMemOAuth(t, tenant, creds)
	if code, body := page("state=" + url.QueryEscape(q.Get("state")) + "&code=wrong"); code != 400 || !strings.Contains(body, "refused") {
		t.Errorf("wrong code: %d %s", code, body)
	}
	if _, err := e.store.GetCredential(context.Background(), tenant); err == nil {
		t.Fatal("a refused sign-in stored a credential")
	}
	for _, bad := range []string{"code=" + memdriver.AuthCode, "state=forged&code=" + memdriver.AuthCode} {
		if code, _ := page(bad); code != 400 {
			t.Errorf("callback %q answered %d, want 400", bad, code)
		}
	}

	// The sign-in completes: tokens sealed with their expiry, the account
	// recorded, the connection tested and active.
	q = e.startMemOAuth(t, tenant, creds)
	good := "state=" + url.QueryEscape(q.Get("state")) + "&code=" + memdriver.AuthCode
	if code, body := page(good); code != 200 || !strings.Contains(body, "CRM connected") {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	conn, err := e.store.GetConnection(context.Background(), tenant)
	if err != nil || conn.Status != "active" || conn.AccountID != "acme" || conn.Config["region"] != "eu" {
		t.Fatalf("connection after sign-in = %+v, %v", conn, err)
	}
	cred, secret := e.openSecret(tenant)
	if secret["api_key"] != memdriver.GoodKey || secret["refresh_token"] != memdriver.RefreshToken || cred.ExpiresAt == nil {
		t.Errorf("stored secret keys %d, expiry %v: want the sign-in's tokens and their expiry", len(secret), cred.ExpiresAt)
	}
	r := e.op(nethttp.MethodGet, "/tenants/"+tenant+"/connection", nil)
	wantStatus(t, r, nethttp.StatusOK)
	var shown struct {
		AccountID  string `json:"account_id"`
		Credential struct {
			Version   int     `json:"version"`
			ExpiresAt *string `json:"expires_at"`
			UpdatedAt string  `json:"updated_at"`
		} `json:"credential"`
	}
	r.decode(t, &shown)
	if shown.AccountID != "acme" || shown.Credential.Version < 1 || shown.Credential.ExpiresAt == nil || shown.Credential.UpdatedAt == "" {
		t.Errorf("GET connection = %s, want the account and the token's expiry and last change", r.body)
	}
	if strings.Contains(string(r.body), memdriver.GoodKey) {
		t.Error("GET connection shows the token")
	}
	if code, body := page(good); code != 400 || !strings.Contains(body, "already used") {
		t.Errorf("replayed callback: %d %s", code, body)
	}

	// An edit of a form field keeps what the sign-in set beyond the form
	// (the learned instance URL, the tokens); the learned key is no form
	// field an operator may set.
	instance := conn.Config[memdriver.ConfigInstance]
	if instance == "" {
		t.Fatalf("the sign-in's learned config key is not stored: %v", conn.Config)
	}
	r = e.op(nethttp.MethodPatch, "/tenants/"+tenant+"/connection", map[string]any{"credentials": map[string]string{"region": "us"}})
	wantStatus(t, r, nethttp.StatusOK)
	conn, err = e.store.GetConnection(context.Background(), tenant)
	if err != nil || conn.Status != "active" || conn.Config["region"] != "us" || conn.Config[memdriver.ConfigInstance] != instance {
		t.Errorf("connection after an edit = %+v, %v: want region us, active, the learned instance kept", conn, err)
	}
	if _, secret := e.openSecret(tenant); secret["api_key"] != memdriver.GoodKey || secret["refresh_token"] != memdriver.RefreshToken {
		t.Errorf("an edit of the region dropped the sign-in's tokens (%d keys left)", len(secret))
	}
	wantProblem(t, e.op(nethttp.MethodPatch, "/tenants/"+tenant+"/connection", map[string]any{"credentials": map[string]string{memdriver.ConfigInstance: "https://evil.invalid"}}),
		nethttp.StatusBadRequest, "invalid", "credentials."+memdriver.ConfigInstance)
	// The audit names the operator who started it.
	var signedIn bool
	for _, row := range e.auditRows(tenant) {
		signedIn = signedIn || (row.Action == "connection.oauth" && row.Outcome == "ok" && row.ActorType == "operator")
	}
	if !signedIn {
		t.Error("no connection.oauth audit row for the operator")
	}
}

// TestOAuthReturnTo: a flow started with a return address sends the
// browser back there after the callback.
func TestOAuthReturnTo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant := e.createTenant("Acme")
	wantStatus(t, e.op(nethttp.MethodPut, "/drivers/mem/app-credentials", map[string]any{"values": map[string]string{"client_id": "mem-client"}}), nethttp.StatusOK)
	wantProblem(t, e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "mem",
		"credentials": map[string]string{"account": "acme", "region": "us"}, "return_to": "javascript:alert(1)"}), nethttp.StatusBadRequest, "invalid", "return_to")
	r := e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "mem",
		"credentials": map[string]string{"account": "acme", "region": "us"}, "return_to": "/console/tenants/" + tenant})
	wantStatus(t, r, nethttp.StatusOK)
	u, _ := url.Parse(r.object(t)["authorize_url"].(string))
	c := *e.srv.Client()
	c.CheckRedirect = func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }
	res, err := c.Get(e.srv.URL + "/oauth/callback?state=" + url.QueryEscape(u.Query().Get("state")) + "&code=" + memdriver.AuthCode)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != nethttp.StatusSeeOther || !strings.HasPrefix(loc, "/console/tenants/"+tenant+"?") || !strings.Contains(loc, "status=connected") {
		t.Errorf("callback with return_to = %d %q, want 303 back with status=connected", res.StatusCode, loc)
	}

	// A refused sign-in goes back too, with the reason in words.
	r = e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/oauth", map[string]any{"provider": "mem",
		"credentials": map[string]string{"account": "acme", "region": "us"}, "return_to": "/console/oauth/done?popup=1"})
	wantStatus(t, r, nethttp.StatusOK)
	u, _ = url.Parse(r.object(t)["authorize_url"].(string))
	res, err = c.Get(e.srv.URL + "/oauth/callback?state=" + url.QueryEscape(u.Query().Get("state")) + "&error=access_denied")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != nethttp.StatusSeeOther || loc == nil || loc.Path != "/console/oauth/done" || loc.Query().Get("popup") != "1" ||
		loc.Query().Get("status") != "failed" || loc.Query().Get("tenant") != tenant || !strings.Contains(loc.Query().Get("reason"), "declined") {
		t.Errorf("refused callback with return_to = %d %q, want 303 back with status=failed and the reason", res.StatusCode, loc)
	}
}
