package e2e_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/plugins/hubspot/fake"
)

// TestHubSpotWebhookRouting: HubSpot sends every portal's events to the
// app's one URL (/webhooks/hubspot). The driver verifies the v3
// signature with the app's client secret and names the portal; the host
// routes the delivery to the tenant connected to that portal, among
// several, without the caller naming a tenant. Tampered, stale, unknown
// and legacy-signed deliveries are refused.
func TestHubSpotWebhookRouting(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/hubspot/app-credentials", map[string]any{"values": map[string]string{
		"client_id": fake.DefaultClientID, "client_secret": fake.DefaultClientSecret}}), http.StatusOK)
	portalA, portalB := h.fake.Connection(), h.fake.OtherConnection()
	tenants := map[string]string{}
	for name, conn := range map[string]struct {
		creds   map[string]string
		account string
	}{"A": {dev.Credentials(portalA), portalA.AccountID}, "B": {dev.Credentials(portalB), portalB.AccountID}} {
		id := h.createTenant(t, "Webhook "+name)
		res := decode[connectResult](t, h.connect(t, id, conn.creds), http.StatusOK)
		if !res.Test.OK || res.Connection.AccountID != conn.account {
			t.Fatalf("tenant %s: connect = %+v, want active with portal %s", name, res, conn.account)
		}
		tenants[name] = id
	}

	deliver := func(t *testing.T, portal string, at time.Time, secret string, tamper bool) response {
		t.Helper()
		body := []byte(`[{"eventId":` + strconv.FormatInt(at.UnixNano()%1e9, 10) + `,"subscriptionId":1,"portalId":` + portal +
			`,"appId":111111,"occurredAt":` + strconv.FormatInt(at.UnixMilli(), 10) + `,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":1001}]`)
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		sig := fake.SignV3(secret, http.MethodPost, h.URL+"/webhooks/hubspot", body, ts)
		if tamper {
			body = bytes.Replace(body, []byte("creation"), []byte("deletion"), 1)
		}
		return h.send(t, request{method: http.MethodPost, path: "/webhooks/hubspot", body: body, header: http.Header{
			"Content-Type": {"application/json"}, "X-Hubspot-Signature-V3": {sig}, "X-Hubspot-Request-Timestamp": {ts}}})
	}
	received := func(tenant string) int {
		page := decode[struct {
			Entries []struct{ Action, Outcome string } `json:"entries"`
		}](t, h.op(t, http.MethodGet, "/tenants/"+tenant+"/audit?action=webhook.receive", nil), http.StatusOK)
		n := 0
		for _, e := range page.Entries {
			if e.Action == "webhook.receive" && e.Outcome == "ok" {
				n++
			}
		}
		return n
	}

	r := decode[map[string]any](t, deliver(t, portalB.AccountID, time.Now(), fake.DefaultClientSecret, false), http.StatusOK)
	if r["received"] != 1.0 || r["tenants"] != 1.0 {
		t.Errorf("delivery for portal B = %v, want 1 event for 1 tenant", r)
	}
	if a, b := received(tenants["A"]), received(tenants["B"]); a != 0 || b != 1 {
		t.Errorf("deliveries received: tenant A %d, tenant B %d; want only B", a, b)
	}

	wantProblem(t, deliver(t, portalA.AccountID, time.Now(), fake.DefaultClientSecret, true), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, deliver(t, portalA.AccountID, time.Now().Add(-10*time.Minute), fake.DefaultClientSecret, false), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, deliver(t, portalA.AccountID, time.Now(), "not-the-app-secret", false), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, deliver(t, "999999", time.Now(), fake.DefaultClientSecret, false), http.StatusNotFound, "not_found")
	if a := received(tenants["A"]); a != 0 {
		t.Errorf("refused deliveries reached tenant A (%d receipts)", a)
	}
}
