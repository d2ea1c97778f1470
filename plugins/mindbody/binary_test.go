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

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

// TestBinary launches the built crm-driver-mindbody the way the host does
// (go-plugin, AutoMTLS, checksum verified) and calls the contract's verbs
// over that process against the fake Mindbody, credential updates
// included.
func TestBinary(t *testing.T) {
	p, err := launch(pluginSum, testLogger(t))
	if err != nil {
		t.Fatalf("launch %s: %v", pluginBin, err)
	}
	t.Cleanup(p.pc.Kill)
	cl := p.cl
	srv := fake.New(t, fake.Options{})

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
			t.Errorf("peer auth info %T: not mutual TLS", pr.AuthInfo)
		}
	})

	t.Run("Describe", func(t *testing.T) {
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{Delete: true, DescribeObject: true, Authorize: true, Refresh: true, VerifyWebhook: true, RouteWebhook: true}
		if d.Capabilities != want || d.Slug != "mindbody" || d.Auth.Kind != sdk.AuthForm {
			t.Errorf("capabilities %+v, slug %q, auth %q", d.Capabilities, d.Slug, d.Auth.Kind)
		}
	})

	// A connection as the connect form leaves it: no token yet.
	conn := srv.Unissued()
	t.Run("TestConnection issues and returns a staff token", func(t *testing.T) {
		c, update := sdk.CaptureCredentialUpdate(ctxFor(t))
		r, err := cl.TestConnection(c, conn)
		if err != nil || !r.OK || r.AccountID != "555001" {
			t.Fatalf("test connection: %+v, %v", r, err)
		}
		u := update()
		if u == nil || u.Secret["staff_token"] == "" || u.ExpiresAt.IsZero() {
			t.Fatalf("credential update %+v", u)
		}
		conn = u.Apply(conn)
		bad, err := cl.TestConnection(ctxFor(t), srv.BadConnection())
		if err != nil || bad.OK || strings.Contains(bad.Reason, "not-the-password") {
			t.Errorf("bad login: %+v, %v", bad, err)
		}
	})
	issued := srv.TokensIssued()

	var id string
	t.Run("CreateRecord", func(t *testing.T) {
		in := sdk.CreateInput{Object: "clients", IdempotencyKey: "binary-1", Fields: map[string]any{
			"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "MobilePhone": "(415) 555-0123"}}
		first, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		second, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil || second.ExternalID != first.ExternalID || len(srv.Clients(fake.SiteA)) != 1 {
			t.Fatalf("create twice: %q then %q (%v)", first.ExternalID, second.ExternalID, err)
		}
		id = first.ExternalID
	})
	if id == "" {
		t.Fatal("no client to work on")
	}

	t.Run("LookupCustomer", func(t *testing.T) {
		for name, q := range map[string]sdk.LookupQuery{
			"phone": {Phone: "415.555.0123"}, "email": {Email: "ADA@example.com"}, "external_id": {ExternalID: id},
		} {
			r, err := cl.LookupCustomer(ctxFor(t), conn, q)
			if err != nil || r.Customer == nil || r.Customer.ExternalID != id || r.Customer.Fields["LastName"] != "Lovelace" {
				t.Errorf("by %s: %+v, %v", name, r, err)
			}
		}
	})

	t.Run("UpdateRecord and ListRecent", func(t *testing.T) {
		if _, err := cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "clients", ExternalID: id, Fields: map[string]any{"City": "London"}}); err != nil {
			t.Fatal(err)
		}
		lr, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "clients", Since: time.Now().Add(-time.Hour), Limit: 10})
		if err != nil || len(lr.Records) != 1 || lr.Records[0].Fields["City"] != "London" || lr.NextCursor == "" {
			t.Fatalf("list recent: %+v, %v", lr, err)
		}
	})

	t.Run("conversation", func(t *testing.T) {
		r, err := cl.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "contact_logs", Fields: map[string]any{
			"ClientId": id, "ContactMethod": "Phone", "Text": "Called to book a massage."}})
		if err != nil || r.ExternalID == "" || len(srv.ContactLogs(fake.SiteA)) != 1 {
			t.Fatalf("contact log: %+v, %v", r, err)
		}
		d, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "contact_logs", ExternalID: r.ExternalID})
		if err != nil || !d.HardDeleted || len(srv.ContactLogs(fake.SiteA)) != 0 {
			t.Errorf("delete contact log: %+v, %v", d, err)
		}
	})

	t.Run("DeleteRecord of a client is unsupported", func(t *testing.T) {
		_, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "clients", ExternalID: id})
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeDeleteUnsupported || !strings.Contains(e.Message, "Active") {
			t.Errorf("delete: %v", err)
		}
	})

	t.Run("webhooks", func(t *testing.T) {
		req := srv.Webhook(t, conn, id, time.Now())
		route, err := cl.RouteWebhook(ctxFor(t), sdk.Connection{App: conn.App}, req)
		if err != nil || len(route.AccountIDs) != 1 || route.AccountIDs[0] != "555001" {
			t.Fatalf("route: %+v, %v", route, err)
		}
		res, err := cl.VerifyWebhook(ctxFor(t), conn, req)
		if err != nil || len(res.Events) != 1 || res.Events[0].ExternalID != id || res.Events[0].Kind != sdk.EventUpdated {
			t.Errorf("verify: %+v, %v", res, err)
		}
		bad := req
		bad.Body = bytes.Replace(req.Body, []byte(id), []byte("1"), 1)
		if _, err := cl.VerifyWebhook(ctxFor(t), conn, bad); sdk.CodeOf(err) != sdk.CodeAuth {
			t.Errorf("tampered delivery: %v", err)
		}
	})

	if srv.TokensIssued() != issued {
		t.Errorf("%d tokens issued after TestConnection handed one back; want none", srv.TokensIssued()-issued)
	}

	t.Run("Kill", func(t *testing.T) {
		p.pc.Kill()
		waitGone(t, p.pid)
		if _, err := cl.Describe(ctxFor(t)); sdk.CodeOf(err) != sdk.CodeUnavailable {
			t.Errorf("call after Kill: %v; want unavailable", err)
		}
	})
}

// TestBinaryWrongChecksum: go-plugin refuses a binary whose checksum is not
// the expected one.
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

// TestBinaryKilledDriverIsReaped: a driver killed under the host is reaped
// and calls to it fail as unavailable.
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
	deadline := time.Now().Add(10 * time.Second)
	for !p.pc.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := p.cl.Describe(ctxFor(t)); !errors.Is(err, sdk.ErrDriverUnavailable) {
		t.Errorf("call to a dead driver: %v; want ErrDriverUnavailable", err)
	}
}

// waitGone waits (up to 10s, as a bound, not a measurement) for pid to be
// gone and reaped.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("driver pid %d still exists", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
