package main_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

// TestBinary launches the built crm-driver-salesforce the way the host
// does (go-plugin, AutoMTLS, checksum verified) and calls every verb of
// the contract over that process against the fake Salesforce.
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
		if cfg := sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: pluginSum}); !cfg.AutoMTLS || cfg.SecureConfig == nil {
			t.Fatalf("sdk.NewClientConfig: AutoMTLS %t, SecureConfig %v", cfg.AutoMTLS, cfg.SecureConfig)
		}
		if v := cl.ProtocolVersion(); v != sdk.ProtocolVersion {
			t.Errorf("negotiated protocol %d, want %d", v, sdk.ProtocolVersion)
		}
		var pr peer.Peer
		if _, err := healthpb.NewHealthClient(p.conn).Check(ctxFor(t), &healthpb.HealthCheckRequest{Service: "plugin"}, grpc.Peer(&pr)); err != nil {
			t.Fatalf("health check: %v", err)
		}
		ti, ok := pr.AuthInfo.(credentials.TLSInfo)
		if !ok || ti.State.Version < tls.VersionTLS12 || len(ti.State.PeerCertificates) == 0 {
			t.Fatalf("peer auth info %T: not mutual TLS", pr.AuthInfo)
		}
	})

	t.Run("Describe", func(t *testing.T) {
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{Delete: true, DescribeObject: true, Authorize: true, Refresh: true, VerifyWebhook: true,
			ListObjects: true, RouteWebhook: true}
		if d.Capabilities != want {
			t.Errorf("capabilities = %+v, want %+v", d.Capabilities, want)
		}
		if d.Slug != "salesforce" || d.Auth.Kind != sdk.AuthOAuth2Code || d.Webhook.Scheme != "salesforce-outbound-message" {
			t.Errorf("slug %q, auth %q, webhook %q", d.Slug, d.Auth.Kind, d.Webhook.Scheme)
		}
		for _, o := range []string{"Contact", "Lead", "Opportunity", "Case", "Task"} {
			if _, ok := d.Object(o); !ok {
				t.Errorf("Describe has no object %q", o)
			}
		}
	})

	var lead string
	t.Run("CreateRecord", func(t *testing.T) {
		in := sdk.CreateInput{Object: "Lead", IdempotencyKey: "binary-test-key-1",
			Fields: map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical Engines", "Email": "Ada@Example.com", "Phone": "(415) 555-0123"}}
		first, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		second, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil || second.ExternalID != first.ExternalID {
			t.Fatalf("same key twice: %q and %q, %v", first.ExternalID, second.ExternalID, err)
		}
		lead = first.ExternalID
	})

	t.Run("LookupCustomer", func(t *testing.T) {
		for name, q := range map[string]sdk.LookupQuery{
			"phone":       {Phone: "+1 415 555 0123"},
			"email":       {Email: "ada@example.com"},
			"external_id": {ExternalID: "binary-test-key-1", Objects: []string{"Lead"}},
		} {
			r, err := cl.LookupCustomer(ctxFor(t), conn, q)
			if err != nil || r.Customer == nil || r.Customer.ExternalID != lead || r.Customer.Object != "Lead" {
				t.Errorf("by %s (Contact, then Lead): %+v, %v; want lead %s", name, r.Customer, err, lead)
			}
		}
	})

	t.Run("UpdateSearchListDelete", func(t *testing.T) {
		if _, err := cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "Lead", ExternalID: lead, Fields: map[string]any{"Status": "Working - Contacted"}}); err != nil {
			t.Fatal(err)
		}
		found, err := cl.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "Lead", Query: "Analytical", Limit: 5})
		if err != nil || len(found) != 1 || found[0].Fields["Status"] != "Working - Contacted" {
			t.Fatalf("search: %+v, %v", found, err)
		}
		list, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "Lead", Since: time.Now().Add(-time.Hour)})
		if err != nil || len(list.Records) != 1 || list.NextCursor == "" {
			t.Fatalf("list: %+v, %v", list, err)
		}
		r, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "Lead", ExternalID: lead})
		if err != nil || !r.Deleted || r.HardDeleted {
			t.Fatalf("delete: %+v, %v", r, err)
		}
	})

	t.Run("ObjectsAndSchema", func(t *testing.T) {
		objs, err := cl.ListObjects(ctxFor(t), conn)
		if err != nil {
			t.Fatal(err)
		}
		custom := false
		for _, o := range objs {
			custom = custom || (o.Name == "Vehicle__c" && o.Custom)
		}
		if !custom {
			t.Errorf("ListObjects lacks the org's custom object: %+v", objs)
		}
		sch, err := cl.DescribeObject(ctxFor(t), conn, "Vehicle__c")
		if err != nil || len(sch.Fields) == 0 {
			t.Errorf("DescribeObject(Vehicle__c): %+v, %v", sch, err)
		}
	})

	t.Run("AuthorizeRefresh", func(t *testing.T) {
		oauthConn, grant := srv.Grant(t)
		a, err := cl.Authorize(ctxFor(t), oauthConn, grant)
		if err != nil {
			t.Fatal(err)
		}
		if a.AccountID != fake.OrgA || a.Config["instance_url"] != srv.URL || a.Secret["refresh_token"] == "" {
			t.Errorf("authorization: account %q config %v", a.AccountID, a.Config)
		}
		fresh := sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config, AccountID: a.AccountID}.Apply(oauthConn)
		r, err := cl.Refresh(ctxFor(t), fresh)
		if err != nil || r.Secret["access_token"] == "" || r.Secret["access_token"] == a.Secret["access_token"] {
			t.Errorf("refresh: %v", err)
		}
		_, err = cl.Refresh(ctxFor(t), srv.BadConnection())
		if sdk.CodeOf(err) != sdk.CodeAuth || strings.Contains(err.Error(), srv.BadConnection().Secret["refresh_token"]) {
			t.Errorf("bad refresh token: %v", err)
		}
	})

	t.Run("Webhook", func(t *testing.T) {
		c, err := cl.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "Contact", Fields: map[string]any{"LastName": "Hook"}})
		if err != nil {
			t.Fatal(err)
		}
		req := srv.Webhook(t, conn, c.ExternalID, time.Now())
		route, err := cl.RouteWebhook(ctxFor(t), sdk.Connection{App: srv.App()}, req)
		if err != nil || len(route.AccountIDs) != 1 || route.AccountIDs[0] != fake.OrgA {
			t.Fatalf("route: %+v, %v", route, err)
		}
		res, err := cl.VerifyWebhook(ctxFor(t), conn, req)
		if err != nil || len(res.Events) != 1 || res.Reply == nil || !bytes.Contains(res.Reply.Body, []byte("<Ack>true</Ack>")) {
			t.Fatalf("verify: %+v, %v", res, err)
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

// TestBinaryKilledDriverIsReaped: a driver that dies under the host (here
// SIGKILL) is reaped and calls to it fail as unavailable wrapping
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
	_, err = p.cl.Describe(ctxFor(t))
	if sdk.CodeOf(err) != sdk.CodeUnavailable || !errors.Is(err, sdk.ErrDriverUnavailable) {
		t.Errorf("call to a killed driver: %v; want unavailable wrapping sdk.ErrDriverUnavailable", err)
	}
}

// waitGone waits until pid is no longer a live process.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("driver pid %d still running 10s after it should have exited", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
