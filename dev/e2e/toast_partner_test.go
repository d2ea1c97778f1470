package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	toast "crmhost.dev/plugins/toast/fake"
	"crmhost.dev/sdk"
)

// TestToast runs the Toast driver through the host over real HTTP with
// the platform's partner credentials: the operator stores them once as
// the driver's app credentials, a tenant connects with nothing but its
// restaurant GUID (the driver logs in, the host stores the token, sealed,
// and records the restaurant as the account), and the agent's lookup
// finds a guest from the restaurant's orders with the stored token. When
// Toast revokes the token, the host refreshes it once and the call still
// answers. Orders webhooks sent to the platform's one URL reach the
// tenant of their restaurant only; forged ones are refused. A restaurant
// GUID that is not one fails the connection with the driver's reason.
func TestToast(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	f, err := toast.Start(toast.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	sum, err := sdk.FileSHA256(toastBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RegisterDriver(context.Background(), host.DriverEntry{Slug: "toast", Version: "e2e", Command: toastBinary,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil {
		t.Fatal(err)
	}
	app := map[string]any{"values": map[string]string{"client_id": toast.DefaultClientID, "client_secret": toast.DefaultClientSecret,
		"webhook_secret": toast.DefaultWebhookSecret}}
	decode[map[string]any](t, h.op(t, http.MethodPut, "/drivers/toast/app-credentials", app), http.StatusOK)
	connect := func(tenant, restaurant string) connectResult {
		t.Helper()
		return decode[connectResult](t, h.op(t, http.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "toast",
			"credentials": map[string]string{"restaurant_guid": restaurant, "base_url": f.URL, "default_region": "US"}}), http.StatusOK)
	}

	bistro := h.createTenant(t, "Fake Bistro")
	res := connect(bistro, toast.RestaurantA)
	if res.Connection.Status != "active" || !res.Test.OK || res.Connection.AccountID != toast.RestaurantA {
		t.Fatalf("connect: %+v; want active, account %s", res, toast.RestaurantA)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued while connecting: %d, want 1", n)
	}
	diner := h.createTenant(t, "Fake Diner")
	if res := connect(diner, toast.RestaurantB); res.Connection.Status != "active" {
		t.Fatalf("connect the diner: %+v", res)
	}

	ada := toast.Customer{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Phone: "4155550123", PhoneCountryCode: "1"}
	order := f.AddOrder(toast.RestaurantA, toast.Check{Customer: &ada, TotalAmount: 42})
	token := h.agentToken(t, bistro, "conv-toast-1")
	lookup := func() lookupResult {
		t.Helper()
		return decode[lookupResult](t, h.tool(t, token, "crm_lookup_customer", map[string]string{"phone": "(415) 555-0123"}), http.StatusOK)
	}
	got := lookup()
	if got.Customer == nil || got.Customer.ExternalID != order.Checks[0].Customer.GUID || got.MatchCount != 1 {
		t.Fatalf("lookup: %+v, want guest %s", got, order.Checks[0].Customer.GUID)
	}
	if fl := got.Customer.Fields; fl["first_name"] != "Ada" || fl["last_name"] != "Lovelace" || fl["email"] != "ada@example.com" {
		t.Errorf("lookup fields %v", fl)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Errorf("tokens issued after the tool ran: %d, want still 1 (the stored token)", n)
	}
	// The diner's agent does not see the bistro's guest.
	if got := decode[lookupResult](t, h.tool(t, h.agentToken(t, diner, "conv-toast-2"), "crm_lookup_customer",
		map[string]string{"phone": "(415) 555-0123"}), http.StatusOK); got.Customer != nil {
		t.Errorf("the diner found the bistro's guest: %+v", got)
	}

	f.Revoke()
	if got := lookup(); got.Customer == nil || got.Customer.ExternalID != order.Checks[0].Customer.GUID {
		t.Fatalf("lookup after Toast revoked the token: %+v", got)
	}
	if n := f.TokensIssued(); n < 2 {
		t.Errorf("tokens issued after the revocation: %d, want a new one", n)
	}

	// Webhooks: one URL for every restaurant, routed by the signed body's
	// restaurant.
	deliver := func(req sdk.WebhookRequest) response {
		t.Helper()
		hdr := http.Header{}
		for k, v := range req.Headers {
			hdr[k] = v
		}
		return h.send(t, request{method: http.MethodPost, path: "/webhooks/toast", body: req.Body, header: hdr})
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
	r := decode[map[string]any](t, deliver(f.Delivery(toast.RestaurantA, order, time.Now())), http.StatusOK)
	if r["tenants"] != 1.0 || r["received"] != 2.0 {
		t.Errorf("delivery for the bistro = %v, want 2 events (the order, its guest) for 1 tenant", r)
	}
	if a, b := received(bistro), received(diner); a != 1 || b != 0 {
		t.Errorf("deliveries received: bistro %d, diner %d; want only the bistro", a, b)
	}
	tampered := f.Delivery(toast.RestaurantA, order, time.Now())
	tampered.Body = bytes.Replace(tampered.Body, []byte("Lovelace"), []byte("Lovelock"), 1)
	wantProblem(t, deliver(tampered), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, deliver(f.Delivery(toast.RestaurantA, order, time.Now().Add(-time.Hour))), http.StatusUnauthorized, "unauthenticated")
	rerouted := f.Delivery(toast.RestaurantA, order, time.Now())
	rerouted.Headers["Toast-Restaurant-External-Id"] = []string{toast.RestaurantB}
	wantProblem(t, deliver(rerouted), http.StatusUnauthorized, "unauthenticated")
	if a, b := received(bistro), received(diner); a != 1 || b != 0 {
		t.Errorf("refused deliveries were received: bistro %d, diner %d", a, b)
	}

	other := h.createTenant(t, "Not A GUID")
	res = connect(other, "Main Street Bistro")
	if res.Connection.Status != "failed" || !strings.Contains(res.Test.Reason, "not a Toast restaurant GUID") {
		t.Errorf("connect with a restaurant name for a GUID: %+v; want failed with the driver's reason", res)
	}
}
