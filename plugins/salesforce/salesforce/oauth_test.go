package salesforce_test

import (
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk"
)

func TestAuthorize(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{Now: c.Now})
	d := salesforce.New(salesforce.WithClock(c.Now))
	conn, grant := srv.Grant(t)
	a := must[sdk.Authorization](t)(d.Authorize(ctx(t), conn, grant))
	if a.Secret["access_token"] == "" || a.Secret["refresh_token"] == "" || len(a.Secret) != 2 {
		t.Fatalf("secret keys %v, want access_token and refresh_token", keys(a.Secret))
	}
	if a.AccountID != fake.OrgA || a.Config["instance_url"] != srv.URL {
		t.Fatalf("account %q config %v, want %s and instance_url %s", a.AccountID, a.Config, fake.OrgA, srv.URL)
	}
	if want := c.Now().Add(2 * time.Hour); !a.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want issued_at + the 2 h session timeout (%v)", a.ExpiresAt, want)
	}
	tok := requests(srv, "POST", "/services/oauth2/token")
	if len(tok) != 1 || !strings.Contains(tok[0].Body, "code_verifier=") || !strings.Contains(tok[0].Body, "grant_type=authorization_code") {
		t.Fatalf("token requests %+v", tok)
	}
	// The new session works.
	conn = sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config, AccountID: a.AccountID}.Apply(conn)
	if r := must[sdk.TestResult](t)(d.TestConnection(ctx(t), conn)); !r.OK || r.AccountID != fake.OrgA {
		t.Fatalf("TestConnection after Authorize: %+v", r)
	}
	// A code works once.
	_, err := d.Authorize(ctx(t), conn, grant)
	e := wantCode(t, err, sdk.CodeAuth, "")
	if !strings.Contains(e.Message, "invalid_grant") {
		t.Fatalf("reused code: %v", e)
	}
	noSecret(t, e.Error(), conn)
}

func TestAuthorizeRefusals(t *testing.T) {
	tests := []struct {
		name  string
		opts  fake.Options
		edit  func(*sdk.Connection, *sdk.Grant)
		code  sdk.Code
		field string
		says  string
	}{
		{name: "wrong PKCE verifier", edit: func(_ *sdk.Connection, g *sdk.Grant) { g.CodeVerifier = "not-the-verifier" },
			code: sdk.CodeAuth, says: "invalid code verifier"},
		{name: "no consumer key", edit: func(c *sdk.Connection, _ *sdk.Grant) { delete(c.App, "client_id") },
			code: sdk.CodeInvalid, field: "app.client_id"},
		{name: "no consumer secret", edit: func(c *sdk.Connection, _ *sdk.Grant) { delete(c.App, "client_secret") },
			code: sdk.CodeInvalid, field: "app.client_secret"},
		{name: "wrong consumer secret", edit: func(c *sdk.Connection, _ *sdk.Grant) { c.App["client_secret"] = "wrong-secret-123" },
			code: sdk.CodeAuth, says: "app credentials"},
		{name: "redirect URI differs", edit: func(_ *sdk.Connection, g *sdk.Grant) { g.RedirectURI = "https://elsewhere.example/cb" },
			code: sdk.CodeAuth, says: "redirect_uri_mismatch"},
		{name: "login URL not Salesforce's", edit: func(c *sdk.Connection, _ *sdk.Grant) {
			delete(c.Config, sdk.ConfigBaseURL)
			c.Config["login_url"] = "https://login.salesforce.com.evil.example"
		}, code: sdk.CodeInvalid, field: "config.login_url"},
		{name: "instance URL not Salesforce's", opts: fake.Options{InstanceURL: "https://evil.example.com"},
			code: sdk.CodeAuth, says: "not a Salesforce host"},
		{name: "no refresh token", opts: fake.Options{OmitTokenFields: []string{"refresh_token"}},
			code: sdk.CodeAuth, says: "refresh_token"},
		{name: "no instance URL", opts: fake.Options{OmitTokenFields: []string{"instance_url"}},
			code: sdk.CodeAuth, says: "no instance_url"},
		{name: "no signature", opts: fake.Options{OmitTokenFields: []string{"signature"}},
			code: sdk.CodeAuth, says: "no signature"},
		{name: "signature does not match", opts: fake.Options{SigningSecret: "someone-else"},
			code: sdk.CodeAuth, says: "signature that does not match"},
		{name: "no identity URL", opts: fake.Options{OmitTokenFields: []string{"id"}},
			code: sdk.CodeAuth, says: "no id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fake.New(t, tc.opts)
			conn, grant := srv.Grant(t)
			if tc.edit != nil {
				tc.edit(&conn, &grant)
			}
			_, err := salesforce.New().Authorize(ctx(t), conn, grant)
			e := wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(e.Message, tc.says) {
				t.Fatalf("message %q does not say %q", e.Message, tc.says)
			}
			noSecret(t, e.Error(), srv.Connection())
			if strings.Contains(e.Message, grant.Code) || strings.Contains(e.Message, fake.DefaultClientSecret) {
				t.Fatalf("message leaks the code or the client secret: %q", e.Message)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	srv.ExpireSessions()
	_, err := d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "a@example.com"})
	wantCode(t, err, sdk.CodeAuth, "")

	a := must[sdk.Authorization](t)(d.Refresh(ctx(t), conn))
	if _, rotated := a.Secret["refresh_token"]; rotated || a.Secret["access_token"] == "" || a.AccountID != fake.OrgA {
		t.Fatalf("refresh answered %v for %s, want a new access token only", keys(a.Secret), a.AccountID)
	}
	conn = sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config}.Apply(conn)
	must[sdk.LookupResult](t)(d.LookupCustomer(ctx(t), conn, sdk.LookupQuery{Email: "a@example.com"}))

	bad := srv.BadConnection()
	_, err = d.Refresh(ctx(t), bad)
	e := wantCode(t, err, sdk.CodeAuth, "")
	if !strings.Contains(e.Message, "reconnect") {
		t.Fatalf("a refused refresh token should tell the operator to reconnect: %q", e.Message)
	}
	noSecret(t, e.Error(), bad)

	other := srv.Connection()
	other.AccountID = fake.OrgB
	_, err = d.Refresh(ctx(t), other)
	if e := wantCode(t, err, sdk.CodeAuth, ""); !strings.Contains(e.Message, "belongs to org") {
		t.Fatalf("refresh for another org: %v", e)
	}

	none := srv.Connection()
	delete(none.Secret, "refresh_token")
	_, err = d.Refresh(ctx(t), none)
	wantCode(t, err, sdk.CodeAuth, "")
}

// TestRefreshRotation shows Salesforce's refresh token rotation: each
// refresh answers a new refresh token, and presenting a retired one
// revokes the whole family, the newest token included.
func TestRefreshRotation(t *testing.T) {
	srv := fake.New(t, fake.Options{RotateRefreshTokens: true})
	d := salesforce.New()
	conn := srv.Connection()
	a := must[sdk.Authorization](t)(d.Refresh(ctx(t), conn))
	next := a.Secret["refresh_token"]
	if next == "" || next == conn.Secret["refresh_token"] {
		t.Fatalf("rotation answered refresh token %q", next)
	}
	_, err := d.Refresh(ctx(t), conn) // the retired token, again
	wantCode(t, err, sdk.CodeAuth, "")
	rotated := sdk.CredentialUpdate{Secret: a.Secret}.Apply(conn)
	_, err = d.Refresh(ctx(t), rotated)
	wantCode(t, err, sdk.CodeAuth, "")
	_, err = d.LookupCustomer(ctx(t), rotated, sdk.LookupQuery{Email: "a@example.com"})
	wantCode(t, err, sdk.CodeAuth, "")
}

func TestTestConnection(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	if r := must[sdk.TestResult](t)(d.TestConnection(ctx(t), srv.Connection())); !r.OK || r.AccountID != fake.OrgA {
		t.Fatalf("good connection: %+v", r)
	}
	unknown := srv.OtherConnection()
	unknown.AccountID = ""
	if r := must[sdk.TestResult](t)(d.TestConnection(ctx(t), unknown)); !r.OK || r.AccountID != fake.OrgB {
		t.Fatalf("connection without account: %+v, want org B learned from userinfo", r)
	}
	if r := must[sdk.TestResult](t)(d.TestConnection(ctx(t), srv.BadConnection())); r.OK || !strings.Contains(r.Reason, "INVALID_SESSION_ID") {
		t.Fatalf("bad session: %+v", r)
	}
	old := srv.Connection()
	old.Config["api_version"] = "99.0"
	if r := must[sdk.TestResult](t)(d.TestConnection(ctx(t), old)); r.OK || !strings.Contains(r.Reason, "99.0") {
		t.Fatalf("unserved API version: %+v", r)
	}
	old.Config["api_version"] = "v66"
	_, err := d.TestConnection(ctx(t), old)
	wantCode(t, err, sdk.CodeInvalid, "config.api_version")
}

func TestAuthorizePastedSession(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.OtherConnection()
	conn.AccountID = ""
	a := must[sdk.Authorization](t)(salesforce.New().Authorize(ctx(t), conn, sdk.Grant{}))
	if a.AccountID != fake.OrgB || a.Secret["access_token"] != conn.Secret["access_token"] {
		t.Fatalf("pasted session: account %q", a.AccountID)
	}
	delete(conn.Secret, "access_token")
	_, err := salesforce.New().Authorize(ctx(t), conn, sdk.Grant{})
	wantCode(t, err, sdk.CodeInvalid, "access_token")
}

func TestTrustedURL(t *testing.T) {
	prod := sdk.Connection{}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://login.salesforce.com", true},
		{"https://test.salesforce.com", true},
		{"https://acme.my.salesforce.com", true},
		{"https://acme--uat.sandbox.my.salesforce.com", true},
		{"https://na123.salesforce.com/", true},
		{"https://acme.lightning.force.com", true},
		{"http://login.salesforce.com", false},
		{"https://login.salesforce.com:8443", false},
		{"https://login.salesforce.com.evil.example", false},
		{"https://evilsalesforce.com", false},
		{"https://user@login.salesforce.com", false},
		{"https://login.salesforce.com/?x=1", false},
		{"https://169.254.169.254", false},
		{"not a url", false},
	}
	for _, tc := range tests {
		if got := salesforce.TrustedURL(prod, tc.url); got != tc.ok {
			t.Errorf("TrustedURL(%q) = %v, want %v", tc.url, got, tc.ok)
		}
	}
	// A stored instance URL that is not Salesforce's is refused before any
	// request carries the token there.
	evil := sdk.Connection{Config: map[string]string{"instance_url": "https://evil.example.com"}, Secret: map[string]string{"access_token": "00D!secret-token"}}
	_, err := salesforce.New().LookupCustomer(ctx(t), evil, sdk.LookupQuery{Email: "a@example.com", Objects: []string{"Contact"}})
	wantCode(t, err, sdk.CodeInvalid, "config.instance_url")
	fakeConn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: "http://127.0.0.1:4321"}}
	if !salesforce.TrustedURL(fakeConn, "http://127.0.0.1:4321") || salesforce.TrustedURL(fakeConn, "https://login.salesforce.com") {
		t.Error("with base_url, only base_url's origin is trusted")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
