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

	"crmhost.dev/plugins/athena/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

// TestBinary launches the built crm-driver-athena the way the host does
// (go-plugin, AutoMTLS, checksum verified) and calls every verb of the
// contract over that process against the fake athenahealth.
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
			t.Errorf("peer auth info %T (AutoMTLS off?)", pr.AuthInfo)
		}
	})

	t.Run("Describe", func(t *testing.T) {
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{DescribeObject: true, Authorize: true, Refresh: true}
		if d.Capabilities != want {
			t.Errorf("capabilities = %+v, want %+v", d.Capabilities, want)
		}
		if d.Slug != "athena" || d.Auth.Kind != sdk.AuthClientCredentials {
			t.Errorf("slug %q, auth %q", d.Slug, d.Auth.Kind)
		}
	})

	// A connection without a token: the driver obtains one and the host
	// receives it as a credential update across the plugin boundary.
	conn := srv.Unissued()
	t.Run("credential update", func(t *testing.T) {
		ctx, update := sdk.CaptureCredentialUpdate(ctxFor(t))
		r, err := cl.TestConnection(ctx, conn)
		if err != nil || !r.OK || r.AccountID != fake.PracticeA {
			t.Fatalf("TestConnection: %+v, %v", r, err)
		}
		u := update()
		if u == nil || u.Secret["access_token"] == "" || u.ExpiresAt.IsZero() {
			t.Fatalf("credential update = %+v", u)
		}
		conn = u.Apply(conn)
		ctx, update = sdk.CaptureCredentialUpdate(ctxFor(t))
		if _, err := cl.TestConnection(ctx, conn); err != nil || update() != nil || srv.TokensIssued() != 1 {
			t.Errorf("with the token stored: %v, update %+v, %d tokens issued", err, update(), srv.TokensIssued())
		}
	})

	fields := map[string]any{"firstname": "Ada", "lastname": "Lovelace", "dob": "1815-12-10", "email": "Ada@Example.com", "mobilephone": "+14155550123"}
	var id string
	t.Run("CreateRecord", func(t *testing.T) {
		in := sdk.CreateInput{Object: "patients", Fields: fields, IdempotencyKey: "binary-1"}
		first, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		second, err := cl.CreateRecord(ctxFor(t), conn, in)
		if err != nil || second.ExternalID != first.ExternalID || len(srv.Patients(fake.PracticeA)) != 1 {
			t.Fatalf("the same patient twice: %q and %q, %v", first.ExternalID, second.ExternalID, err)
		}
		id = first.ExternalID
	})
	if id == "" {
		t.Fatal("no record to work on")
	}
	t.Run("LookupCustomer", func(t *testing.T) {
		for name, q := range map[string]sdk.LookupQuery{"phone": {Phone: "(415) 555-0123"}, "email": {Email: "ada@example.com"}, "id": {ExternalID: id}} {
			r, err := cl.LookupCustomer(ctxFor(t), conn, q)
			if err != nil || r.Customer == nil || r.Customer.ExternalID != id || r.Customer.Object != "patients" {
				t.Errorf("by %s: %+v, %v", name, r, err)
			}
		}
	})
	t.Run("UpdateRecord", func(t *testing.T) {
		if _, err := cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "patients", ExternalID: id, Fields: map[string]any{"city": "London"}}); err != nil {
			t.Fatal(err)
		}
		if p := srv.Patients(fake.PracticeA)[0]; p["city"] != "London" || p["firstname"] != "Ada" {
			t.Errorf("stored %v", p)
		}
	})
	t.Run("SearchRecords", func(t *testing.T) {
		rs, err := cl.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "patients", Query: "Ada Lovelace 12/10/1815", Limit: 5})
		if err != nil || len(rs) != 1 || rs[0].ExternalID != id || rs[0].Fields["score"] == nil {
			t.Errorf("best match: %+v, %v", rs, err)
		}
	})
	t.Run("ListRecent", func(t *testing.T) {
		r, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "patients", Since: time.Now().Add(-time.Hour)})
		if err != nil || len(r.Records) != 1 || r.Records[0].ExternalID != id || r.NextCursor == "" {
			t.Errorf("ListRecent: %+v, %v", r, err)
		}
	})
	t.Run("DescribeObject", func(t *testing.T) {
		sch, err := cl.DescribeObject(ctxFor(t), conn, "appointments")
		if err != nil || len(sch.Fields) == 0 {
			t.Errorf("DescribeObject: %+v, %v", sch, err)
		}
	})
	t.Run("unsupported verbs in athenaOne's words", func(t *testing.T) {
		_, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "patients", ExternalID: id})
		if e := sdk.AsError(err); e.Code != sdk.CodeDeleteUnsupported || !strings.Contains(e.Message, "status to inactive") {
			t.Errorf("delete a patient: %v", err)
		}
		_, err = cl.EraseRecord(ctxFor(t), conn, sdk.RecordRef{Object: "appointments", ExternalID: id})
		if sdk.CodeOf(err) != sdk.CodeDeleteUnsupported {
			t.Errorf("erase an appointment: %v", err)
		}
		_, err = cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "openappointments"})
		if e := sdk.AsError(err); e.Code != sdk.CodeUnsupported || !strings.Contains(e.Message, "no change feed of open slots") {
			t.Errorf("list open slots: %v", err)
		}
		if len(srv.Patients(fake.PracticeA)) != 1 {
			t.Error("an unsupported verb changed the practice")
		}
	})
	t.Run("Refresh", func(t *testing.T) {
		a, err := cl.Refresh(ctxFor(t), conn)
		if err != nil || a.Secret["access_token"] == "" || a.Secret["access_token"] == conn.Secret["access_token"] {
			t.Errorf("Refresh: %+v, %v", a, err)
		}
	})
	t.Run("Authorize bad input", func(t *testing.T) {
		c := srv.Unissued()
		c.Config["practice_id"] = "not-a-number"
		_, err := cl.Authorize(ctxFor(t), c, sdk.Grant{})
		if e := sdk.AsError(err); e.Code != sdk.CodeInvalid || e.Field != "config.practice_id" {
			t.Errorf("Authorize: %v", err)
		}
	})

	t.Run("Kill", func(t *testing.T) {
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

// TestBinaryKilledDriverIsReaped: a driver killed under the host is
// reaped, and calls to it fail as unavailable wrapping
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
