package tekmetric_test

import (
	"encoding/base64"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/sdk"
)

// TestTokenKeptThroughCredentialUpdates: a connection without a token gets
// one by client credentials, sent back to the host as a credential update
// (with the shop as account); once stored, it is reused and no other is
// obtained.
func TestTokenKeptThroughCredentialUpdates(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	cl := served(t, newDriver())
	conn := srv.Unissued()

	ctx, update := sdk.CaptureCredentialUpdate(allowed(t))
	if _, err := cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	u := update()
	if u == nil || u.Secret["access_token"] == "" || u.AccountID != "101" {
		t.Fatalf("credential update = %+v, want an access_token and account 101", u)
	}
	if n := srv.TokensIssued(); n != 1 {
		t.Errorf("tokens issued = %d, want 1", n)
	}
	tr := requests(srv, "POST", "/api/v1/oauth/token")
	if len(tr) != 1 {
		t.Fatalf("token requests = %d, want 1", len(tr))
	}
	if diff := cmp.Diff(url.Values{"grant_type": {"client_credentials"}}, parseForm(t, tr[0].Body)); diff != "" {
		t.Errorf("token request body (-want +got):\n%s", diff)
	}

	stored := u.Apply(conn)
	for range 3 {
		ctx, update := sdk.CaptureCredentialUpdate(allowed(t))
		if _, err := cl.LookupCustomer(ctx, stored, sdk.LookupQuery{Email: "nobody@example.com"}); err != nil {
			t.Fatal(err)
		}
		if u := update(); u != nil {
			t.Errorf("a call with the stored token sent an update %+v", u)
		}
	}
	if n := srv.TokensIssued(); n != 1 {
		t.Errorf("with the token stored, tokens issued = %d, want still 1", n)
	}
	// Tekmetric answers the same token until it is revoked.
	if got := stored.Secret["access_token"]; got != srv.Connection().Secret["access_token"] {
		t.Errorf("the issued token %q is not the partner app's current one", got)
	}
}

func parseForm(t *testing.T, body string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("form %q: %v", body, err)
	}
	return v
}

// TestAuthorize: the connect step keeps a working token, replaces a
// rejected one, and refuses bad input with errors an operator can act on.
func TestAuthorize(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := newDriver()
	revoked := srv.Connection()
	srv.RevokeToken(revoked.Secret["access_token"])
	good := srv.Connection() // the partner app's new token

	with := func(c sdk.Connection, edit func(c *sdk.Connection)) sdk.Connection {
		c.Config, c.Secret, c.App = maps.Clone(c.Config), maps.Clone(c.Secret), maps.Clone(c.App)
		edit(&c)
		return c
	}
	t.Run("keeps a working token", func(t *testing.T) {
		before := srv.TokensIssued()
		a, err := d.Authorize(allowed(t), good, sdk.Grant{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sdk.Authorization{Secret: good.Secret, AccountID: "101"}, a); diff != "" {
			t.Errorf("authorization (-want +got):\n%s", diff)
		}
		if srv.TokensIssued() != before {
			t.Error("a working token was replaced")
		}
	})
	for name, conn := range map[string]sdk.Connection{"obtains a token": srv.Unissued(), "replaces a revoked token": revoked} {
		t.Run(name, func(t *testing.T) {
			a, err := d.Authorize(allowed(t), conn, sdk.Grant{})
			if err != nil {
				t.Fatal(err)
			}
			tok := a.Secret["access_token"]
			if tok == "" || tok == revoked.Secret["access_token"] || a.AccountID != "101" || !a.ExpiresAt.IsZero() {
				t.Errorf("authorization = %+v, want a new token for account 101 without expiry", a)
			}
		})
	}

	bad := []struct {
		name  string
		conn  sdk.Connection
		grant sdk.Grant
		code  sdk.Code
		field string
		says  string
	}{
		{"shop id not a number", with(srv.Unissued(), func(c *sdk.Connection) { c.Config["shop_id"] = "shop-101" }), sdk.Grant{},
			sdk.CodeInvalid, "config.shop_id", "positive whole number"},
		{"shop id missing", with(srv.Unissued(), func(c *sdk.Connection) { delete(c.Config, "shop_id") }), sdk.Grant{},
			sdk.CodeInvalid, "config.shop_id", "is required"},
		{"shop that has not authorized the app", with(srv.Unissued(), func(c *sdk.Connection) { c.Config["shop_id"] = "303" }), sdk.Grant{},
			sdk.CodeInvalid, "config.shop_id", "reaches shops 101, 202"},
		{"client secret refused", with(srv.Unissued(), func(c *sdk.Connection) { c.App["client_secret"] = "not-the-secret" }), sdk.Grant{},
			sdk.CodeAuth, "", "app credentials client_id and client_secret"},
		{"no client id", with(srv.Unissued(), func(c *sdk.Connection) { delete(c.App, "client_id") }), sdk.Grant{},
			sdk.CodeInvalid, "app.client_id", "operator"},
		{"unknown host", with(srv.Unissued(), func(c *sdk.Connection) {
			delete(c.Config, sdk.ConfigBaseURL)
			c.Config["api_host"] = "evil.example"
		}), sdk.Grant{}, sdk.CodeInvalid, "config.api_host", "shop.tekmetric.com"},
		{"an authorization code", srv.Unissued(), sdk.Grant{Code: "abc"}, sdk.CodeInvalid, "code", "no authorization-code step"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Authorize(allowed(t), tc.conn, tc.grant)
			e := wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q does not say %q", e.Message, tc.says)
			}
			noSecret(t, e.Error(), tc.conn)
		})
	}
}

// TestRefresh: after Tekmetric revokes the token (an auth_error), Refresh
// obtains a new one, which works once merged.
func TestRefresh(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	cl := served(t, newDriver())
	conn := srv.Connection()
	old := conn.Secret["access_token"]
	srv.RevokeToken(old)
	_, err := cl.LookupCustomer(allowed(t), conn, sdk.LookupQuery{Email: "a@example.com"})
	e := wantCode(t, err, sdk.CodeAuth, "")
	if !strings.Contains(e.Message, "401") {
		t.Errorf("message %q does not name the 401", e.Message)
	}
	a, err := cl.Refresh(allowed(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	if a.Secret["access_token"] == "" || a.Secret["access_token"] == old || len(a.Secret) != 1 {
		t.Fatalf("refresh answered keys %v, want only a new access_token", slices.Sorted(maps.Keys(a.Secret)))
	}
	merged := sdk.CredentialUpdate{Secret: a.Secret}.Apply(conn)
	if r, err := cl.TestConnection(allowed(t), merged); err != nil || !r.OK || r.AccountID != "101" {
		t.Errorf("test connection with the refreshed token = %+v, %v", r, err)
	}
}

// TestTestConnection: a working connection is OK with its shop as account;
// a shop that disconnected the app, or refused credentials, are OK false
// with a reason that says what to do.
func TestTestConnection(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := newDriver()
	r, err := d.TestConnection(allowed(t), srv.OtherConnection())
	if err != nil || !r.OK || r.AccountID != "202" {
		t.Fatalf("shop B: %+v, %v; want OK with account 202", r, err)
	}
	r, err = d.TestConnection(allowed(t), srv.BadConnection())
	if err != nil || r.OK || !strings.Contains(r.Reason, "401") {
		t.Errorf("bad token: %+v, %v; want OK false naming the 401", r, err)
	}
	noSecret(t, r.Reason, srv.BadConnection())
	bad := srv.BadConnection()
	delete(bad.Secret, "access_token")
	r, err = d.TestConnection(allowed(t), bad)
	if err != nil || r.OK || !strings.Contains(r.Reason, "client_secret") {
		t.Errorf("refused client credentials: %+v, %v; want OK false naming the app credentials", r, err)
	}
	noSecret(t, r.Reason, bad)

	srv.DisconnectShop(fake.ShopB)
	r, err = d.TestConnection(allowed(t), srv.OtherConnection())
	if err != nil || r.OK || !strings.Contains(r.Reason, "shop 202") || !strings.Contains(r.Reason, "Access Denied") {
		t.Errorf("disconnected shop: %+v, %v; want OK false naming shop 202 and Tekmetric's Access Denied", r, err)
	}
}

// TestTokenRequestShape: the token request is HTTP Basic with the partner
// credentials, as Tekmetric documents it (the fake checks the rest of the
// shape).
func TestTokenRequestShape(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	if _, err := newDriver().Refresh(allowed(t), srv.Unissued()); err != nil {
		t.Fatal(err)
	}
	var auth string
	for _, r := range srv.Requests() {
		if r.Path == "/api/v1/oauth/token" {
			auth = r.Header.Get("Authorization")
		}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
	if err != nil || string(raw) != fake.DefaultClientID+":"+fake.DefaultClientSecret {
		t.Errorf("Authorization %q decodes to %q, want Basic of the partner credentials", auth, raw)
	}
}
