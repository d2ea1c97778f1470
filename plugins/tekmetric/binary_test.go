package main_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/plugins/tekmetric/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// TestBinary launches the built crm-driver-tekmetric the way the host does
// (go-plugin, AutoMTLS, checksum verified) and calls every verb of the
// contract over that process against the fake Tekmetric.
func TestBinary(t *testing.T) {
	p, err := launch(pluginSum, testLogger(t))
	if err != nil {
		t.Fatalf("launch %s: %v", pluginBin, err)
	}
	t.Cleanup(p.pc.Kill)
	cl := p.cl
	srv := fake.New(t, fake.Options{})

	t.Run("Describe", func(t *testing.T) {
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{Delete: true, Authorize: true, Refresh: true}
		if d.Capabilities != want || d.Slug != "tekmetric" || d.Auth.Kind != sdk.AuthClientCredentials || d.Webhook.Scheme != "" {
			t.Errorf("capabilities %+v, slug %q, auth %q, webhook %q", d.Capabilities, d.Slug, d.Auth.Kind, d.Webhook.Scheme)
		}
		tokenURL, err := sdk.RenderURL(d.Auth.TokenURL, map[string]string{"api_host": "sandbox.tekmetric.com"})
		if err != nil || tokenURL != "https://sandbox.tekmetric.com/api/v1/oauth/token" {
			t.Errorf("token URL for the sandbox: %q, %v", tokenURL, err)
		}
		verbs := map[string][]string{}
		for _, o := range d.Objects {
			verbs[o.Name] = o.Verbs
		}
		if got := strings.Join(verbs["customers"], ","); got != "lookup_customer,search_records,create_record,update_record,list_recent" {
			t.Errorf("customers verbs %s", got)
		}
		if got := strings.Join(verbs["appointments"], ","); got != "create_record,update_record,list_recent,delete_record" {
			t.Errorf("appointments verbs %s", got)
		}
	})

	// Authorize obtains the token the host then stores; every later call
	// uses it.
	var conn sdk.Connection
	t.Run("Authorize", func(t *testing.T) {
		a, err := cl.Authorize(ctxFor(t), srv.Unissued(), sdk.Grant{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Secret["access_token"] == "" || a.AccountID != "101" {
			t.Fatalf("authorization %+v", a)
		}
		conn = sdk.CredentialUpdate{Secret: a.Secret, AccountID: a.AccountID}.Apply(srv.Unissued())
		bad := srv.Unissued()
		bad.Config["shop_id"] = "303"
		_, err = cl.Authorize(ctxFor(t), bad, sdk.Grant{})
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalid || e.Field != "config.shop_id" {
			t.Errorf("unauthorized shop: %v; want invalid naming config.shop_id", err)
		}
	})
	if conn.Secret == nil {
		t.Fatal("no connection to work with")
	}

	t.Run("TestConnection", func(t *testing.T) {
		r, err := cl.TestConnection(ctxFor(t), conn)
		if err != nil || !r.OK || r.AccountID != "101" {
			t.Errorf("good connection: %+v, %v", r, err)
		}
		bad := srv.BadConnection()
		r, err = cl.TestConnection(ctxFor(t), bad)
		if err != nil || r.OK || r.Reason == "" || strings.Contains(r.Reason, bad.Secret["access_token"]) {
			t.Errorf("bad connection: %+v, %v; want OK false with a reason that hides the token", r, err)
		}
	})

	t.Run("CredentialUpdate", func(t *testing.T) {
		ctx, update := sdk.CaptureCredentialUpdate(ctxFor(t))
		if _, err := cl.LookupCustomer(ctx, srv.Unissued(), sdk.LookupQuery{Email: "nobody@example.com"}); err != nil {
			t.Fatal(err)
		}
		if u := update(); u == nil || u.Secret["access_token"] == "" || u.AccountID != "101" {
			t.Errorf("credential update %+v, want the obtained token and the shop", u)
		}
	})

	fields := map[string]any{"firstName": "Ada", "lastName": "Lovelace", "email": "Ada.Lovelace@Example.com", "phone": "+14155550123"}
	var id string
	t.Run("CreateRecord", func(t *testing.T) {
		in := sdk.CreateInput{Object: "customers", Fields: fields, IdempotencyKey: "binary-test-key-1"}
		first, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		second, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil || second.ExternalID != first.ExternalID {
			t.Fatalf("same key twice: %q then %+v, %v", first.ExternalID, second, err)
		}
		id = first.ExternalID
	})
	if id == "" {
		t.Fatal("no record to work on")
	}

	t.Run("LookupCustomer", func(t *testing.T) {
		for name, q := range map[string]sdk.LookupQuery{
			"phone": {Phone: "(415) 555-0123"}, "email": {Email: "ada.lovelace@example.com"}, "external_id": {ExternalID: id},
		} {
			r, err := cl.LookupCustomer(ctxFor(t), conn, q)
			if err != nil || r.Customer == nil || r.Customer.ExternalID != id || r.MatchCount != 1 {
				t.Errorf("by %s: %+v, %v; want customer %s", name, r, err, id)
				continue
			}
			if f := r.Customer.Fields; f["lastName"] != "Lovelace" || f["phone"] != "415-555-0123" {
				t.Errorf("by %s: fields %v", name, f)
			}
		}
	})

	t.Run("SearchRecords", func(t *testing.T) {
		rs, err := cl.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "customers", Query: "lovelace", Limit: 10})
		if err != nil || len(rs) != 1 || rs[0].ExternalID != id {
			t.Errorf("search: %+v, %v", rs, err)
		}
	})

	t.Run("UpdateRecord", func(t *testing.T) {
		if _, err := cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "customers", ExternalID: id,
			Fields: map[string]any{"notes": "prefers mornings", "address": map[string]any{"city": "London"}}}); err != nil {
			t.Fatal(err)
		}
		r, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{ExternalID: id})
		if err != nil || r.Customer == nil {
			t.Fatal(r, err)
		}
		addr, _ := r.Customer.Fields["address"].(map[string]any)
		if r.Customer.Fields["notes"] != "prefers mornings" || addr["city"] != "London" || r.Customer.Fields["firstName"] != "Ada" {
			t.Errorf("after update: %v", r.Customer.Fields)
		}
	})

	t.Run("ListRecent", func(t *testing.T) {
		lr, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "customers", Since: time.Now().Add(-time.Hour), Limit: 10})
		if err != nil || len(lr.Records) != 1 || lr.Records[0].ExternalID != id || lr.NextCursor == "" || lr.HasMore {
			t.Fatalf("list: %+v, %v", lr, err)
		}
		next, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "customers", Cursor: lr.NextCursor, Limit: 10})
		if err != nil || len(next.Records) != 0 {
			t.Errorf("after the cursor: %+v, %v", next, err)
		}
	})

	t.Run("DeleteRecord", func(t *testing.T) {
		_, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "customers", ExternalID: id})
		if sdk.CodeOf(err) != sdk.CodeDeleteUnsupported || !strings.Contains(err.Error(), "no DELETE /customers") {
			t.Errorf("delete a customer: %v; want delete_unsupported naming Tekmetric's limitation", err)
		}
		start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
		a, err := cl.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "appointments", Fields: map[string]any{
			"title": "Oil change", "startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339)}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "appointments", ExternalID: a.ExternalID})
		if err != nil || !r.Deleted || r.HardDeleted {
			t.Errorf("delete an appointment: %+v, %v; want a soft delete", r, err)
		}
	})

	t.Run("Refresh", func(t *testing.T) {
		srv.RevokeToken(conn.Secret["access_token"])
		if _, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{ExternalID: id}); sdk.CodeOf(err) != sdk.CodeAuth {
			t.Fatalf("revoked token: %v; want auth_error", err)
		}
		a, err := cl.Refresh(ctxFor(t), conn)
		if err != nil || a.Secret["access_token"] == conn.Secret["access_token"] {
			t.Fatalf("refresh: %+v, %v", a, err)
		}
		conn = sdk.CredentialUpdate{Secret: a.Secret}.Apply(conn)
		if r, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{ExternalID: id}); err != nil || r.Customer == nil {
			t.Errorf("with the refreshed token: %+v, %v", r, err)
		}
	})

	t.Run("Kill", func(t *testing.T) {
		if !alive(p.pid) {
			t.Fatalf("driver pid %d is not running before Kill", p.pid)
		}
		p.pc.Kill()
		waitGone(t, p.pid)
		if _, err := cl.Describe(ctxFor(t)); sdk.CodeOf(err) != sdk.CodeUnavailable {
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
	if !errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		t.Errorf("error = %v, want plugin.ErrChecksumsDoNotMatch", err)
	}
}

// TestBinaryKilledDriverIsReaped: a driver that dies under the host is
// reaped by go-plugin and calls to it fail as unavailable wrapping
// sdk.ErrDriverUnavailable.
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !p.pc.Exited() {
		select {
		case <-ctx.Done():
			t.Fatal("go-plugin did not notice the driver exit")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := p.cl.Describe(ctxFor(t)); !errors.Is(err, sdk.ErrDriverUnavailable) {
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
