package salesforce_test

import (
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/fake"
	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk"
)

func TestOutboundMessages(t *testing.T) {
	srv := fake.New(t, fake.Options{})
	d := salesforce.New()
	conn := srv.Connection()
	id := create(t, d, conn, "Contact", map[string]any{"LastName": "Hooked", "Email": "hook@example.com"}, "")
	req, err := srv.OutboundMessage(fake.OrgA, "00D!session-that-must-not-leak", id)
	if err != nil {
		t.Fatal(err)
	}
	route := must[sdk.WebhookRoute](t)(d.RouteWebhook(ctx(t), sdk.Connection{App: srv.App()}, req))
	if len(route.AccountIDs) != 1 || route.AccountIDs[0] != fake.OrgA {
		t.Fatalf("routed to %v, want %s", route.AccountIDs, fake.OrgA)
	}
	res := must[sdk.WebhookResult](t)(d.VerifyWebhook(ctx(t), conn, req))
	if len(res.Events) != 1 {
		t.Fatalf("%d events", len(res.Events))
	}
	ev := res.Events[0]
	if ev.ExternalID != id || ev.Object != "Contact" || ev.CanonicalObject != sdk.ObjectCustomer || ev.Kind != sdk.EventCreated ||
		ev.AccountID != fake.OrgA || !strings.HasPrefix(ev.ID, "04l") || ev.OccurredAt.IsZero() || ev.Data["Email"] != "hook@example.com" {
		t.Fatalf("event %+v", ev)
	}
	for k, v := range ev.Data {
		if s, _ := v.(string); strings.Contains(s, "session-that-must-not-leak") {
			t.Fatalf("the session id reached the event's %s", k)
		}
	}
	if res.Reply == nil || !strings.Contains(string(res.Reply.Body), "<Ack>true</Ack>") ||
		!strings.HasPrefix(res.Reply.Header["Content-Type"][0], "text/xml") {
		t.Fatalf("reply %+v, want the SOAP acknowledgement", res.Reply)
	}
	// A later change of the same record is an update, with a new id.
	time.Sleep(2 * time.Millisecond)
	must[sdk.UpdateResult](t)(d.UpdateRecord(ctx(t), conn, sdk.UpdateInput{Object: "Contact", ExternalID: id, Fields: map[string]any{"Title": "CTO"}}))
	upd := srv.Webhook(t, conn, id, time.Now())
	again := must[sdk.WebhookResult](t)(d.VerifyWebhook(ctx(t), conn, upd))
	if len(again.Events) != 1 || again.Events[0].Kind != sdk.EventUpdated || again.Events[0].ID == ev.ID {
		t.Fatalf("update event %+v", again.Events)
	}

	// Another org's message is not this connection's.
	other := must[sdk.WebhookResult](t)(d.VerifyWebhook(ctx(t), srv.OtherConnection(), req))
	if len(other.Events) != 0 || other.Reply != nil {
		t.Fatalf("org B accepted org A's message: %+v", other)
	}
	unknown := srv.Connection()
	unknown.AccountID = ""
	_, err = d.VerifyWebhook(ctx(t), unknown, req)
	wantCode(t, err, sdk.CodeAuth, "")
	tampered := strings.Replace(string(req.Body), "<sf:Id>"+id, "<sf:Id>9"+id, 1)
	_, err = d.VerifyWebhook(ctx(t), conn, sdk.WebhookRequest{Method: "POST", Body: []byte(tampered)})
	wantCode(t, err, sdk.CodeInvalid, "body")
	for _, body := range []string{"", "<xml/>", `{"OrganizationId":"00D"}`,
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>nope</OrganizationId></notifications></soapenv:Body></soapenv:Envelope>`} {
		_, err := d.RouteWebhook(ctx(t), sdk.Connection{}, sdk.WebhookRequest{Method: "POST", Body: []byte(body)})
		wantCode(t, err, sdk.CodeInvalid, "body")
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D5g000001AcmeAAA</OrganizationId><Notification><Id>04l5g0000000001AAA</Id><sObject xsi:type="sf:Contact" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sf:Id xmlns:sf="urn:x">0035g00000000G9AAI</sf:Id></sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>`))
	d := salesforce.New()
	conn := sdk.Connection{AccountID: "00D5g000001AcmeAAA"}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := d.VerifyWebhook(t.Context(), conn, sdk.WebhookRequest{Method: "POST", Body: body})
		if err != nil && sdk.CodeOf(err) != sdk.CodeInvalid {
			t.Fatalf("error code %s: %v", sdk.CodeOf(err), err)
		}
		for _, ev := range res.Events {
			if ev.ID == "" {
				t.Fatal("an event without an id")
			}
		}
	})
}
