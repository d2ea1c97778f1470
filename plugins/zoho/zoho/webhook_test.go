package zoho_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/zoho/fake"
	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
)

const notifyURL = "https://crmhost.example/webhooks/zoho"

// watched connects org A with a notification URL, opens its channel
// through TestConnection and returns the connection with the credential
// update applied.
func watched(t *testing.T, s *fake.Server, d *zoho.Driver) sdk.Connection {
	t.Helper()
	conn := s.Connection()
	conn.Config["webhook_url"] = notifyURL
	c, updates := ctx(t)
	r, err := d.TestConnection(c, conn)
	if err != nil || !r.OK || r.Reason != "" {
		t.Fatalf("TestConnection = %+v, %v", r, err)
	}
	u := updates()
	if u == nil || u.Config["watch_channel_id"] == "" || u.Config["watch_expires_at"] == "" {
		t.Fatalf("no channel recorded through a credential update: %+v", u)
	}
	return u.Apply(conn)
}

func TestWatchChannel(t *testing.T) {
	clk := newClock()
	s := fake.New(t, fake.Options{Now: clk.Now})
	d := zoho.New()
	d.SetClock(clk.Now)
	conn := watched(t, s, d)

	chans := s.Channels(fake.OrgA)
	ch, ok := chans[conn.Config["watch_channel_id"]]
	if !ok || len(chans) != 1 {
		t.Fatalf("channels %v, want the recorded one", chans)
	}
	if len(ch.Token) > 50 || !strings.HasPrefix(ch.Token, conn.AccountID+".") || ch.NotifyURL != notifyURL {
		t.Errorf("channel token %q (%d chars) notify %q", ch.Token, len(ch.Token), ch.NotifyURL)
	}
	if strings.Contains(ch.Token, fake.DefaultWebhookSecret) {
		t.Error("the token carries the secret")
	}

	// Far from expiry: no renewal.
	if _, err := d.TestConnection(bg(t), conn); err != nil {
		t.Fatal(err)
	}
	if n := countWatch(s); n != 1 {
		t.Fatalf("%d watch requests, want 1 (no renewal far from expiry)", n)
	}

	// Within the renewal margin: the next ListRecent renews (PATCH) and
	// records the new expiry.
	clk.Advance(16 * time.Hour)
	c, updates := ctx(t)
	if _, err := d.ListRecent(c, conn, sdk.ListQuery{Object: "Contacts", Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if n := len(requests(s, http.MethodPatch, "/actions/watch")); n != 1 {
		t.Fatalf("%d PATCH /actions/watch, want 1 renewal", n)
	}
	u := updates()
	if u == nil || u.Config["watch_channel_id"] != conn.Config["watch_channel_id"] || u.Config["watch_expires_at"] <= conn.Config["watch_expires_at"] {
		t.Fatalf("renewal update %+v, want the same channel with a later expiry than %s", u, conn.Config["watch_expires_at"])
	}
	if exp := s.Channels(fake.OrgA)[conn.Config["watch_channel_id"]].Expiry; !exp.After(clk.Now().Add(20 * time.Hour)) {
		t.Errorf("the channel expires at %v, not renewed", exp)
	}

	// Without the app's webhook_secret no channel can be opened, said so.
	noSecret := s.Connection()
	noSecret.Config["webhook_url"] = notifyURL
	delete(noSecret.App, "webhook_secret")
	r, err := d.TestConnection(bg(t), noSecret)
	if err != nil || !r.OK || !strings.Contains(r.Reason, "webhook_secret") {
		t.Fatalf("TestConnection without a webhook secret = %+v, %v; want OK with a reason naming webhook_secret", r, err)
	}
}

func countWatch(s *fake.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/actions/watch") {
			n++
		}
	}
	return n
}

func TestWebhookRouteAndVerify(t *testing.T) {
	s := fake.New(t, fake.Options{})
	d := zoho.New()
	conn := watched(t, s, d)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	req := s.Webhook(t, conn, "5725767000000400123", at)
	app := sdk.Connection{App: conn.App}

	route, err := d.RouteWebhook(bg(t), app, req)
	if err != nil || len(route.AccountIDs) != 1 || route.AccountIDs[0] != conn.AccountID {
		t.Fatalf("route = %+v, %v; want account %s", route, err, conn.AccountID)
	}
	res, err := d.VerifyWebhook(bg(t), conn, req)
	if err != nil || len(res.Events) != 1 || res.Reply != nil {
		t.Fatalf("verify = %+v, %v", res, err)
	}
	ev := res.Events[0]
	if ev.Kind != sdk.EventUpdated || ev.Object != "Contacts" || ev.CanonicalObject != sdk.ObjectCustomer ||
		ev.ExternalID != "5725767000000400123" || !ev.OccurredAt.Equal(at) || ev.AccountID != conn.AccountID || ev.ID == "" {
		t.Errorf("event %+v", ev)
	}
	// The same delivery again has the same dedupe id.
	again, _ := d.VerifyWebhook(bg(t), conn, req)
	if again.Events[0].ID != ev.ID {
		t.Errorf("dedupe ids differ: %s, %s", ev.ID, again.Events[0].ID)
	}

	// Another org's connection gets no events from this delivery.
	if res, err := d.VerifyWebhook(bg(t), s.OtherConnection(), req); err != nil || len(res.Events) != 0 {
		t.Errorf("org B verify = %+v, %v; want no events", res, err)
	}

	bad := []struct {
		name string
		edit func(body string) string
		app  map[string]string
		code sdk.Code
	}{
		{"token of another account", func(b string) string {
			return strings.Replace(b, `"token":"`+conn.AccountID, `"token":"60087654321`, 1)
		}, nil, sdk.CodeAuth},
		{"tampered MAC", func(b string) string {
			i := strings.Index(b, `"token":"`) + len(`"token":"`+conn.AccountID+".")
			c := byte('A')
			if b[i] == 'A' {
				c = 'B'
			}
			return b[:i] + string(c) + b[i+1:]
		}, nil, sdk.CodeAuth},
		{"other channel", func(b string) string {
			return strings.Replace(b, `"channel_id":`, `"channel_id":1`, 1)
		}, nil, sdk.CodeAuth},
		{"no webhook secret", func(b string) string { return b }, map[string]string{"client_id": "x"}, sdk.CodeAuth},
		{"not a notification", func(string) string { return `[1,2]` }, nil, sdk.CodeInvalid},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := req
			r.Body = []byte(tc.edit(string(req.Body)))
			c := conn
			if tc.app != nil {
				c.App = tc.app
			}
			_, err := d.RouteWebhook(bg(t), sdk.Connection{App: c.App}, r)
			wantCode(t, err, tc.code, "")
			_, err = d.VerifyWebhook(bg(t), c, r)
			wantCode(t, err, tc.code, "")
		})
	}
}

func TestChannelToken(t *testing.T) {
	tok, err := zoho.ChannelToken("secret", "60012345678", "1000000068001")
	if err != nil || len(tok) > 50 || !strings.HasPrefix(tok, "60012345678.") {
		t.Fatalf("token %q, %v", tok, err)
	}
	other, _ := zoho.ChannelToken("secret", "60012345678", "1000000068002")
	if other == tok {
		t.Error("two channels share a token")
	}
	if _, err := zoho.ChannelToken("secret", strings.Repeat("9", 30), "1"); sdk.CodeOf(err) != sdk.CodeInvalid {
		t.Errorf("a 30-character account id: %v, want invalid (no room for the MAC)", err)
	}
}
