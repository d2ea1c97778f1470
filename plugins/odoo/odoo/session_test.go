package odoo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

// TestCredentialUpdates checks the facts a first call learns (the server
// version, the JSON-RPC uid, the account) come back as a credential
// update, and that a connection holding them skips the version probe and
// the authenticate call.
func TestCredentialUpdates(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    sdk.CredentialUpdate
	}{
		{"17.0", sdk.CredentialUpdate{Config: map[string]string{"server_version": "17.0", "uid": "2"}}},
		{"19.0", sdk.CredentialUpdate{Config: map[string]string{"server_version": "19.0"}}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			srv := fake.New(t, fake.Options{Version: tc.version})
			d := odoo.New()
			conn := srv.Connection()
			ctx, got := capture(t)
			if _, err := d.LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "a@example.com"}); err != nil {
				t.Fatal(err)
			}
			tc.want.AccountID = strings.TrimPrefix(srv.URL, "http://") + "/" + fake.DefaultDatabase
			if diff := cmp.Diff(&tc.want, got()); diff != "" {
				t.Fatalf("credential update (-want +got):\n%s", diff)
			}
			stored := got().Apply(conn)
			before := len(srv.Requests())
			ctx, again := capture(t)
			if _, err := d.LookupCustomer(ctx, stored, sdk.LookupQuery{Email: "a@example.com"}); err != nil {
				t.Fatal(err)
			}
			if u := again(); u != nil {
				t.Errorf("a connection with the facts stored sent another update: %+v", u)
			}
			for _, r := range srv.Requests()[before:] {
				if r.Method == "version" || r.Method == "authenticate" || r.ModelMethod == "fields_get" {
					t.Errorf("second call made %s %s %s (the schema is cached, the facts stored)", r.Method, r.Model, r.ModelMethod)
				}
			}
			if n := len(srv.Requests()) - before; n != 1 {
				t.Errorf("second lookup made %d requests, want 1", n)
			}
		})
	}
}

// TestStaleUID renews a stored uid Odoo refuses (the user was recreated)
// and sends the new one back.
func TestStaleUID(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	conn.Config["server_version"], conn.Config["uid"] = "17.0", "41"
	conn.AccountID = strings.TrimPrefix(srv.URL, "http://") + "/" + fake.DefaultDatabase
	ctx, got := capture(t)
	if _, err := odoo.New().LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&sdk.CredentialUpdate{Config: map[string]string{"uid": "2"}}, got()); diff != "" {
		t.Errorf("credential update (-want +got):\n%s", diff)
	}
	// A connection whose database was edited gets its new account.
	moved := srv.OtherConnection()
	moved.AccountID = conn.AccountID
	ctx, got = capture(t)
	if _, err := odoo.New().LookupCustomer(ctx, moved, sdk.LookupQuery{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if u := got(); u == nil || u.AccountID != strings.TrimPrefix(srv.URL, "http://")+"/"+fake.OtherDatabase {
		t.Errorf("after a database change: update %+v, want the other database's account", u)
	}
	// A key revoked under a valid uid stays an auth_error after one
	// renewal attempt.
	conn.Config["uid"] = "2"
	srv.Inject(drivertest.Fault{Kind: drivertest.Unauthorized, Count: 2})
	_, err := odoo.New().LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Email: "a@example.com"})
	e := wantCode(t, err, sdk.CodeAuth, "")
	if !strings.Contains(e.Message, "Preferences → Account Security") {
		t.Errorf("message does not say what to do: %s", e.Message)
	}
}

// TestBadInput checks what an operator sees for the usual mistakes.
func TestBadInput(t *testing.T) {
	notOdoo := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notOdoo.Close)
	for _, v := range []string{"17.0", "19.0"} {
		srv := fake.New(t, fake.Options{Version: v, NoCRM: true, Forbidden: []string{"ir.model"}})
		d := odoo.New()
		with := func(edit func(c *sdk.Connection)) sdk.Connection {
			c := srv.Connection()
			edit(&c)
			return c
		}
		tests := []struct {
			name  string
			conn  sdk.Connection
			call  func(ctx context.Context, conn sdk.Connection) error
			code  sdk.Code
			field string
			says  string
		}{
			{"database that does not exist", srv.UnknownDatabase(), lookup, sdk.CodeInvalid, "database", `no database "no-such-db"`},
			{"wrong API key", srv.BadConnection(), lookup, sdk.CodeAuth, "", "create a new API key"},
			{"no API key", with(func(c *sdk.Connection) { c.Secret = nil }), lookup, sdk.CodeAuth, "", "Preferences → Account Security"},
			{"no database", with(func(c *sdk.Connection) { delete(c.Config, "database") }), lookup, sdk.CodeInvalid, "database", "is required"},
			{"no username", with(func(c *sdk.Connection) { delete(c.Config, "username") }), lookup, sdk.CodeInvalid, "username", "is required"},
			{"no URL", with(func(c *sdk.Connection) { delete(c.Config, sdk.ConfigBaseURL) }), lookup, sdk.CodeInvalid, "config.base_url", "is required"},
			{"not an Odoo server", with(func(c *sdk.Connection) { c.Config[sdk.ConfigBaseURL] = notOdoo.URL }), lookup, sdk.CodeInvalid, "config.base_url", "no Odoo server answers"},
			{"unknown api", with(func(c *sdk.Connection) { c.Config["api"] = "xmlrpc" }), lookup, sdk.CodeInvalid, "api", "auto, jsonrpc or json2"},
			{"CRM not installed", srv.Connection(), func(ctx context.Context, conn sdk.Connection) error {
				_, err := d.CreateRecord(ctx, conn, sdk.CreateInput{Object: "crm.lead", Fields: map[string]any{"name": "x"}})
				return err
			}, sdk.CodeInvalid, "object", "crm.lead comes with the CRM app"},
			{"no right to a model", srv.Connection(), func(ctx context.Context, conn sdk.Connection) error {
				_, err := d.ListObjects(ctx, conn)
				return err
			}, sdk.CodeAuth, "", "You are not allowed to access 'Models' (ir.model)"},
		}
		for _, tc := range tests {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				e := wantCode(t, tc.call(ctxFor(t), tc.conn), tc.code, tc.field)
				if !strings.Contains(e.Message, tc.says) {
					t.Errorf("message %q does not say %q", e.Message, tc.says)
				}
				if strings.Contains(e.Error(), fake.DefaultAPIKey) || strings.Contains(e.Error(), fake.BadAPIKey) {
					t.Errorf("message leaks the key: %s", e.Error())
				}
			})
		}
	}
	// JSON-2 forced on a server older than 19.
	srv := fake.New(t, fake.Options{Version: "17.0"})
	conn := srv.Connection()
	conn.Config["api"] = "json2"
	e := wantCode(t, lookup(ctxFor(t), conn), sdk.CodeInvalid, "api")
	if !strings.Contains(e.Message, "runs Odoo 17.0, which has no JSON-2 API") {
		t.Errorf("message %q", e.Message)
	}
}

func lookup(ctx context.Context, conn sdk.Connection) error {
	_, err := odoo.New().LookupCustomer(ctx, conn, sdk.LookupQuery{Email: "a@example.com"})
	return err
}

func TestTestConnectionAndAuthorize(t *testing.T) {
	for _, v := range []string{"17.0", "19.0"} {
		srv := fake.New(t, fake.Options{Version: v})
		d := odoo.New()
		account := strings.TrimPrefix(srv.URL, "http://") + "/" + fake.DefaultDatabase
		r, err := d.TestConnection(ctxFor(t), srv.Connection())
		if err != nil || !r.OK || r.AccountID != account {
			t.Errorf("%s: good connection = %+v, %v", v, r, err)
		}
		r, err = d.TestConnection(ctxFor(t), srv.BadConnection())
		if err != nil || r.OK || !strings.Contains(r.Reason, fake.DefaultLogin) || strings.Contains(r.Reason, fake.BadAPIKey) {
			t.Errorf("%s: bad key = %+v, %v", v, r, err)
		}
		_, err = d.TestConnection(ctxFor(t), srv.UnknownDatabase())
		wantCode(t, err, sdk.CodeInvalid, "database")

		// Authorize re-learns the facts even when the connection has
		// (stale) ones.
		conn := srv.Connection()
		conn.Config["server_version"], conn.Config["uid"] = "15.0", "99"
		a, err := d.Authorize(ctxFor(t), conn, sdk.Grant{})
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Authorization{Secret: map[string]string{"api_key": fake.DefaultAPIKey}, AccountID: account,
			Config: map[string]string{"server_version": v}}
		if v == "17.0" {
			want.Config["uid"] = "2"
		}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("%s: authorization (-want +got):\n%s", v, diff)
		}
		_, err = d.Authorize(ctxFor(t), srv.Connection(), sdk.Grant{Code: "abc", RedirectURI: "https://x"})
		wantCode(t, err, sdk.CodeInvalid, "grant")
		_, err = d.Authorize(ctxFor(t), srv.BadConnection(), sdk.Grant{})
		wantCode(t, err, sdk.CodeAuth, "")
	}
}

// TestProviderFaults checks the proxy's answers are classified with their
// back-off, over both protocols.
func TestProviderFaults(t *testing.T) {
	for _, v := range []string{"17.0", "19.0"} {
		srv := fake.New(t, fake.Options{Version: v})
		d := odoo.New()
		conn := learned(t, func(ctx context.Context) error { _, err := d.TestConnection(ctx, srv.Connection()); return err }, srv.Connection())
		srv.Inject(drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 4 * time.Second})
		e := wantCode(t, lookup(ctxFor(t), conn), sdk.CodeRateLimited, "")
		if e.RetryAfter != 4*time.Second {
			t.Errorf("%s: RetryAfter %v, want 4s", v, e.RetryAfter)
		}
		srv.Inject(drivertest.Fault{Kind: drivertest.RateLimit})
		e = wantCode(t, lookup(ctxFor(t), conn), sdk.CodeRateLimited, "")
		if e.RetryAfter != 2*time.Second {
			t.Errorf("%s: RetryAfter without a header %v, want the 2s default", v, e.RetryAfter)
		}
		srv.Inject(drivertest.Fault{Kind: drivertest.ServerError, Count: 2})
		wantCode(t, lookup(ctxFor(t), conn), sdk.CodeUnavailable, "")
		wantCode(t, lookup(ctxFor(t), conn), sdk.CodeUnavailable, "")
		srv.Inject(drivertest.Fault{Kind: drivertest.LoseResponse})
		wantCode(t, lookup(ctxFor(t), conn), sdk.CodeUnavailable, "")
	}
}
