package mindbody_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"crmhost.dev/plugins/mindbody/fake"
	"crmhost.dev/sdk"
)

func TestWebhooks(t *testing.T) {
	e := setup(t, fake.Options{})
	connA, connB := e.srv.Connection(), e.srv.OtherConnection()
	connA.AccountID = "555001"
	app := sdk.Connection{App: connA.App} // routing sees only the app credentials
	now := e.clk.Now()
	id := e.srv.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace"})
	req := e.srv.Webhook(t, connA, id, now)

	route := ok[sdk.WebhookRoute](t)(e.cl.RouteWebhook(ctx(t), app, req))
	if !cmp.Equal(route.AccountIDs, []string{"555001"}) || route.Reply != nil {
		t.Errorf("route = %+v, want site 555001", route)
	}
	res := ok[sdk.WebhookResult](t)(e.cl.VerifyWebhook(ctx(t), connA, req))
	if len(res.Events) != 1 {
		t.Fatalf("events = %+v", res.Events)
	}
	ev := res.Events[0]
	want := sdk.WebhookEvent{Kind: sdk.EventUpdated, Type: "client.updated", Object: "clients", CanonicalObject: "customer",
		ExternalID: id, AccountID: "555001", OccurredAt: now}
	if diff := cmp.Diff(want, ev, cmpopts.IgnoreFields(sdk.WebhookEvent{}, "ID", "Data")); diff != "" || ev.ID == "" {
		t.Errorf("event (-want +got):\n%s (id %q)", diff, ev.ID)
	}
	// Another site's connection sees no event in it.
	if res := ok[sdk.WebhookResult](t)(e.cl.VerifyWebhook(ctx(t), connB, req)); len(res.Events) != 0 {
		t.Errorf("site B got site A's events: %+v", res.Events)
	}

	tampered := req
	tampered.Body = bytes.Replace(req.Body, []byte(id), []byte("100000999"), 1)
	wrongKey := connA
	wrongKey.App = map[string]string{"webhook_signature_key": "another-key-entirely"}
	noKey := connA
	noKey.App = map[string]string{}
	unsigned := req
	unsigned.Headers = map[string][]string{"Content-Type": {"application/json"}}
	hexSig := req
	hexSig.Headers = map[string][]string{fake.SignatureHeader: {"abc123"}}
	stale := e.srv.Webhook(t, connA, id, now.Add(-25*time.Hour))
	stale.Now = now
	for name, tc := range map[string]struct {
		conn sdk.Connection
		req  sdk.WebhookRequest
	}{
		"tampered body": {connA, tampered}, "wrong key": {wrongKey, req}, "no key": {noKey, req},
		"unsigned": {connA, unsigned}, "malformed signature": {connA, hexSig}, "a day old": {connA, stale},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.cl.VerifyWebhook(ctx(t), tc.conn, tc.req)
			msg := wantCode(t, err, sdk.CodeAuth, "").Message
			if strings.Contains(msg, fake.DefaultSignatureKey) {
				t.Errorf("message holds the key: %s", msg)
			}
			_, err = e.cl.RouteWebhook(ctx(t), sdk.Connection{App: tc.conn.App}, tc.req)
			wantCode(t, err, sdk.CodeAuth, "")
		})
	}

	// Mindbody's HEAD validation is answered 200 without a signature.
	head := sdk.WebhookRequest{Method: http.MethodHead, URL: req.URL}
	if r := ok[sdk.WebhookRoute](t)(e.cl.RouteWebhook(ctx(t), app, head)); r.Reply == nil || r.Reply.Status != http.StatusOK {
		t.Errorf("HEAD route = %+v", r)
	}

	// Bookings: the appointment and "<class>:<visit>" ids, canonical kinds.
	for _, tc := range []struct {
		event, object, kind, external string
		data                          map[string]any
	}{
		{"appointmentBooking.cancelled", "appointments", sdk.EventUpdated, "30001", map[string]any{"appointmentId": 30001}},
		{"classRosterBooking.created", "class_bookings", sdk.EventCreated, "1000:800001", map[string]any{"classId": 1000, "classRosterBookingId": 800001}},
		{"client.deactivated", "clients", sdk.EventDeleted, id, map[string]any{"clientId": id}},
		{"site.updated", "site", "site.updated", "", map[string]any{}},
	} {
		res := ok[sdk.WebhookResult](t)(e.cl.VerifyWebhook(ctx(t), connA, e.srv.Delivery(fake.SiteA, tc.event, tc.data, now)))
		if len(res.Events) != 1 || res.Events[0].Object != tc.object || res.Events[0].Kind != tc.kind || res.Events[0].ExternalID != tc.external {
			t.Errorf("%s: %+v", tc.event, res.Events)
		}
	}
	bad := e.srv.Delivery(fake.SiteA, "client.updated", nil, now)
	bad.Body = []byte(`not json`)
	bad.Headers = map[string][]string{fake.SignatureHeader: {fake.Sign(fake.DefaultSignatureKey, bad.Body)}}
	_, err := e.cl.VerifyWebhook(ctx(t), connA, bad)
	wantCode(t, err, sdk.CodeInvalid, "body")
}
