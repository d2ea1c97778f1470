package hubspot_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/google/go-cmp/cmp"
)

const redirect = "https://crmhost.example/oauth/callback"

// oauthConn is a connection with the fake's OAuth app and no token yet.
func oauthConn(srv *fake.Server) sdk.Connection {
	return sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: srv.URL, sdk.ConfigDefaultRegion: "US"},
		Secret: map[string]string{},
		App:    map[string]string{"client_id": fake.DefaultClientID, "client_secret": fake.DefaultClientSecret},
	}
}

func TestOAuthCodeExchangeAndRefresh(t *testing.T) {
	c := newClock()
	srv := fake.New(t, fake.Options{Now: c.Now})
	d := hubspot.New()
	conn := oauthConn(srv)

	auth, err := d.Authorize(allowed(t), conn, sdk.Grant{Code: srv.IssueAuthCode(redirect), RedirectURI: redirect, CodeVerifier: "verifier-123"})
	if err != nil {
		t.Fatal(err)
	}
	if auth.Secret["access_token"] == "" || auth.Secret["refresh_token"] == "" || len(auth.Secret) != 2 {
		t.Fatalf("secret keys = %v, want access_token and refresh_token only (the app secret stays with the app)", slicesKeys(auth.Secret))
	}
	if d := time.Until(auth.ExpiresAt); d < 29*time.Minute || d > 31*time.Minute {
		t.Errorf("ExpiresAt in %v, want about 30 minutes", d)
	}
	if auth.AccountID != "1234567" || len(auth.Config) != 0 {
		t.Errorf("AccountID %q, Config %v; want the portal 1234567 and no config", auth.AccountID, auth.Config)
	}

	conn.Secret = auth.Secret
	if res, err := d.TestConnection(allowed(t), conn); err != nil || !res.OK {
		t.Fatalf("TestConnection with the new token = %+v, %v", res, err)
	}

	srv.ExpireAccessTokens()
	res, err := d.TestConnection(allowed(t), conn)
	if err != nil || res.OK || !strings.HasPrefix(res.Reason, "EXPIRED_AUTHENTICATION: ") {
		t.Fatalf("TestConnection with an expired token = %+v, %v", res, err)
	}
	_, err = d.LookupCustomer(allowed(t), conn, sdk.LookupQuery{ExternalID: "1"})
	wantCode(t, err, sdk.CodeAuth, "")

	refreshed, err := d.Refresh(allowed(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.Secret["access_token"] == "" || refreshed.Secret["access_token"] == auth.Secret["access_token"] {
		t.Errorf("refreshed secret does not hold a new access token")
	}
	if rt, ok := refreshed.Secret["refresh_token"]; ok && rt == "" {
		t.Errorf("refreshed secret would remove the refresh token")
	}
	if refreshed.ExpiresAt.IsZero() {
		t.Error("refreshed ExpiresAt is zero")
	}
	conn = sdk.CredentialUpdate{Secret: refreshed.Secret}.Apply(conn)
	if conn.Secret["refresh_token"] != auth.Secret["refresh_token"] && refreshed.Secret["refresh_token"] == "" {
		t.Errorf("merged secret lost the refresh token")
	}
	if res, err := d.TestConnection(allowed(t), conn); err != nil || !res.OK {
		t.Fatalf("TestConnection after refresh = %+v, %v", res, err)
	}
}

func slicesKeys(m map[string]string) []string {
	var out []string
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	return out
}

func TestOAuthErrors(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := hubspot.New()
	without := func(key string) sdk.Connection {
		c := oauthConn(srv)
		c.App = maps.Clone(c.App)
		delete(c.App, key)
		return c
	}
	tests := []struct {
		name  string
		conn  sdk.Connection
		grant sdk.Grant
		code  sdk.Code
		field string
		msg   string
	}{
		{name: "unknown code", conn: oauthConn(srv), grant: sdk.Grant{Code: "nope", RedirectURI: redirect}, code: sdk.CodeAuth, msg: "BAD_AUTH_CODE"},
		{name: "other redirect", conn: oauthConn(srv), grant: sdk.Grant{Code: srv.IssueAuthCode(redirect), RedirectURI: redirect + "x"}, code: sdk.CodeAuth, msg: "BAD_REDIRECT_URI"},
		{name: "wrong client secret", conn: func() sdk.Connection {
			c := oauthConn(srv)
			c.App = map[string]string{"client_id": fake.DefaultClientID, "client_secret": "wrong-secret"}
			return c
		}(), grant: sdk.Grant{Code: srv.IssueAuthCode(redirect), RedirectURI: redirect}, code: sdk.CodeAuth, msg: "BAD_CLIENT_SECRET"},
		{name: "no client id", conn: without("client_id"), grant: sdk.Grant{Code: "c", RedirectURI: redirect}, code: sdk.CodeInvalid, field: "app.client_id"},
		{name: "no client secret", conn: without("client_secret"), grant: sdk.Grant{Code: "c", RedirectURI: redirect}, code: sdk.CodeInvalid, field: "app.client_secret"},
		{name: "no code and no token", conn: oauthConn(srv), code: sdk.CodeInvalid, field: "access_token"},
		{name: "no code, bad token", conn: srv.BadConnection(), code: sdk.CodeAuth, msg: "INVALID_AUTHENTICATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Authorize(allowed(t), tt.conn, tt.grant)
			e := wantCode(t, err, tt.code, tt.field)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not mention %q", e.Message, tt.msg)
			}
			for _, m := range []map[string]string{tt.conn.Secret, tt.conn.App} {
				for _, s := range m {
					if strings.Contains(e.Message, s) {
						t.Errorf("message %q holds a secret", e.Message)
					}
				}
			}
		})
	}

	_, err := d.Refresh(allowed(t), oauthConn(srv))
	wantCode(t, err, sdk.CodeUnsupported, "")
	bad := oauthConn(srv)
	bad.Secret["refresh_token"] = "na1-revoked"
	_, err = d.Refresh(allowed(t), bad)
	e := wantCode(t, err, sdk.CodeAuth, "")
	if strings.Contains(e.Message, "na1-revoked") {
		t.Errorf("message %q holds the refresh token", e.Message)
	}
}

func TestAuthorizePrivateAppToken(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()
	got, err := hubspot.New().Authorize(allowed(t), conn, sdk.Grant{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(conn.Secret, got.Secret); diff != "" || !got.ExpiresAt.IsZero() {
		t.Errorf("Authorize secret (-want +got):\n%s, expires %v", diff, got.ExpiresAt)
	}
}

func TestTestConnection(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := hubspot.New()
	if res, err := d.TestConnection(allowed(t), srv.Connection()); err != nil || !res.OK {
		t.Fatalf("good connection: %+v, %v", res, err)
	}
	bad := srv.BadConnection()
	res, err := d.TestConnection(allowed(t), bad)
	if err != nil || res.OK || !strings.HasPrefix(res.Reason, "INVALID_AUTHENTICATION: ") {
		t.Fatalf("bad connection: %+v, %v", res, err)
	}
	if strings.Contains(res.Reason, bad.Secret["access_token"]) {
		t.Errorf("reason %q holds the token", res.Reason)
	}
	res, err = d.TestConnection(allowed(t), sdk.Connection{Config: srv.Connection().Config})
	if err != nil || res.OK || res.Reason == "" {
		t.Fatalf("no token: %+v, %v", res, err)
	}
	srv.Inject(drivertest.Fault{Kind: drivertest.ServerError})
	_, err = d.TestConnection(allowed(t), srv.Connection())
	wantCode(t, err, sdk.CodeUnavailable, "")
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      drivertest.Fault
		timeout    time.Duration
		code       sdk.Code
		retryAfter time.Duration
		cause      error
	}{
		{name: "rate limit", fault: drivertest.Fault{Kind: drivertest.RateLimit, RetryAfter: 3 * time.Second}, code: sdk.CodeRateLimited, retryAfter: 3 * time.Second},
		{name: "rate limit default", fault: drivertest.Fault{Kind: drivertest.RateLimit}, code: sdk.CodeRateLimited, retryAfter: 10 * time.Second},
		{name: "server error", fault: drivertest.Fault{Kind: drivertest.ServerError}, code: sdk.CodeUnavailable},
		{name: "lost response", fault: drivertest.Fault{Kind: drivertest.LoseResponse}, code: sdk.CodeUnavailable},
		{name: "expired token", fault: drivertest.Fault{Kind: drivertest.Unauthorized}, code: sdk.CodeAuth},
		{name: "deadline", fault: drivertest.Fault{Kind: drivertest.Latency, Latency: 10 * time.Second}, timeout: 50 * time.Millisecond,
			code: sdk.CodeUnavailable, cause: context.DeadlineExceeded},
	}
	d := hubspot.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake.New(t, fake.Options{})
			id := seed(t, srv, "contacts", map[string]string{"email": "f@example.com"})
			srv.Inject(tt.fault)
			ctx := allowed(t)
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := d.LookupCustomer(ctx, srv.Connection(), sdk.LookupQuery{ExternalID: id})
			e := wantCode(t, err, tt.code, "")
			if e.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
			if strings.Contains(e.Message, srv.Connection().Secret["access_token"]) {
				t.Errorf("message %q holds the token", e.Message)
			}
		})
	}
	t.Run("canceled", func(t *testing.T) {
		srv := fake.New(t, fake.Options{})
		ctx, cancel := context.WithCancel(allowed(t))
		cancel()
		_, err := d.ListRecent(ctx, srv.Connection(), sdk.ListQuery{Object: "contacts"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v does not wrap context.Canceled", err)
		}
	})
}

func TestDescribe(t *testing.T) {
	d := hubspot.New()
	desc, err := d.Describe(allowed(t))
	if err != nil {
		t.Fatal(err)
	}
	if desc.Slug != "hubspot" || desc.DriverVersion != hubspot.Version || desc.Auth.Kind != sdk.AuthOAuth2Code || desc.Webhook.Scheme != "hubspot-v3" {
		t.Errorf("description = %+v", desc)
	}
	contacts, ok := desc.Object("contacts")
	if !ok || contacts.Canonical != "customer" || contacts.DefaultFields["customer.phone"] != "phone" {
		t.Errorf("contacts = %+v", contacts)
	}
	want := sdk.Capabilities{Delete: true, Erase: true, DescribeObject: true, Authorize: true, Refresh: true, VerifyWebhook: true, RouteWebhook: true}
	if diff := cmp.Diff(want, sdk.CapabilitiesOf(d)); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
}

func TestDescribeObject(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	got, err := hubspot.New().DescribeObject(allowed(t), srv.Connection(), "deals")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]sdk.Field{}
	for _, f := range got.Fields {
		fields[f.Name] = f
	}
	checks := map[string]sdk.Field{
		"amount":                  {Name: "amount", Label: "Amount", Type: "number"},
		"crmhost_idempotency_key": {Name: "crmhost_idempotency_key", Label: "crmhost idempotency key", Type: "string", Unique: true},
		"hs_lastmodifieddate":     {Name: "hs_lastmodifieddate", Label: "Last Modified Date", Type: "datetime", ReadOnly: true},
		"pipeline":                {Name: "pipeline", Label: "Pipeline", Type: "enumeration", Options: []string{"default"}},
	}
	for name, want := range checks {
		if diff := cmp.Diff(want, fields[name]); diff != "" {
			t.Errorf("field %s (-want +got):\n%s", name, diff)
		}
	}
	_, err = hubspot.New().DescribeObject(allowed(t), srv.BadConnection(), "deals")
	wantCode(t, err, sdk.CodeAuth, "")
}
