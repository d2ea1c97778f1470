package toast_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/toast/fake"
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// signed returns req with body replaced and signed again with the fake's
// webhook secret.
func signed(req sdk.WebhookRequest, body []byte) sdk.WebhookRequest {
	req.Body = body
	h := map[string][]string{}
	for k, v := range req.Headers {
		h[k] = v
	}
	h["Toast-Signature"] = []string{fake.Sign(fake.DefaultWebhookSecret, body)}
	req.Headers = h
	return req
}

// rewrite decodes a delivery's body, applies f and encodes it again.
func rewrite(t *testing.T, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyWebhook(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := toast.New()
	conn := s.Connection()
	// The same guest on two checks of the order, and a check without one.
	ada := fake.Customer{GUID: "0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Phone: "4155550123"}
	o := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &ada}, fake.Check{Customer: &ada}, fake.Check{})
	guestID := o.Checks[0].Customer.GUID
	now := time.Now().UTC().Truncate(time.Millisecond)
	req := s.Delivery(fake.RestaurantA, o, now)
	req.Now = now.Add(time.Minute)

	r, err := d.VerifyWebhook(t.Context(), conn, req)
	if err != nil {
		t.Fatal(err)
	}
	var dl struct {
		GUID string `json:"guid"`
	}
	_ = json.Unmarshal(req.Body, &dl)
	want := []sdk.WebhookEvent{
		{ID: dl.GUID, Kind: sdk.EventUpdated, Type: "order_updated", Object: "orders", ExternalID: o.GUID, AccountID: fake.RestaurantA, OccurredAt: now},
		{ID: dl.GUID + ":guest:" + guestID, Kind: sdk.EventUpdated, Type: "order_updated", Object: "guests", CanonicalObject: "customer",
			ExternalID: guestID, AccountID: fake.RestaurantA, OccurredAt: now},
	}
	if d := cmp.Diff(want, r.Events, cmpopts.IgnoreFields(sdk.WebhookEvent{}, "Data")); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if len(r.Events) == 2 && (r.Events[1].Data["email"] != "ada@example.com" || r.Events[0].Data["guid"] != o.GUID) {
		t.Errorf("event data %v / %v", r.Events[0].Data, r.Events[1].Data)
	}

	// Routing: the signed body's restaurant, with only the app credentials.
	rt, err := d.RouteWebhook(t.Context(), sdk.Connection{App: conn.App}, req)
	if err != nil || len(rt.AccountIDs) != 1 || rt.AccountIDs[0] != fake.RestaurantA {
		t.Errorf("RouteWebhook = %+v, %v", rt, err)
	}
	// The other restaurant's connection gets no events.
	if r, err := d.VerifyWebhook(t.Context(), s.OtherConnection(), req); err != nil || len(r.Events) != 0 {
		t.Errorf("for restaurant B: %+v, %v", r, err)
	}

	// A deleted order is a deletion, and its guests are not touched.
	s.DeleteOrder(fake.RestaurantA, o.GUID)
	del := s.Orders(fake.RestaurantA)[0]
	dreq := s.Delivery(fake.RestaurantA, del, now)
	dreq.Now = now
	r, err = d.VerifyWebhook(t.Context(), conn, dreq)
	if err != nil || len(r.Events) != 1 || r.Events[0].Kind != sdk.EventDeleted || r.Events[0].ExternalID != o.GUID {
		t.Errorf("deleted order: %+v, %v", r.Events, err)
	}

	// Another category keeps Toast's event type as its kind.
	other := signed(req, rewrite(t, req.Body, func(m map[string]any) {
		m["eventCategory"], m["eventType"], m["details"] = "stock", "low_quantity", map[string]any{"restaurantGuid": fake.RestaurantA}
	}))
	r, err = d.VerifyWebhook(t.Context(), conn, other)
	if err != nil || len(r.Events) != 1 || r.Events[0].Kind != "low_quantity" || r.Events[0].Object != "stock" {
		t.Errorf("a stock event: %+v, %v", r.Events, err)
	}

	// A timestamp in epoch milliseconds is signed as its digits.
	numeric := signed(req, rewrite(t, req.Body, func(m map[string]any) { m["timestamp"] = now.UnixMilli() }))
	if r, err := d.VerifyWebhook(t.Context(), conn, numeric); err != nil || len(r.Events) != 2 || !r.Events[0].OccurredAt.Equal(now) {
		t.Errorf("numeric timestamp: %+v, %v", r, err)
	}

	noSecret := conn
	noSecret.App = map[string]string{"client_id": "x"}
	_, err = d.VerifyWebhook(t.Context(), noSecret, req)
	wantCode(t, err, sdk.CodeInvalid, "app.webhook_secret")
	_, err = d.RouteWebhook(t.Context(), noSecret, req)
	wantCode(t, err, sdk.CodeAuth, "")
}

func TestWebhookRefused(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := toast.New()
	conn := s.Connection()
	o := s.AddOrder(fake.RestaurantA, fake.Check{Customer: &fake.Customer{FirstName: "Ada", Email: "ada@example.com"}})
	now := time.Now().UTC().Truncate(time.Millisecond)
	good := s.Delivery(fake.RestaurantA, o, now)
	good.Now = now

	at := func(ts time.Time) sdk.WebhookRequest {
		r := s.Delivery(fake.RestaurantA, o, ts)
		r.Now = now
		return r
	}
	header := func(name, v string) sdk.WebhookRequest {
		r := good
		r.Headers = map[string][]string{}
		for k, x := range good.Headers {
			if !strings.EqualFold(k, name) {
				r.Headers[k] = x
			}
		}
		if v == "" {
			delete(r.Headers, name)
		} else {
			r.Headers[name] = []string{v}
		}
		return r
	}
	tampered := good
	tampered.Body = bytes.Replace(good.Body, []byte(o.GUID), []byte(strings.Repeat("0", 36)), 1)
	otherSecret := good
	otherSecret.Headers = map[string][]string{"Toast-Signature": {fake.Sign("another-secret", good.Body)}, "Toast-Restaurant-External-ID": {fake.RestaurantA}}
	noTimestamp := signed(good, rewrite(t, good.Body, func(m map[string]any) { delete(m, "timestamp") }))
	badTimestamp := signed(good, rewrite(t, good.Body, func(m map[string]any) { m["timestamp"] = "yesterday" }))
	rerouted := header("Toast-Restaurant-External-ID", fake.RestaurantB)

	for name, req := range map[string]sdk.WebhookRequest{
		"tampered body":                   tampered,
		"signed with another secret":      otherSecret,
		"no signature":                    header("Toast-Signature", ""),
		"signature not base64":            header("Toast-Signature", "%%%"),
		"16 minutes old":                  at(now.Add(-16 * time.Minute)),
		"6 minutes ahead":                 at(now.Add(6 * time.Minute)),
		"no timestamp":                    noTimestamp,
		"timestamp that is not a time":    badTimestamp,
		"header names another restaurant": rerouted,
		"not JSON":                        signed(good, []byte("hello")),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := d.VerifyWebhook(t.Context(), conn, req)
			e := wantCode(t, err, sdk.CodeAuth, "")
			if strings.Contains(e.Error(), fake.DefaultWebhookSecret) || strings.Contains(e.Error(), fake.Sign(fake.DefaultWebhookSecret, req.Body)) {
				t.Errorf("the error leaks the secret or the expected signature: %v", e)
			}
			_, err = d.RouteWebhook(t.Context(), sdk.Connection{App: conn.App}, req)
			wantCode(t, err, sdk.CodeAuth, "")
		})
	}
	// Toast retries a failed delivery after 5 and 10 minutes with the same
	// body: still accepted.
	if _, err := d.VerifyWebhook(t.Context(), conn, at(now.Add(-10*time.Minute-30*time.Second))); err != nil {
		t.Errorf("a retry 10 minutes on: %v", err)
	}
	// Without a restaurant in the body, the header routes.
	headerOnly := signed(good, rewrite(t, good.Body, func(m map[string]any) { delete(m["details"].(map[string]any), "restaurantGuid") }))
	if rt, err := d.RouteWebhook(t.Context(), sdk.Connection{App: conn.App}, headerOnly); err != nil || len(rt.AccountIDs) != 1 || rt.AccountIDs[0] != fake.RestaurantA {
		t.Errorf("routed by header: %+v, %v", rt, err)
	}
	nowhere := header("Toast-Restaurant-External-ID", "")
	nowhere = signed(nowhere, headerOnly.Body)
	_, err := d.RouteWebhook(t.Context(), sdk.Connection{App: conn.App}, nowhere)
	wantCode(t, err, sdk.CodeInvalid, "body")
}

// FuzzVerifyWebhook checks that no body or signature makes the driver
// panic, and that only a correctly signed body verifies.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2026-03-01T12:00:00.000Z","eventType":"order_updated","guid":"g","details":{"order":{"guid":"o"}}}`), "sig")
	f.Add([]byte(`{"timestamp":1,"details":[]}`), "")
	f.Add([]byte(`[]`), "AAAA")
	d := toast.New()
	conn := sdk.Connection{Config: map[string]string{"restaurant_guid": fake.RestaurantA}, App: map[string]string{"webhook_secret": fake.DefaultWebhookSecret}}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		req := sdk.WebhookRequest{Method: "POST", Body: body, Headers: map[string][]string{"Toast-Signature": {sig}}}
		if _, err := d.VerifyWebhook(t.Context(), conn, req); err == nil && sig != fake.Sign(fake.DefaultWebhookSecret, body) {
			t.Fatalf("verified with a wrong signature %q", sig)
		}
		_, _ = d.RouteWebhook(t.Context(), conn, req)
	})
}
