package main_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

// TestBinary launches the built crm-driver-hubspot the way the host does
// (go-plugin, AutoMTLS, checksum verified) and calls every verb of the
// contract over that process against the fake HubSpot.
func TestBinary(t *testing.T) {
	p, err := launch(pluginSum, testLogger(t))
	if err != nil {
		t.Fatalf("launch %s: %v", pluginBin, err)
	}
	t.Cleanup(p.pc.Kill)
	cl := p.cl
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()

	t.Run("transport", func(t *testing.T) {
		// launch uses the host's configuration: checksum verified, AutoMTLS.
		if cfg := sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: pluginSum}); !cfg.AutoMTLS || cfg.SecureConfig == nil {
			t.Fatalf("sdk.NewClientConfig: AutoMTLS %t, SecureConfig %v", cfg.AutoMTLS, cfg.SecureConfig)
		}
		if v := cl.ProtocolVersion(); v != sdk.ProtocolVersion {
			t.Errorf("negotiated protocol %d, want %d", v, sdk.ProtocolVersion)
		}
		if p.pc.Protocol() != "grpc" {
			t.Errorf("protocol %q, want grpc", p.pc.Protocol())
		}
		if err := cl.Ping(); err != nil {
			t.Errorf("Ping: %v", err)
		}
		// AutoMTLS: the connection go-plugin dialled is TLS 1.2+ with a
		// client certificate, and the driver presented its own certificate.
		var pr peer.Peer
		if _, err := healthpb.NewHealthClient(p.conn).Check(ctxFor(t), &healthpb.HealthCheckRequest{Service: "plugin"}, grpc.Peer(&pr)); err != nil {
			t.Fatalf("health check: %v", err)
		}
		ti, ok := pr.AuthInfo.(credentials.TLSInfo)
		if !ok {
			t.Fatalf("peer auth info is %T, want TLS (AutoMTLS off?)", pr.AuthInfo)
		}
		if ti.State.Version < tls.VersionTLS12 || len(ti.State.PeerCertificates) == 0 {
			t.Errorf("TLS version %x with %d peer certificates", ti.State.Version, len(ti.State.PeerCertificates))
		}
	})

	t.Run("Describe", func(t *testing.T) {
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{Delete: true, Erase: true, DescribeObject: true, Authorize: true, Refresh: true, VerifyWebhook: true, RouteWebhook: true}
		if d.Capabilities != want {
			t.Errorf("capabilities = %+v, want %+v", d.Capabilities, want)
		}
		if d.Slug != "hubspot" || d.Auth.Kind != sdk.AuthOAuth2Code || d.Webhook.Scheme != "hubspot-v3" {
			t.Errorf("slug %q, auth %q, webhook %q", d.Slug, d.Auth.Kind, d.Webhook.Scheme)
		}
		for _, o := range []string{"contacts", "deals", "tickets"} {
			if _, ok := d.Object(o); !ok {
				t.Errorf("Describe has no object %q", o)
			}
		}
	})

	t.Run("TestConnection", func(t *testing.T) {
		r, err := cl.TestConnection(ctxFor(t), conn)
		if err != nil || !r.OK {
			t.Errorf("good connection: %+v, %v", r, err)
		}
		r, err = cl.TestConnection(ctxFor(t), srv.BadConnection())
		if err != nil || r.OK || r.Reason == "" {
			t.Errorf("bad connection: %+v, %v; want OK false with a reason", r, err)
		}
		if strings.Contains(r.Reason, srv.BadConnection().Secret["access_token"]) {
			t.Errorf("reason echoes the token: %q", r.Reason)
		}
	})

	fields := map[string]any{"firstname": "Ada", "lastname": "Lovelace", "email": "Ada.Lovelace@Example.com",
		"phone": "+14155550123", "company": "Analytical Engines"}
	var id string
	t.Run("CreateRecord", func(t *testing.T) {
		in := sdk.CreateInput{Object: "contacts", Fields: fields, IdempotencyKey: "binary-test-key-1"}
		first, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		second, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		if first.ExternalID == "" || second.ExternalID != first.ExternalID {
			t.Fatalf("same idempotency key twice gave ids %q and %q", first.ExternalID, second.ExternalID)
		}
		if n := len(srv.Records("contacts")); n != 1 {
			t.Errorf("fake holds %d contacts, want 1", n)
		}
		id = first.ExternalID
	})
	if id == "" {
		t.Fatal("no record to work on")
	}

	t.Run("LookupCustomer", func(t *testing.T) {
		for name, q := range map[string]sdk.LookupQuery{
			"phone":       {Phone: "(415) 555-0123"},
			"email":       {Email: "ada.lovelace@example.com"},
			"external_id": {ExternalID: id},
		} {
			r, err := cl.LookupCustomer(ctxFor(t), conn, q)
			if err != nil {
				t.Errorf("by %s: %v", name, err)
				continue
			}
			if r.Customer == nil || r.Customer.ExternalID != id || r.MatchCount != 1 {
				t.Errorf("by %s: %+v, want contact %s with 1 match", name, r, id)
				continue
			}
			if r.Customer.Fields["lastname"] != "Lovelace" {
				t.Errorf("by %s: fields %v", name, r.Customer.Fields)
			}
		}
		r, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Email: "nobody@example.com"})
		if err != nil || r.Customer != nil || r.MatchCount != 0 {
			t.Errorf("no match: %+v, %v; want none without error", r, err)
		}
		_, err = cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Phone: "not a phone"})
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalid || e.Field != "phone" {
			t.Errorf("unparseable phone: %v; want invalid naming phone", err)
		}
	})

	t.Run("SearchRecords", func(t *testing.T) {
		rs, err := cl.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "contacts", Query: "lovelace", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].ExternalID != id {
			t.Errorf("search found %+v, want contact %s", rs, id)
		}
	})

	t.Run("UpdateRecord", func(t *testing.T) {
		r, err := cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "contacts", ExternalID: id, Fields: map[string]any{"company": "Difference Engines"}})
		if err != nil || !r.Updated {
			t.Fatalf("update: %+v, %v", r, err)
		}
		got, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{ExternalID: id})
		if err != nil || got.Customer == nil {
			t.Fatalf("read back: %+v, %v", got, err)
		}
		if f := got.Customer.Fields; f["company"] != "Difference Engines" || f["firstname"] != "Ada" {
			t.Errorf("after partial update: %v", f)
		}
		_, err = cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "contacts", ExternalID: "999999999", Fields: map[string]any{"company": "x"}})
		if sdk.CodeOf(err) != sdk.CodeNotFound {
			t.Errorf("update of a missing record: %v; want not_found", err)
		}
	})

	t.Run("ListRecent", func(t *testing.T) {
		lr, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "contacts", Since: time.Now().Add(-time.Hour), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		rs := lr.Records
		if len(rs) != 1 || rs[0].ExternalID != id || rs[0].UpdatedAt.IsZero() || lr.NextCursor == "" {
			t.Errorf("list recent: %+v, want contact %s and a cursor", lr, id)
		}
		lr, err = cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "contacts", Cursor: lr.NextCursor, Limit: 10})
		if err != nil || len(lr.Records) != 0 {
			t.Errorf("list after the cursor: %+v, %v; want none", lr, err)
		}
		lr, err = cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "contacts", Since: time.Now().Add(time.Hour), Limit: 10})
		if err != nil || len(lr.Records) != 0 {
			t.Errorf("list from the future: %+v, %v; want none", lr, err)
		}
	})

	t.Run("DescribeObject", func(t *testing.T) {
		s, err := cl.DescribeObject(ctxFor(t), conn, "contacts")
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]sdk.Field{}
		for _, f := range s.Fields {
			names[f.Name] = f
		}
		if s.Object != "contacts" || names["email"].Name == "" || names["phone"].Name == "" {
			t.Errorf("contacts schema lacks email/phone: %+v", s)
		}
		if !names["crmhost_idempotency_key"].Unique {
			t.Errorf("crmhost_idempotency_key is not unique in %+v", names["crmhost_idempotency_key"])
		}
		_, err = cl.DescribeObject(ctxFor(t), conn, "no_such_object")
		if sdk.CodeOf(err) != sdk.CodeInvalid {
			t.Errorf("unknown object: %v; want invalid", err)
		}
	})

	t.Run("DeleteRecord", func(t *testing.T) {
		r, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: id})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Deleted || r.HardDeleted {
			t.Errorf("archive: %+v, want deleted, hard_deleted false", r)
		}
		if n := len(srv.Records("contacts")); n != 0 {
			t.Errorf("fake still holds %d live contacts", n)
		}
		_, err = cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: "999999999"})
		if sdk.CodeOf(err) != sdk.CodeNotFound {
			t.Errorf("delete of a missing record: %v; want not_found", err)
		}
	})

	t.Run("EraseRecord", func(t *testing.T) {
		c, err := cl.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "contacts",
			Fields: map[string]any{"firstname": "Grace", "email": "grace@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := cl.EraseRecord(ctxFor(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: c.ExternalID})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Deleted || !r.HardDeleted {
			t.Errorf("gdpr delete: %+v, want deleted, hard_deleted true", r)
		}
		got, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{ExternalID: c.ExternalID})
		if err != nil || got.Customer != nil {
			t.Errorf("erased contact still found: %+v, %v", got, err)
		}
	})

	var refreshToken string
	oauthConn := sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: srv.URL},
		App:    map[string]string{"client_id": fake.DefaultClientID, "client_secret": fake.DefaultClientSecret},
	}
	t.Run("Authorize", func(t *testing.T) {
		const redirect = "https://crmhost.example/oauth/callback"
		a, err := cl.Authorize(ctxFor(t), oauthConn, sdk.Grant{Code: srv.IssueAuthCode(redirect), RedirectURI: redirect})
		if err != nil {
			t.Fatal(err)
		}
		if a.Secret["access_token"] == "" || a.Secret["refresh_token"] == "" || a.Secret["client_secret"] != "" {
			t.Errorf("secret keys: access %t, refresh %t, client_secret (must stay in the app credentials) %t",
				a.Secret["access_token"] != "", a.Secret["refresh_token"] != "", a.Secret["client_secret"] != "")
		}
		if a.ExpiresAt.Before(time.Now()) || a.ExpiresAt.After(time.Now().Add(31*time.Minute)) {
			t.Errorf("expires at %v, want about 30 minutes from now", a.ExpiresAt)
		}
		if a.AccountID == "" {
			t.Errorf("authorization has no account (portal) id")
		}
		refreshToken = a.Secret["refresh_token"]
		// The new token works.
		r, err := cl.TestConnection(ctxFor(t), sdk.Connection{Config: oauthConn.Config, Secret: a.Secret})
		if err != nil || !r.OK {
			t.Errorf("test connection with the OAuth token: %+v, %v", r, err)
		}
		// A code is single use.
		_, err = cl.Authorize(ctxFor(t), oauthConn, sdk.Grant{Code: "not-a-code", RedirectURI: redirect})
		if sdk.CodeOf(err) != sdk.CodeAuth {
			t.Errorf("bad code: %v; want auth_error", err)
		}
		// Private-app token: no code, the token is checked and kept.
		a, err = cl.Authorize(ctxFor(t), conn, sdk.Grant{})
		if err != nil || a.Secret["access_token"] != conn.Secret["access_token"] || !a.ExpiresAt.IsZero() {
			t.Errorf("private-app authorize: expires %v, token kept %t, %v", a.ExpiresAt, a.Secret["access_token"] == conn.Secret["access_token"], err)
		}
	})

	t.Run("Refresh", func(t *testing.T) {
		if refreshToken == "" {
			t.Skip("Authorize gave no refresh token")
		}
		c := sdk.Connection{Config: oauthConn.Config, App: oauthConn.App, Secret: map[string]string{
			"refresh_token": refreshToken, "access_token": "expired"}}
		a, err := cl.Refresh(ctxFor(t), c)
		if err != nil {
			t.Fatal(err)
		}
		merged := sdk.CredentialUpdate{Secret: a.Secret}.Apply(c)
		if a.Secret["access_token"] == "" || a.Secret["access_token"] == "expired" || merged.Secret["refresh_token"] == "" || a.ExpiresAt.IsZero() {
			t.Errorf("refresh: new access token %t, refresh token kept after merging %t, expires %v",
				a.Secret["access_token"] != "" && a.Secret["access_token"] != "expired", merged.Secret["refresh_token"] != "", a.ExpiresAt)
		}
		r, err := cl.TestConnection(ctxFor(t), merged)
		if err != nil || !r.OK {
			t.Errorf("test connection with the refreshed token: %+v, %v", r, err)
		}
		_, err = cl.Refresh(ctxFor(t), conn) // private-app token: nothing to refresh
		if sdk.CodeOf(err) != sdk.CodeUnsupported {
			t.Errorf("refresh without refresh_token: %v; want unsupported", err)
		}
	})

	t.Run("VerifyWebhook", func(t *testing.T) {
		const secret = "webhook-test-client-secret"
		hookConn := sdk.Connection{Config: map[string]string{}, App: map[string]string{"client_secret": secret}}
		now := time.Now()
		body := []byte(`[{"eventId":3001,"subscriptionId":12,"portalId":1234567,"appId":111111,"occurredAt":` +
			strconv.FormatInt(now.Add(-time.Second).UnixMilli(), 10) +
			`,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":1001,"propertyName":"email","propertyValue":"ada@example.com","changeSource":"CRM"}]`)
		req := signedV3(secret, "POST", "https://crmhost.example/webhooks/hubspot?tenant=t1", body, now)
		res, err := cl.VerifyWebhook(ctxFor(t), hookConn, req)
		if err != nil {
			t.Fatal(err)
		}
		evs := res.Events
		if len(evs) != 1 {
			t.Fatalf("events = %+v, want 1", evs)
		}
		ev := evs[0]
		if ev.ID != "1234567:12:3001" || ev.Type != "contact.propertyChange" || ev.Object != "contacts" || ev.ExternalID != "1001" ||
			ev.OccurredAt.UnixMilli() != now.Add(-time.Second).UnixMilli() {
			t.Errorf("event = %+v", ev)
		}
		// A tampered body, a stale timestamp, the wrong secret: auth_error.
		bad := req
		bad.Body = bytes.Replace(body, []byte("1001"), []byte("1002"), 1)
		stale := signedV3(secret, "POST", req.URL, body, now.Add(-6*time.Minute))
		wrong := signedV3("another-secret", "POST", req.URL, body, now)
		for name, r := range map[string]sdk.WebhookRequest{"tampered": bad, "stale": stale, "wrong secret": wrong} {
			_, err := cl.VerifyWebhook(ctxFor(t), hookConn, r)
			if sdk.CodeOf(err) != sdk.CodeAuth {
				t.Errorf("%s: %v; want auth_error", name, err)
			} else if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error holds the secret: %v", name, err)
			}
		}
	})

	t.Run("Kill", func(t *testing.T) {
		if !alive(p.pid) {
			t.Fatalf("driver pid %d is not running before Kill", p.pid)
		}
		p.pc.Kill()
		if !p.pc.Exited() {
			t.Error("go-plugin says the driver has not exited after Kill")
		}
		waitGone(t, p.pid)
		_, err := cl.Describe(ctxFor(t))
		if sdk.CodeOf(err) != sdk.CodeUnavailable {
			t.Errorf("call after Kill: %v; want unavailable", err)
		}
	})
}

// TestBinaryWrongChecksum: go-plugin refuses to start a binary whose
// checksum is not the expected one.
func TestBinaryWrongChecksum(t *testing.T) {
	sum := bytes.Clone(pluginSum)
	sum[0] ^= 0xff
	p, err := launch(sum, hclog.NewNullLogger())
	if err == nil {
		p.pc.Kill()
		t.Fatal("a binary with the wrong checksum was launched")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "checksum") || !errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		t.Errorf("error = %v, want plugin.ErrChecksumsDoNotMatch, mentioning the checksum", err)
	}
}

// TestBinaryKilledDriverIsReaped: a driver that dies under the host (here
// SIGKILL) is noticed and reaped by go-plugin, leaves no zombie, and calls
// to it fail as unavailable wrapping sdk.ErrDriverUnavailable.
func TestBinaryKilledDriverIsReaped(t *testing.T) {
	p, err := launch(pluginSum, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.pc.Kill)
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, p.pid)
	// go-plugin marks the client exited just after it reaps the process.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !p.pc.Exited() {
		select {
		case <-ctx.Done():
			t.Fatal("go-plugin did not notice the driver exit")
		case <-time.After(10 * time.Millisecond):
		}
	}
	_, err = p.cl.Describe(ctxFor(t))
	if !errors.Is(err, sdk.ErrDriverUnavailable) {
		t.Errorf("call to a dead driver: %v; want ErrDriverUnavailable", err)
	}
}

// waitGone waits (up to 10s, as a bound, not a measurement) for pid to be
// gone and reaped.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for alive(pid) {
		select {
		case <-ctx.Done():
			t.Fatalf("driver pid %d still exists", pid)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// signedV3 is a webhook as HubSpot sends it with signature v3:
// base64(HMAC-SHA256(client secret, method + uri + body + timestamp)).
func signedV3(secret, method, uri string, body []byte, at time.Time) sdk.WebhookRequest {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + uri))
	mac.Write(body)
	mac.Write([]byte(ts))
	return sdk.WebhookRequest{Method: method, URL: uri, Body: body, Now: time.Now(), Headers: map[string][]string{
		"Content-Type":                {"application/json"},
		"X-Hubspot-Signature-V3":      {base64.StdEncoding.EncodeToString(mac.Sum(nil))},
		"X-Hubspot-Request-Timestamp": {ts},
	}}
}
