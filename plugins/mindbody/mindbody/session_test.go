package mindbody_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
)

// TestStaffTokenIssuedAndKept: a connection without a token gets one, sent
// back as a credential update; the next call with the updated connection
// reuses it and issues none.
func TestStaffTokenIssuedAndKept(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Unissued()
	c, update := capture(t)
	if _, err := e.cl.LookupCustomer(c, conn, sdk.LookupQuery{Email: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	u := update()
	if u == nil || u.Secret["staff_token"] == "" || u.Secret["staff_token_renewals"] != "0" {
		t.Fatalf("credential update = %+v, want a staff token", u)
	}
	if want := e.clk.Now().Add(24 * time.Hour); !u.ExpiresAt.Equal(want) || u.Secret["staff_token_expires_at"] != want.Format(time.RFC3339) {
		t.Errorf("expiry %v / %q, want %v", u.ExpiresAt, u.Secret["staff_token_expires_at"], want)
	}
	if e.srv.TokensIssued() != 1 {
		t.Fatalf("tokens issued = %d, want 1", e.srv.TokensIssued())
	}
	// The token is the one Mindbody issued, and it authorises calls.
	conn = u.Apply(conn)
	c, update = capture(t)
	if _, err := e.cl.LookupCustomer(c, conn, sdk.LookupQuery{Email: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	if u := update(); u != nil {
		t.Errorf("a call with a fresh token sent an update: %+v", u)
	}
	if e.srv.TokensIssued() != 1 {
		t.Errorf("tokens issued = %d after reuse, want 1", e.srv.TokensIssued())
	}
	last := e.srv.Requests()[len(e.srv.Requests())-1]
	if last.Header.Get("Authorization") != conn.Secret["staff_token"] || last.Header.Get("SiteId") != "555001" || last.Header.Get("Api-Key") != fake.DefaultAPIKey {
		t.Errorf("request headers %v", last.Header)
	}
}

// TestStaffTokenRenewed: a token within an hour of its expiry is renewed
// (24 hours more), seven times; then a new one is issued.
func TestStaffTokenRenewed(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	tok := conn.Secret["staff_token"]
	for i := 1; i <= 8; i++ {
		exp, _ := time.Parse(time.RFC3339, conn.Secret["staff_token_expires_at"])
		e.clk.Set(exp.Add(-30 * time.Minute))
		c, update := capture(t)
		if _, err := e.cl.LookupCustomer(c, conn, sdk.LookupQuery{ExternalID: "1"}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		u := update()
		if u == nil {
			t.Fatalf("call %d: no credential update", i)
		}
		conn = u.Apply(conn)
		if i <= 7 {
			if got := e.srv.TokenRenewals(tok); got != i || conn.Secret["staff_token"] != tok || conn.Secret["staff_token_renewals"] != strconv.Itoa(i) {
				t.Fatalf("call %d: renewals %d (secret %s), token kept %v", i, got, conn.Secret["staff_token_renewals"], conn.Secret["staff_token"] == tok)
			}
			if !u.ExpiresAt.Equal(exp.Add(24 * time.Hour)) {
				t.Errorf("call %d: renewed expiry %v, want %v", i, u.ExpiresAt, exp.Add(24*time.Hour))
			}
			continue
		}
		if conn.Secret["staff_token"] == tok || conn.Secret["staff_token_renewals"] != "0" || e.srv.TokensIssued() != 1 {
			t.Errorf("after 7 renewals: a new token %v, renewals %s, issued %d", conn.Secret["staff_token"] != tok,
				conn.Secret["staff_token_renewals"], e.srv.TokensIssued())
		}
	}
	// An expired token is replaced by a new one.
	e.clk.Advance(48 * time.Hour)
	c, update := capture(t)
	if _, err := e.cl.LookupCustomer(c, conn, sdk.LookupQuery{ExternalID: "1"}); err != nil {
		t.Fatal(err)
	}
	if u := update(); u == nil || u.Secret["staff_token"] == conn.Secret["staff_token"] || e.srv.TokensIssued() != 2 {
		t.Errorf("expired token: update %+v, issued %d", u, e.srv.TokensIssued())
	}
}

// TestRefresh: the host's Refresh renews the token, or issues one once it
// cannot be renewed; an auth_error from a revoked token is cured by it.
func TestRefresh(t *testing.T) {
	e := setup(t, fake.Options{})
	conn := e.srv.Connection()
	a := ok[sdk.Authorization](t)(e.cl.Refresh(ctx(t), conn))
	if a.Secret["staff_token"] != conn.Secret["staff_token"] || a.Secret["staff_token_renewals"] != "1" || a.AccountID != "555001" {
		t.Errorf("refresh = %+v, want the token renewed once", a.Secret)
	}
	if a.Secret["password"] != "" {
		t.Error("refresh answered the password; it only changes the token fields")
	}
	// A revoked token: the call is auth_error, Refresh issues a new token,
	// and the call works with it.
	e.srv.Revoke(fake.SiteA)
	_, err := e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "1"})
	wantCode(t, err, sdk.CodeAuth, "")
	a = ok[sdk.Authorization](t)(e.cl.Refresh(ctx(t), conn))
	if a.Secret["staff_token"] == "" || a.Secret["staff_token"] == conn.Secret["staff_token"] || a.Secret["staff_token_renewals"] != "0" {
		t.Fatalf("refresh of a revoked token = %+v", a.Secret)
	}
	conn = sdk.CredentialUpdate{Secret: a.Secret}.Apply(conn)
	if _, err := e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "1"}); err != nil {
		t.Errorf("after refresh: %v", err)
	}
	// A wrong password cannot refresh.
	bad := e.srv.BadConnection()
	_, err = e.cl.Refresh(ctx(t), bad)
	noSecret(t, wantCode(t, err, sdk.CodeAuth, "").Message, bad)
}

func TestAuthorize(t *testing.T) {
	e := setup(t, fake.Options{})
	form := e.srv.Unissued()
	a := ok[sdk.Authorization](t)(e.cl.Authorize(ctx(t), form, sdk.Grant{}))
	if a.Secret["password"] != fake.StaffPasswordA || a.Secret["staff_token"] == "" || a.AccountID != "555001" {
		t.Errorf("authorize secret %v, account %q", keys(a.Secret), a.AccountID)
	}
	if !a.ExpiresAt.Equal(e.clk.Now().Add(24*time.Hour)) || a.Config["site_name"] != "Lotus Day Spa" || a.Config["site_time_zone"] != "America/Los_Angeles" {
		t.Errorf("authorize expiry %v config %v", a.ExpiresAt, a.Config)
	}
	_, err := e.cl.Authorize(ctx(t), form, sdk.Grant{Code: "abc", RedirectURI: "https://x.example/cb"})
	wantCode(t, err, sdk.CodeInvalid, "code")
	bad := e.srv.BadConnection()
	_, err = e.cl.Authorize(ctx(t), bad, sdk.Grant{})
	msg := wantCode(t, err, sdk.CodeAuth, "").Message
	if !strings.Contains(msg, `"owner"`) || !strings.Contains(msg, "555001") || !strings.Contains(msg, "Staff identity authentication failed") {
		t.Errorf("refused login message %q names neither the login, the site nor Mindbody's reason", msg)
	}
	noSecret(t, msg, bad)
}

func TestTestConnection(t *testing.T) {
	e := setup(t, fake.Options{})
	c, update := capture(t)
	r := ok[sdk.TestResult](t)(e.cl.TestConnection(c, e.srv.Unissued()))
	if !r.OK || r.AccountID != "555001" {
		t.Errorf("good connection: %+v", r)
	}
	if u := update(); u == nil || u.Secret["staff_token"] == "" || u.Config["site_name"] != "Lotus Day Spa" {
		t.Errorf("test connection update %+v, want the issued token and the site's facts", u)
	}
	bad := e.srv.BadConnection()
	r = ok[sdk.TestResult](t)(e.cl.TestConnection(ctx(t), bad))
	if r.OK || !strings.Contains(r.Reason, "staff login") {
		t.Errorf("wrong password: %+v", r)
	}
	noSecret(t, r.Reason, bad)
	wrongKey := e.srv.Connection()
	wrongKey.App = map[string]string{"api_key": "not-the-platform-key"}
	r = ok[sdk.TestResult](t)(e.cl.TestConnection(ctx(t), wrongKey))
	if r.OK || !strings.Contains(r.Reason, "api_key") {
		t.Errorf("wrong API key: %+v", r)
	}

	for name, tc := range map[string]struct {
		config map[string]string
		app    map[string]string
		field  string
	}{
		"unknown site":         {map[string]string{"site_id": "777"}, nil, "config.site_id"},
		"site is not a number": {map[string]string{"site_id": "lotus-spa"}, nil, "config.site_id"},
		"no site":              {map[string]string{"site_id": ""}, nil, "config.site_id"},
		"no API key":           {nil, map[string]string{"api_key": ""}, "app.api_key"},
		"no username":          {map[string]string{"username": ""}, nil, "config.username"},
	} {
		t.Run(name, func(t *testing.T) {
			conn := e.srv.Unissued()
			for k, v := range tc.config {
				conn.Config[k] = v
			}
			for k, v := range tc.app {
				conn.App[k] = v
			}
			_, err := e.cl.TestConnection(ctx(t), conn)
			msg := wantCode(t, err, sdk.CodeInvalid, tc.field).Message
			if len(msg) < 40 {
				t.Errorf("message %q is too terse for an operator to act on", msg)
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSandbox: site -99 works with the platform's key and the published
// sandbox login, and its daily cap is rate_limited until midnight UTC.
func TestSandbox(t *testing.T) {
	e := setup(t, fake.Options{SandboxDailyCalls: 2})
	conn := e.srv.SandboxConnection()
	r := ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "1"}))
	if r.Customer != nil {
		t.Errorf("sandbox lookup: %+v", r)
	}
	ok[sdk.LookupResult](t)(e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "1"}))
	_, err := e.cl.LookupCustomer(ctx(t), conn, sdk.LookupQuery{ExternalID: "1"})
	if e := wantCode(t, err, sdk.CodeRateLimited, ""); e.RetryAfter != 12*time.Hour {
		t.Errorf("retry after %v, want the 12 hours to midnight UTC", e.RetryAfter)
	}
}
