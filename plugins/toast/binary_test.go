package main_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// TestBinary launches the built crm-driver-toast the way the host does
// (go-plugin, AutoMTLS, checksum verified) and calls every verb of the
// contract over that process against the fake Toast.
func TestBinary(t *testing.T) {
	p, err := launch(pluginSum, testLogger(t))
	if err != nil {
		t.Fatalf("launch %s: %v", pluginBin, err)
	}
	t.Cleanup(p.pc.Kill)
	cl := p.cl
	srv := fake.New(t, fake.Options{PageSize: 2})
	conn := srv.Connection()
	ada := fake.Customer{FirstName: "Ada", LastName: "Lovelace", Email: "Ada.Lovelace@Example.com", Phone: "4155550123", PhoneCountryCode: "1"}
	order := srv.AddOrder(fake.RestaurantA, fake.Check{Customer: &ada, TotalAmount: 42})
	id := order.Checks[0].Customer.GUID
	srv.AddOrder(fake.RestaurantA, fake.Check{Customer: &fake.Customer{FirstName: "Grace", Email: "grace@example.com"}})
	srv.AddOrder(fake.RestaurantA, fake.Check{})

	t.Run("transport", func(t *testing.T) {
		if cfg := sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: pluginSum}); !cfg.AutoMTLS || cfg.SecureConfig == nil {
			t.Fatalf("sdk.NewClientConfig: AutoMTLS %t, SecureConfig %v", cfg.AutoMTLS, cfg.SecureConfig)
		}
		if v := cl.ProtocolVersion(); v != sdk.ProtocolVersion {
			t.Errorf("negotiated protocol %d, want %d", v, sdk.ProtocolVersion)
		}
		if err := cl.Ping(); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("Describe", func(t *testing.T) {
		d, err := cl.Describe(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		want := sdk.Capabilities{Authorize: true, Refresh: true, VerifyWebhook: true, RouteWebhook: true}
		if d.Capabilities != want {
			t.Errorf("capabilities = %+v, want %+v", d.Capabilities, want)
		}
		if d.Slug != "toast" || d.Auth.Kind != sdk.AuthClientCredentials || d.Webhook.Scheme != "toast" {
			t.Errorf("slug %q, auth %q, webhook %q", d.Slug, d.Auth.Kind, d.Webhook.Scheme)
		}
	})

	t.Run("TestConnection", func(t *testing.T) {
		r, err := cl.TestConnection(ctxFor(t), conn)
		if err != nil || !r.OK || r.AccountID != fake.RestaurantA {
			t.Errorf("good connection: %+v, %v", r, err)
		}
		notGUID := conn
		notGUID.Config = map[string]string{"base_url": srv.URL, "restaurant_guid": "Main Street"}
		r, err = cl.TestConnection(ctxFor(t), notGUID)
		if err != nil || r.OK || !strings.Contains(r.Reason, "not a Toast restaurant GUID") {
			t.Errorf("a restaurant GUID that is not one: %+v, %v", r, err)
		}
		bad := srv.BadConnection()
		r, err = cl.TestConnection(ctxFor(t), bad)
		if err != nil || r.OK || r.Reason == "" || strings.Contains(r.Reason, bad.Secret["access_token"]) {
			t.Errorf("bad connection: %+v, %v; want OK false with a reason that holds no token", r, err)
		}
	})

	t.Run("Authorize and credential updates", func(t *testing.T) {
		a, err := cl.Authorize(ctxFor(t), srv.StandardConnection(), sdk.Grant{})
		if err != nil || a.AccountID != fake.RestaurantA || a.Secret["access_token"] == "" || a.Secret["client_secret"] != fake.DefaultStandardSecret {
			t.Errorf("Authorize with standard access: account %q, token %t, own secret kept %t, %v",
				a.AccountID, a.Secret["access_token"] != "", a.Secret["client_secret"] == fake.DefaultStandardSecret, err)
		}
		// A call without a token hands the one it obtained back through
		// the plugin boundary.
		ctx, update := sdk.CaptureCredentialUpdate(ctxFor(t))
		if _, err := cl.LookupCustomer(ctx, srv.Unissued(), sdk.LookupQuery{Email: "nobody@example.com"}); err != nil {
			t.Fatal(err)
		}
		u := update()
		if u == nil || u.Secret["access_token"] == "" || u.ExpiresAt.IsZero() {
			t.Fatalf("credential update = %+v, want the token and its expiry", u)
		}
		r, err := cl.Refresh(ctxFor(t), u.Apply(srv.Unissued()))
		if err != nil || r.Secret["access_token"] == "" || r.Secret["access_token"] == u.Secret["access_token"] {
			t.Errorf("Refresh: %+v, %v; want a new token", r, err)
		}
	})

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
			if r.Customer == nil || r.Customer.ExternalID != id || r.MatchCount != 1 || r.Customer.Fields["lastName"] != "Lovelace" {
				t.Errorf("by %s: %+v, want guest %s with 1 match", name, r, id)
			}
		}
		r, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Email: "nobody@example.com"})
		if err != nil || r.Customer != nil || r.MatchCount != 0 {
			t.Errorf("no match: %+v, %v; want none without error", r, err)
		}
	})

	t.Run("ListRecent", func(t *testing.T) {
		lr, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "guests", Since: time.Now().Add(-time.Hour), Limit: 10})
		if err != nil || len(lr.Records) != 2 || (lr.Records[0].ExternalID != id && lr.Records[1].ExternalID != id) || lr.NextCursor == "" {
			t.Fatalf("guests: %+v, %v; want Ada and Grace and a cursor", lr, err)
		}
		srv.DeleteOrder(fake.RestaurantA, order.GUID)
		lr, err = cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "orders", Limit: 10})
		if err != nil || len(lr.Records) != 2 || len(lr.Tombstones) != 1 || lr.Tombstones[0].ExternalID != order.GUID {
			t.Errorf("orders: %+v, %v; want 2 orders and a tombstone", lr, err)
		}
	})

	t.Run("unsupported verbs", func(t *testing.T) {
		_, err := cl.CreateRecord(ctxFor(t), conn, sdk.CreateInput{Object: "guests", Fields: map[string]any{"firstName": "X"}})
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeUnsupported || !strings.Contains(e.Message, "Toast has no API that creates a guest") {
			t.Errorf("create a guest: %v", err)
		}
		_, err = cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "guests", ExternalID: id})
		if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeDeleteUnsupported || !strings.Contains(e.Message, "Toast cannot delete guests") {
			t.Errorf("delete a guest: %v", err)
		}
		_, err = cl.SearchRecords(ctxFor(t), conn, sdk.SearchQuery{Object: "orders", Query: "x"})
		if sdk.CodeOf(err) != sdk.CodeUnsupported {
			t.Errorf("search orders: %v", err)
		}
	})

	t.Run("webhooks", func(t *testing.T) {
		o := srv.AddOrder(fake.RestaurantA, fake.Check{Customer: &fake.Customer{FirstName: "Hook", Email: "hook@example.com"}})
		req := srv.Delivery(fake.RestaurantA, o, time.Now())
		rt, err := cl.RouteWebhook(ctxFor(t), sdk.Connection{App: conn.App}, req)
		if err != nil || len(rt.AccountIDs) != 1 || rt.AccountIDs[0] != fake.RestaurantA {
			t.Errorf("route: %+v, %v", rt, err)
		}
		res, err := cl.VerifyWebhook(ctxFor(t), conn, req)
		if err != nil || len(res.Events) != 2 || res.Events[1].ExternalID != o.Checks[0].Customer.GUID {
			t.Errorf("verify: %+v, %v; want the order's and its guest's events", res, err)
		}
		tampered := req
		tampered.Body = bytes.Replace(req.Body, []byte("Hook"), []byte("Hack"), 1)
		if _, err := cl.VerifyWebhook(ctxFor(t), conn, tampered); sdk.CodeOf(err) != sdk.CodeAuth {
			t.Errorf("tampered: %v; want auth_error", err)
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

// TestBinaryKilledDriverIsReaped: a driver that dies under the host (here
// SIGKILL) is reaped by go-plugin, and calls to it fail as unavailable
// wrapping sdk.ErrDriverUnavailable.
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
