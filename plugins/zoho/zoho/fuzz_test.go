package zoho_test

import (
	"testing"

	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
)

// FuzzWebhook: whatever arrives at the notification URL, routing and
// verification answer a typed error or a verified result, never a panic,
// and accept only a token made with the app's secret.
func FuzzWebhook(f *testing.F) {
	const secret = "fuzz-webhook-secret-0123456789"
	tok, err := zoho.ChannelToken(secret, "60012345678", "1000000068001")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"server_time":1750000000000,"module":"Leads","ids":["1"],"operation":"update","channel_id":1000000068001,"token":"` + tok + `"}`))
	f.Add([]byte(`{"channel_id":"1000000068001","token":"60012345678.x","ids":[1,2]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"token":null}`))
	d := zoho.New()
	conn := sdk.Connection{App: map[string]string{"webhook_secret": secret}, AccountID: "60012345678"}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := sdk.WebhookRequest{Method: "POST", URL: "https://crmhost.example/webhooks/zoho", Body: body}
		route, rerr := d.RouteWebhook(t.Context(), conn, req)
		res, verr := d.VerifyWebhook(t.Context(), conn, req)
		for _, err := range []error{rerr, verr} {
			if err != nil && sdk.CodeOf(err) != sdk.CodeAuth && sdk.CodeOf(err) != sdk.CodeInvalid {
				t.Fatalf("error %v, want auth_error or invalid", err)
			}
		}
		if (rerr == nil) != (verr == nil) {
			t.Fatalf("route and verify disagree: %v, %v", rerr, verr)
		}
		if rerr == nil && (len(route.AccountIDs) != 1 || route.AccountIDs[0] != "60012345678") {
			t.Fatalf("a delivery routed to %v without the account's token", route.AccountIDs)
		}
		for _, ev := range res.Events {
			if ev.AccountID != "60012345678" || ev.ID == "" {
				t.Fatalf("event %+v", ev)
			}
		}
	})
}
