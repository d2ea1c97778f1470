package main_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/plugins/odoo/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

// TestBinary launches the built crm-driver-odoo the way the host does
// (go-plugin, AutoMTLS, checksum verified) and calls every verb of the
// contract over that process against the fake Odoo, over JSON-RPC and
// JSON-2.
func TestBinary(t *testing.T) {
	p, err := launch(pluginSum, testLogger(t))
	if err != nil {
		t.Fatalf("launch %s: %v", pluginBin, err)
	}
	t.Cleanup(p.pc.Kill)
	cl := p.cl

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
			t.Errorf("peer auth info %T: not AutoMTLS", pr.AuthInfo)
		}
	})

	t.Run("Describe", func(t *testing.T) {
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{Delete: true, Erase: true, DescribeObject: true, Authorize: true, ListObjects: true}
		if d.Capabilities != want {
			t.Errorf("capabilities = %+v, want %+v", d.Capabilities, want)
		}
		if d.Slug != "odoo" || d.Auth.Kind != sdk.AuthForm || d.Webhook.Scheme != "" {
			t.Errorf("slug %q, auth %q, webhook %q", d.Slug, d.Auth.Kind, d.Webhook.Scheme)
		}
	})

	for _, version := range []string{"17.0", "19.0"} {
		t.Run(version, func(t *testing.T) { verbs(t, cl, fake.New(t, fake.Options{Version: version})) })
	}

	t.Run("Kill", func(t *testing.T) {
		if !alive(p.pid) {
			t.Fatalf("driver pid %d is not running before Kill", p.pid)
		}
		p.pc.Kill()
		waitGone(t, p.pid)
		_, err := cl.Describe(ctxFor(t))
		if sdk.CodeOf(err) != sdk.CodeUnavailable {
			t.Errorf("call after Kill: %v; want unavailable", err)
		}
	})
}

// verbs calls every verb over the plugin connection against srv.
func verbs(t *testing.T, cl *sdk.Client, srv *fake.Server) {
	conn := srv.Connection()
	a, err := cl.Authorize(ctxFor(t), conn, sdk.Grant{})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	conn = sdk.CredentialUpdate{Secret: a.Secret, Config: a.Config, AccountID: a.AccountID}.Apply(conn)
	if conn.Config["server_version"] == "" || conn.AccountID == "" {
		t.Fatalf("Authorize learned config %v, account %q", a.Config, a.AccountID)
	}
	r, err := cl.TestConnection(ctxFor(t), conn)
	if err != nil || !r.OK || r.AccountID != conn.AccountID {
		t.Errorf("TestConnection: %+v, %v", r, err)
	}
	r, err = cl.TestConnection(ctxFor(t), srv.BadConnection())
	if err != nil || r.OK || strings.Contains(r.Reason, fake.BadAPIKey) {
		t.Errorf("TestConnection with a bad key: %+v, %v", r, err)
	}

	in := sdk.CreateInput{Object: "res.partner", IdempotencyKey: "binary-1", Fields: map[string]any{
		"firstname": "Ada", "lastname": "Lovelace", "email": "Ada.Lovelace@Example.com", "phone": "+14155550123"}}
	first, err := cl.CreateRecord(ctxFor(t), conn, in)
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	second, err := cl.CreateRecord(ctxFor(t), conn, in)
	if err != nil || second.ExternalID != first.ExternalID {
		t.Fatalf("same key twice: %q then %+v, %v", first.ExternalID, second, err)
	}
	id := first.ExternalID
	for name, q := range map[string]sdk.LookupQuery{"phone": {Phone: "(415) 555-0123"}, "email": {Email: "ada.lovelace@example.com"}, "external_id": {ExternalID: id}} {
		l, err := cl.LookupCustomer(ctxFor(t), conn, q)
		if err != nil || l.Customer == nil || l.Customer.ExternalID != id || l.Customer.Fields["lastname"] != "Lovelace" {
			t.Errorf("LookupCustomer by %s: %+v, %v", name, l, err)
		}
	}
	_, err = cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Email: "x@example.com", Objects: []string{"mail.message"}})
	if sdk.CodeOf(err) != sdk.CodeUnsupported {
		t.Errorf("lookup on chatter messages: %v; want unsupported from the declared verbs", err)
	}
	rs, err := cl.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "res.partner", Query: "lovelace", Limit: 5})
	if err != nil || len(rs) != 1 || rs[0].ExternalID != id {
		t.Errorf("SearchRecords: %+v, %v", rs, err)
	}
	u, err := cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "res.partner", ExternalID: id, Fields: map[string]any{"function": "Analyst"}})
	if err != nil || !u.Updated {
		t.Errorf("UpdateRecord: %+v, %v", u, err)
	}
	msg, err := cl.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "mail.message", IdempotencyKey: "call-1",
		Fields: map[string]any{"model": "res.partner", "res_id": id, "body": "Transcript"}})
	if err != nil || msg.ExternalID == "" {
		t.Errorf("conversation: %+v, %v", msg, err)
	}
	lr, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "res.partner", Since: time.Now().Add(-time.Hour), Limit: 10})
	if err != nil || len(lr.Records) != 1 || lr.NextCursor == "" {
		t.Errorf("ListRecent: %+v, %v", lr, err)
	}
	objs, err := cl.ListObjects(ctxFor(t), conn)
	if err != nil || len(objs) < 5 {
		t.Errorf("ListObjects: %d objects, %v", len(objs), err)
	}
	pet, err := cl.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "x_pet", Fields: map[string]any{"x_name": "Rex"}})
	if err != nil {
		t.Errorf("create on a custom model: %v", err)
	}
	s, err := cl.DescribeObject(ctxFor(t), conn, "x_pet")
	if err != nil || len(s.Fields) < 5 {
		t.Errorf("DescribeObject x_pet: %+v, %v", s, err)
	}
	if d, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "x_pet", ExternalID: pet.ExternalID}); err != nil || !d.HardDeleted {
		t.Errorf("DeleteRecord: %+v, %v", d, err)
	}
	if d, err := cl.EraseRecord(ctxFor(t), conn, sdk.RecordRef{Object: "res.partner", ExternalID: id}); err != nil || !d.HardDeleted {
		t.Errorf("EraseRecord: %+v, %v", d, err)
	}
	_, err = cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "res.partner", ExternalID: id})
	if sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Errorf("delete of an erased record: %v; want not_found", err)
	}
	_, err = cl.LookupCustomer(ctxFor(t), srv.UnknownDatabase(), sdk.LookupQuery{Email: "a@example.com"})
	if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalid || e.Field != "database" {
		t.Errorf("unknown database: %v; want invalid naming database", err)
	}
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
// reaped by go-plugin, and calls to it fail as unavailable wrapping
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
