package main_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-plugin"
)

// callCtx is a call context as the host makes it (ctxFor) with a
// credential update sink.
func callCtx(t *testing.T) (context.Context, func() *sdk.CredentialUpdate) {
	t.Helper()
	return sdk.CaptureCredentialUpdate(ctxFor(t))
}

func cc(t *testing.T) context.Context {
	c, _ := callCtx(t)
	return c
}

// TestBinary launches the built crm-driver-zoho the way the host does
// (go-plugin, AutoMTLS, checksum verified) and calls every verb of the
// contract over that process against the fake Zoho.
func TestBinary(t *testing.T) {
	p, err := launch(pluginSum, testLogger(t))
	if err != nil {
		t.Fatalf("launch %s: %v", pluginBin, err)
	}
	t.Cleanup(p.pc.Kill)
	cl := p.cl
	srv := fake.New(t, fake.Options{})
	conn := srv.Connection()

	t.Run("Describe", func(t *testing.T) {
		if cfg := sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: pluginSum}); !cfg.AutoMTLS || cfg.SecureConfig == nil {
			t.Fatalf("AutoMTLS %t, SecureConfig %v", cfg.AutoMTLS, cfg.SecureConfig)
		}
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{Delete: true, Erase: true, DescribeObject: true, Authorize: true, Refresh: true,
			VerifyWebhook: true, ListObjects: true, RouteWebhook: true}
		if d.Capabilities != want || d.Slug != "zoho" || d.Auth.Kind != sdk.AuthOAuth2Code {
			t.Errorf("capabilities %+v slug %q auth %q", d.Capabilities, d.Slug, d.Auth.Kind)
		}
		authURL, err := sdk.RenderURL(d.Auth.AuthorizeURL, map[string]string{"accounts_server": "https://accounts.zoho.eu"})
		if err != nil || authURL != "https://accounts.zoho.eu/oauth/v2/auth" {
			t.Errorf("authorize URL for the EU = %q, %v", authURL, err)
		}
		if d.Auth.AuthorizeParams["access_type"] != "offline" {
			t.Errorf("authorize params %v lack access_type=offline (no refresh token without it)", d.Auth.AuthorizeParams)
		}
		notes, _ := d.Object("Notes")
		if notes.Canonical != sdk.ObjectConversation || notes.Supports(sdk.VerbSearchRecords) {
			t.Errorf("Notes = %+v", notes)
		}
	})

	t.Run("TestConnection", func(t *testing.T) {
		r, err := cl.TestConnection(cc(t), conn)
		if err != nil || !r.OK || r.AccountID != conn.AccountID {
			t.Errorf("good connection: %+v, %v", r, err)
		}
		r, err = cl.TestConnection(cc(t), srv.BadConnection())
		if err != nil || r.OK || !strings.Contains(r.Reason, "INVALID_TOKEN") {
			t.Errorf("bad connection: %+v, %v; want OK false naming INVALID_TOKEN", r, err)
		}
	})

	var id string
	t.Run("CreateRecord", func(t *testing.T) {
		in := sdk.CreateInput{Object: "Leads", IdempotencyKey: "binary-1",
			Fields: map[string]any{"Last_Name": "Lovelace", "Email": "ada@example.com", "Phone": "(415) 555-0123"}}
		first, err := cl.CreateRecord(cc(t), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		second, err := cl.CreateRecord(cc(t), conn, in)
		if err != nil || second.ExternalID != first.ExternalID {
			t.Fatalf("same key twice: %q and %q, %v", first.ExternalID, second.ExternalID, err)
		}
		id = first.ExternalID
		leads := srv.Records(fake.OrgA, "Leads")
		if len(leads) != 1 || leads[0]["Phone"] != "+14155550123" {
			t.Fatalf("stored %v, want one lead with the phone in E.164", leads)
		}
	})

	t.Run("LookupCustomer", func(t *testing.T) {
		r, err := cl.LookupCustomer(cc(t), conn, sdk.LookupQuery{Phone: "415.555.0123", Objects: []string{"Contacts", "Leads"}})
		if err != nil || r.Customer == nil || r.Customer.ExternalID != id || r.Customer.Object != "Leads" {
			t.Fatalf("lookup = %+v, %v", r, err)
		}
	})

	t.Run("UpdateAndList", func(t *testing.T) {
		if _, err := cl.UpdateRecord(cc(t), conn, sdk.UpdateInput{Object: "Leads", ExternalID: id, Fields: map[string]any{"Company": "Engines"}}); err != nil {
			t.Fatal(err)
		}
		r, err := cl.ListRecent(cc(t), conn, sdk.ListQuery{Object: "Leads", Since: time.Now().Add(-time.Hour), Limit: 10})
		if err != nil || len(r.Records) != 1 || r.Records[0].Fields["Company"] != "Engines" || r.NextCursor == "" {
			t.Fatalf("list = %+v, %v", r, err)
		}
	})

	t.Run("Objects", func(t *testing.T) {
		objs, err := cl.ListObjects(cc(t), conn)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range objs {
			names = append(names, o.Name)
		}
		if !strings.Contains(strings.Join(names, ","), "Vehicles") {
			t.Errorf("objects %v lack the custom module Vehicles", names)
		}
		// A custom module is usable once listed.
		if _, err := cl.CreateRecord(cc(t), conn, sdk.CreateInput{Object: "Vehicles", Fields: map[string]any{"Name": "Model T", "VIN": "V1"}}); err != nil {
			t.Fatalf("create in a custom module: %v", err)
		}
		sch, err := cl.DescribeObject(cc(t), conn, "Vehicles")
		if err != nil || len(sch.Fields) == 0 {
			t.Fatalf("describe Vehicles = %+v, %v", sch, err)
		}
	})

	t.Run("DeleteAndErase", func(t *testing.T) {
		r, err := cl.DeleteRecord(cc(t), conn, sdk.RecordRef{Object: "Leads", ExternalID: id})
		if err != nil || !r.Deleted || r.HardDeleted {
			t.Fatalf("delete = %+v, %v", r, err)
		}
		r, err = cl.EraseRecord(cc(t), conn, sdk.RecordRef{Object: "Leads", ExternalID: id})
		if err != nil || !r.HardDeleted {
			t.Fatalf("erase = %+v, %v", r, err)
		}
	})

	t.Run("AuthorizeRefresh", func(t *testing.T) {
		c, g := srv.Grant(t)
		a, err := cl.Authorize(cc(t), c, g)
		if err != nil || a.Secret["refresh_token"] == "" || a.AccountID != conn.AccountID {
			t.Fatalf("authorize = keys %d account %q, %v", len(a.Secret), a.AccountID, err)
		}
		c = sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config}.Apply(c)
		r, err := cl.Refresh(cc(t), c)
		if err != nil || r.Secret["access_token"] == "" || r.ExpiresAt.IsZero() {
			t.Fatalf("refresh = %+v, %v", r.ExpiresAt, err)
		}
	})

	t.Run("Webhook", func(t *testing.T) {
		wc := srv.Connection()
		wc.Config["webhook_url"] = "https://crmhost.example/webhooks/zoho"
		ctx, updates := callCtx(t)
		if r, err := cl.TestConnection(ctx, wc); err != nil || !r.OK || r.Reason != "" {
			t.Fatalf("TestConnection = %+v, %v", r, err)
		}
		u := updates()
		if u == nil || u.Config["watch_channel_id"] == "" {
			t.Fatalf("no channel in the credential update across the plugin boundary: %+v", u)
		}
		wc = u.Apply(wc)
		req := srv.Webhook(t, wc, "5725767000000400999", time.Now())
		route, err := cl.RouteWebhook(cc(t), sdk.Connection{App: wc.App}, req)
		if err != nil || len(route.AccountIDs) != 1 || route.AccountIDs[0] != wc.AccountID {
			t.Fatalf("route = %+v, %v", route, err)
		}
		res, err := cl.VerifyWebhook(cc(t), wc, req)
		if err != nil || len(res.Events) != 1 || res.Events[0].Kind != sdk.EventUpdated {
			t.Fatalf("verify = %+v, %v", res, err)
		}
	})

	t.Run("Kill", func(t *testing.T) {
		p.pc.Kill()
		waitGone(t, p.pid)
	})
}

func TestBinaryWrongChecksum(t *testing.T) {
	bad := make([]byte, len(pluginSum))
	copy(bad, pluginSum)
	bad[0] ^= 0xff
	pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: bad}))
	defer pc.Kill()
	if _, err := sdk.Dispense(pc); err == nil {
		t.Fatal("a driver binary with the wrong checksum was launched")
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("driver process %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
