package fake_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk/drivertest"
)

// TestPortals: the two portals keep separate data (the same email in
// both, no conflict, each sees only its own), and their connections name
// their portal as the account.
func TestPortals(t *testing.T) {
	s := fake.New(t, fake.Options{})
	a, b := s.Connection(), s.OtherConnection()
	if a.AccountID != "1234567" || b.AccountID != "2345678" {
		t.Fatalf("accounts %q and %q, want the portal ids 1234567 and 2345678", a.AccountID, b.AccountID)
	}
	tokA, tokB := a.Secret["access_token"], b.Secret["access_token"]
	contact := map[string]any{"properties": map[string]any{"email": "same@example.com", "firstname": "A"}}
	ra := call(t, s, tokA, "POST", "/crm/v3/objects/contacts", contact)
	want(t, ra, http.StatusCreated)
	rb := call(t, s, tokB, "POST", "/crm/v3/objects/contacts", contact)
	want(t, rb, http.StatusCreated)
	idA, idB := ra.Body["id"].(string), rb.Body["id"].(string)
	if idA == idB {
		t.Fatalf("both portals answered id %s: HubSpot ids are unique", idA)
	}
	for _, tc := range []struct {
		token, own, other string
	}{{tokA, idA, idB}, {tokB, idB, idA}} {
		if got := ids(call(t, s, tc.token, "GET", "/crm/v3/objects/contacts", nil)); !cmp.Equal(got, []string{tc.own}) {
			t.Errorf("list = %v, want only %s", got, tc.own)
		}
		want(t, call(t, s, tc.token, "GET", "/crm/v3/objects/contacts/"+tc.other, nil), http.StatusNotFound)
		r := call(t, s, tc.token, "POST", "/crm/v3/objects/contacts/search", map[string]any{"query": "same@example.com"})
		if got := ids(r); !cmp.Equal(got, []string{tc.own}) {
			t.Errorf("search = %v, want only %s", got, tc.own)
		}
	}
	if got := len(s.Records("contacts")); got != 1 {
		t.Errorf("Records lists %d contacts, want the first portal's 1", got)
	}
}

// TestGrantAndTokenInfo: a grant's code is for the first portal; its
// token's info and token answer name that portal.
func TestGrantAndTokenInfo(t *testing.T) {
	s := fake.New(t, fake.Options{})
	conn, g := s.Grant(t)
	if len(conn.Secret) != 0 || conn.App["client_secret"] != fake.DefaultClientSecret || conn.Config["base_url"] != s.URL {
		t.Fatalf("grant connection %v: want no secret, the app's client and the fake's URL", conn)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {g.Code}, "redirect_uri": {g.RedirectURI},
		"client_id": {fake.DefaultClientID}, "client_secret": {fake.DefaultClientSecret}}
	r := call(t, s, "", "POST", "/oauth/v1/token", form)
	want(t, r, http.StatusOK)
	if r.Body["hub_id"] != float64(1234567) {
		t.Errorf("token answer hub_id %v, want 1234567", r.Body["hub_id"])
	}
	info := call(t, s, "", "GET", "/oauth/v1/access-tokens/"+r.Body["access_token"].(string), nil)
	want(t, info, http.StatusOK)
	if info.Body["hub_id"] != float64(1234567) {
		t.Errorf("token info hub_id %v, want 1234567", info.Body["hub_id"])
	}
	want(t, call(t, s, "", "POST", "/oauth/v1/token", form), http.StatusBadRequest) // used once
}

// TestAbandoned: a request whose client gives up while an injected
// latency holds it is counted.
func TestAbandoned(t *testing.T) {
	s := fake.New(t, fake.Options{})
	s.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/crm/v3/objects/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+fake.DefaultToken)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request: %v, want the client's deadline", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.Abandoned() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.Abandoned(); n != 1 {
		t.Errorf("Abandoned = %d, want 1", n)
	}
	want(t, api(t, s, "GET", "/crm/v3/objects/contacts", nil), http.StatusOK)
	if n := s.Abandoned(); n != 1 {
		t.Errorf("after an answered request Abandoned = %d, want still 1", n)
	}
}

// TestWebhook: a delivery is HubSpot's event array for the record's
// portal and object type, signed v3 (checked here from HubSpot's
// documented recipe, not the fake's code).
func TestWebhook(t *testing.T) {
	s := fake.New(t, fake.Options{})
	id := createContact(t, s, map[string]any{"email": "hook@example.com"})
	deal := api(t, s, "POST", "/crm/v3/objects/deals", map[string]any{"properties": map[string]any{"dealname": "Big"}})
	want(t, deal, http.StatusCreated)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		id, subscription string
		portal           float64
		conn             func() map[string]string
	}{
		{id, "contact.propertyChange", 1234567, func() map[string]string { return s.Connection().Secret }},
		{deal.Body["id"].(string), "deal.propertyChange", 1234567, func() map[string]string { return s.Connection().Secret }},
		{"424242", "contact.propertyChange", 2345678, func() map[string]string { return s.OtherConnection().Secret }},
	} {
		conn := s.Connection()
		conn.Secret = tc.conn()
		req := s.Webhook(t, conn, tc.id, now)
		var events []map[string]any
		if err := json.Unmarshal(req.Body, &events); err != nil || len(events) != 1 {
			t.Fatalf("body %s: %v", req.Body, err)
		}
		ev := events[0]
		if ev["portalId"] != tc.portal || ev["subscriptionType"] != tc.subscription || ev["occurredAt"] != float64(now.UnixMilli()) ||
			strconv.FormatFloat(ev["objectId"].(float64), 'f', -1, 64) != tc.id {
			t.Errorf("event %v, want portal %v, %s of %s at %v", ev, tc.portal, tc.subscription, tc.id, now.UnixMilli())
		}
		ts := req.Headers["X-Hubspot-Request-Timestamp"][0]
		m := hmac.New(sha256.New, []byte(fake.DefaultClientSecret))
		m.Write([]byte("POST" + fake.WebhookURL + string(req.Body) + ts))
		if got, wantSig := req.Headers["X-Hubspot-Signature-V3"][0], base64.StdEncoding.EncodeToString(m.Sum(nil)); got != wantSig || req.URL != fake.WebhookURL {
			t.Errorf("signature %q for %s, want %q", got, req.URL, wantSig)
		}
	}
}
