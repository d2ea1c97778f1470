package zoho_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
)

func TestAuthorize(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	d := zoho.New()
	d.SetClock(clk.Now)
	conn, grant := s.Grant(t)

	a, err := d.Authorize(bg(t), conn, grant)
	if err != nil {
		t.Fatal(err)
	}
	if a.Secret["access_token"] == "" || a.Secret["refresh_token"] == "" {
		t.Fatalf("secret lacks tokens: keys %v", keys(a.Secret))
	}
	if want := clk.Now().Add(time.Hour); !a.ExpiresAt.Equal(want) {
		t.Errorf("expires at %v, want %v (Zoho's hour)", a.ExpiresAt, want)
	}
	if a.Config["api_domain"] != s.URL || a.Config["accounts_server"] != s.URL {
		t.Errorf("config %v, want api_domain and accounts_server %s", a.Config, s.URL)
	}
	if a.AccountID != s.Connection().AccountID || a.Config["org_domain"] == "" {
		t.Errorf("account %q org_domain %q, want %q and the org's domain", a.AccountID, a.Config["org_domain"], s.Connection().AccountID)
	}
	// The new token works.
	conn = sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config}.Apply(conn)
	if r, err := d.TestConnection(bg(t), conn); err != nil || !r.OK {
		t.Fatalf("TestConnection with the new token: %+v, %v", r, err)
	}
	// The code is single use; the form never carries the code or secret
	// into an error.
	_, err = d.Authorize(bg(t), conn, grant)
	e := wantCode(t, err, sdk.CodeAuth, "")
	if !strings.Contains(e.Message, "invalid_code") || strings.Contains(e.Message, grant.Code) {
		t.Errorf("reused code: %q, want Zoho's invalid_code without the code", e.Message)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	tests := []struct {
		name  string
		edit  func(c *sdk.Connection, g *sdk.Grant)
		code  sdk.Code
		field string
		says  string
	}{
		{"no code nor form tokens", func(_ *sdk.Connection, g *sdk.Grant) { g.Code = "" }, sdk.CodeInvalid, "code", "Self Client"},
		{"unknown data centre", func(c *sdk.Connection, _ *sdk.Grant) {
			delete(c.Config, sdk.ConfigBaseURL)
			c.Config["accounts_server"] = "https://accounts.zoho.xx"
		}, sdk.CodeInvalid, "config.accounts_server", "accounts.zohocloud.ca"},
		{"no client id", func(c *sdk.Connection, _ *sdk.Grant) { delete(c.App, "client_id") }, sdk.CodeInvalid, "app.client_id", "client ID"},
		{"wrong client secret", func(c *sdk.Connection, _ *sdk.Grant) { c.App["client_secret"] = "nope-nope" }, sdk.CodeAuth, "", "invalid_client"},
		{"redirect mismatch", func(_ *sdk.Connection, g *sdk.Grant) { g.RedirectURI = "https://elsewhere.example/cb" }, sdk.CodeInvalid, "redirect_uri", "redirect URI"},
		{"wrong PKCE verifier", func(_ *sdk.Connection, g *sdk.Grant) { g.CodeVerifier = "not-the-verifier" }, sdk.CodeAuth, "", "invalid_code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, grant := s.Grant(t)
			tc.edit(&conn, &grant)
			_, err := d.Authorize(bg(t), conn, grant)
			e := wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q does not say %q", e.Message, tc.says)
			}
			if strings.Contains(e.Message, fake.DefaultClientSecret) {
				t.Errorf("message leaks the client secret: %q", e.Message)
			}
		})
	}
}

// TestAuthorizeForm: without a code, tokens entered in the connect form
// (a Zoho Self Client's) are checked, refreshed when the access token is
// missing or rejected, and the org learned.
func TestAuthorizeForm(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	d := zoho.New()
	d.SetClock(clk.Now)
	want := s.Connection()

	a, err := d.Authorize(bg(t), s.Connection(), sdk.Grant{})
	if err != nil || a.AccountID != want.AccountID || a.Secret["access_token"] != want.Secret["access_token"] || a.Config["org_domain"] == "" {
		t.Fatalf("form tokens = account %q config %v, %v", a.AccountID, a.Config, err)
	}
	if !a.ExpiresAt.IsZero() || s.TokensIssued() != 0 {
		t.Errorf("a working access token was refreshed (expiry %v, %d tokens issued)", a.ExpiresAt, s.TokensIssued())
	}

	onlyRefresh := s.Connection()
	delete(onlyRefresh.Secret, "access_token")
	a, err = d.Authorize(bg(t), onlyRefresh, sdk.Grant{})
	if err != nil || a.Secret["access_token"] == "" || a.Secret["refresh_token"] != want.Secret["refresh_token"] || !a.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("refresh token only = keys %v expiry %v, %v", keys(a.Secret), a.ExpiresAt, err)
	}

	_, err = d.Authorize(bg(t), s.BadConnection(), sdk.Grant{})
	wantCode(t, err, sdk.CodeAuth, "")
}

// TestAuthorizeBadTokenResponses: a token response missing fields, or
// naming an API domain that is not Zoho's, stores nothing.
func TestAuthorizeBadTokenResponses(t *testing.T) {
	tests := []struct{ name, body, says string }{
		{"missing refresh token", `{"access_token":"1000.a","api_domain":"https://www.zohoapis.com","expires_in":3600}`, "refresh_token"},
		{"missing api_domain", `{"access_token":"1000.a","refresh_token":"1000.r","expires_in":3600}`, "api_domain"},
		{"error with HTTP 200", `{"error":"invalid_code"}`, "invalid_code"},
		{"not JSON", `<html>maintenance</html>`, "without a token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			conn := sdk.Connection{Config: map[string]string{"accounts_server": srv.URL, sdk.ConfigBaseURL: srv.URL},
				App: map[string]string{"client_id": "1000.X", "client_secret": "secret-secret"}}
			a, err := zoho.New().Authorize(bg(t), conn, sdk.Grant{Code: "1000.code", RedirectURI: "https://h.example/cb"})
			e := wantCode(t, err, sdk.CodeAuth, "")
			if !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q does not say %q", e.Message, tc.says)
			}
			if a.Secret != nil {
				t.Errorf("a refused exchange answered a secret")
			}
		})
	}
}

// TestAPIDomainChecked: without a base_url override the driver only
// calls Zoho's own API domains, whatever the stored config says.
func TestAPIDomainChecked(t *testing.T) {
	conn := sdk.Connection{Config: map[string]string{"api_domain": "https://evil.example"},
		Secret: map[string]string{"access_token": "1000.a"}}
	_, err := zoho.New().LookupCustomer(bg(t), conn, sdk.LookupQuery{Email: "a@example.com"})
	wantCode(t, err, sdk.CodeInvalid, "config.api_domain")

	conn.Config = map[string]string{"accounts_server": "https://accounts.zoho.eu"}
	for _, good := range []string{"https://accounts.zoho.eu", "https://accounts.zohocloud.ca", "https://accounts.zoho.com.au/"} {
		conn.Config["accounts_server"] = good
		if _, err := zoho.New().Refresh(bg(t), sdk.Connection{Config: conn.Config}); sdk.CodeOf(err) == sdk.CodeInvalid && strings.Contains(err.Error(), "accounts_server") {
			t.Errorf("%s refused: %v", good, err)
		}
	}
}

func TestRefresh(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	d := zoho.New()
	d.SetClock(clk.Now)
	conn := s.Connection()

	s.ExpireAccessTokens()
	_, err := d.LookupCustomer(bg(t), conn, sdk.LookupQuery{Email: "a@example.com"})
	wantCode(t, err, sdk.CodeAuth, "")

	a, err := d.Refresh(bg(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, rotated := a.Secret["refresh_token"]; rotated || a.Secret["access_token"] == "" {
		t.Fatalf("refresh answered keys %v, want a new access_token only (Zoho does not rotate refresh tokens)", keys(a.Secret))
	}
	if !a.ExpiresAt.Equal(clk.Now().Add(time.Hour)) || a.Config["api_domain"] != s.URL {
		t.Errorf("expiry %v config %v", a.ExpiresAt, a.Config)
	}
	conn = sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config}.Apply(conn)
	if _, err := d.LookupCustomer(bg(t), conn, sdk.LookupQuery{Email: "a@example.com"}); err != nil {
		t.Fatalf("lookup with the refreshed token: %v", err)
	}

	// Zoho allows about ten token requests per ten minutes per refresh
	// token, then answers "Access Denied".
	for i := 0; i < 9; i++ {
		if _, err := d.Refresh(bg(t), conn); err != nil {
			t.Fatalf("refresh %d: %v", i+2, err)
		}
	}
	_, err = d.Refresh(bg(t), conn)
	if e := wantCode(t, err, sdk.CodeRateLimited, ""); e.RetryAfter <= 0 {
		t.Errorf("retry-after %v", e.RetryAfter)
	}
	clk.Advance(11 * time.Minute)
	if _, err := d.Refresh(bg(t), conn); err != nil {
		t.Fatalf("refresh after the window: %v", err)
	}

	// A revoked refresh token is auth_error naming what to do.
	_, err = d.Refresh(bg(t), s.BadConnection())
	if e := wantCode(t, err, sdk.CodeAuth, ""); !strings.Contains(e.Message, "reconnect") {
		t.Errorf("revoked refresh token: %q", e.Message)
	}
	noRT := s.Connection()
	delete(noRT.Secret, "refresh_token")
	_, err = d.Refresh(bg(t), noRT)
	wantCode(t, err, sdk.CodeAuth, "")
}

// TestRefreshTokenLimit: Zoho keeps 20 refresh tokens per user; the 21st
// connect deletes the oldest, whose refresh then fails as revoked.
func TestRefreshTokenLimit(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	var first sdk.Connection
	for i := 0; i < 21; i++ {
		conn, grant := s.Grant(t)
		a, err := d.Authorize(bg(t), conn, grant)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config}.Apply(conn)
		}
	}
	_, err := d.Refresh(bg(t), first)
	if e := wantCode(t, err, sdk.CodeAuth, ""); !strings.Contains(e.Message, "20 refresh tokens") {
		t.Errorf("message %q", e.Message)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
