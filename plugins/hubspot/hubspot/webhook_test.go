package hubspot_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

const hookSecret = "app-client-secret"

var hookNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// hookConn accepts legacy signatures, so the v1/v2 cases can be checked;
// strictConn is the default (v3 only).
var (
	hookConn   = sdk.Connection{Config: map[string]string{"webhook_legacy_signatures": "true"}, App: map[string]string{"client_secret": hookSecret}}
	strictConn = sdk.Connection{Config: map[string]string{}, App: map[string]string{"client_secret": hookSecret}}
)

const hookBody = `[{"eventId":1001,"subscriptionId":77,"portalId":1234567,"appId":42,"occurredAt":1772366390000,` +
	`"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":9007199254740993,` +
	`"propertyName":"email","propertyValue":"ada@example.com","changeSource":"CRM"},` +
	`{"eventId":1002,"occurredAt":1772366391000,"subscriptionType":"deal.creation","objectId":55}]`

// The URL HubSpot calls, as the host received it (percent-encoded).
const hookURL = "https://hooks.example.com/hubspot/webhook%3Ftenant%3Dacme%40x%21"

// The URI HubSpot signs: the same with only the listed characters decoded.
const hookSignedURI = "https://hooks.example.com/hubspot/webhook?tenant%3Dacme@x!" // %3D is not on the list

func signV3(secret, method, uri, body, ts string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + uri + body + ts))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func signV1(secret, body string) string {
	s := sha256.Sum256([]byte(secret + body))
	return hex.EncodeToString(s[:])
}

func signV2(secret, method, uri, body string) string {
	s := sha256.Sum256([]byte(secret + method + uri + body))
	return hex.EncodeToString(s[:])
}

func v3Request(at time.Time, body string, sign func(ts string) string) sdk.WebhookRequest {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	return sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(body), Now: hookNow,
		Headers: map[string][]string{
			"X-Hubspot-Signature-V3":      {sign(ts)},
			"X-Hubspot-Request-Timestamp": {ts},
			"Content-Type":                {"application/json"},
		}}
}

func TestVerifyWebhook(t *testing.T) {
	goodV3 := func(ts string) string { return signV3(hookSecret, "POST", hookSignedURI, hookBody, ts) }
	tests := []struct {
		name    string
		req     sdk.WebhookRequest
		conn    *sdk.Connection // nil: hookConn
		wantErr sdk.Code
		field   string
	}{
		{name: "v3 valid", req: v3Request(hookNow.Add(-time.Minute), hookBody, goodV3)},
		{name: "v3 valid, lower-case header names", req: func() sdk.WebhookRequest {
			r := v3Request(hookNow, hookBody, goodV3)
			r.Headers = map[string][]string{"x-hubspot-signature-v3": r.Headers["X-Hubspot-Signature-V3"],
				"x-hubspot-request-timestamp": r.Headers["X-Hubspot-Request-Timestamp"]}
			return r
		}()},
		{name: "v3 tampered body", wantErr: sdk.CodeAuth,
			req: v3Request(hookNow, strings.Replace(hookBody, "ada@", "eve@", 1), goodV3)},
		{name: "v3 signed over the encoded URI", wantErr: sdk.CodeAuth,
			req: v3Request(hookNow, hookBody, func(ts string) string { return signV3(hookSecret, "POST", hookURL, hookBody, ts) })},
		{name: "v3 wrong secret", wantErr: sdk.CodeAuth,
			req: v3Request(hookNow, hookBody, func(ts string) string { return signV3("other", "POST", hookSignedURI, hookBody, ts) })},
		{name: "v3 stale", wantErr: sdk.CodeAuth, req: v3Request(hookNow.Add(-6*time.Minute), hookBody, goodV3)},
		{name: "v3 future", wantErr: sdk.CodeAuth, req: v3Request(hookNow.Add(6*time.Minute), hookBody, goodV3)},
		{name: "v3 timestamp changed after signing", wantErr: sdk.CodeAuth, req: func() sdk.WebhookRequest {
			r := v3Request(hookNow, hookBody, goodV3)
			r.Headers["X-Hubspot-Request-Timestamp"] = []string{strconv.FormatInt(hookNow.UnixMilli()+1, 10)}
			return r
		}()},
		{name: "v3 missing timestamp", wantErr: sdk.CodeAuth, req: func() sdk.WebhookRequest {
			r := v3Request(hookNow, hookBody, goodV3)
			delete(r.Headers, "X-Hubspot-Request-Timestamp")
			return r
		}()},
		{name: "v1 valid", req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow,
			Headers: map[string][]string{"X-HubSpot-Signature": {signV1(hookSecret, hookBody)}, "X-HubSpot-Signature-Version": {"v1"}}}},
		{name: "v1 upper-case hex", req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow,
			Headers: map[string][]string{"X-HubSpot-Signature": {strings.ToUpper(signV1(hookSecret, hookBody))}, "X-HubSpot-Signature-Version": {"v1"}}}},
		{name: "v1 tampered", wantErr: sdk.CodeAuth, req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody + " "), Now: hookNow,
			Headers: map[string][]string{"X-HubSpot-Signature": {signV1(hookSecret, hookBody)}, "X-HubSpot-Signature-Version": {"v1"}}}},
		{name: "v2 valid", req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow,
			Headers: map[string][]string{"X-HubSpot-Signature": {signV2(hookSecret, "POST", hookURL, hookBody)}, "X-HubSpot-Signature-Version": {"v2"}}}},
		{name: "v2 signature presented as v1", wantErr: sdk.CodeAuth, req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow,
			Headers: map[string][]string{"X-HubSpot-Signature": {signV2(hookSecret, "POST", hookURL, hookBody)}, "X-HubSpot-Signature-Version": {"v1"}}}},
		{name: "v2 other URL", wantErr: sdk.CodeAuth, req: sdk.WebhookRequest{Method: "POST", URL: hookURL + "x", Body: []byte(hookBody), Now: hookNow,
			Headers: map[string][]string{"X-HubSpot-Signature": {signV2(hookSecret, "POST", hookURL, hookBody)}, "X-HubSpot-Signature-Version": {"v2"}}}},
		{name: "unknown version", wantErr: sdk.CodeAuth, req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow,
			Headers: map[string][]string{"X-HubSpot-Signature": {signV1(hookSecret, hookBody)}, "X-HubSpot-Signature-Version": {"v9"}}}},
		{name: "no signature", wantErr: sdk.CodeAuth, req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow}},
		{name: "no client secret", wantErr: sdk.CodeInvalid, field: "app.client_secret", conn: &sdk.Connection{},
			req: v3Request(hookNow, hookBody, goodV3)},
		{name: "v3 valid without legacy allowance", conn: &strictConn, req: v3Request(hookNow, hookBody, goodV3)},
		{name: "v1 refused without legacy allowance", wantErr: sdk.CodeAuth, conn: &strictConn,
			req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow,
				Headers: map[string][]string{"X-HubSpot-Signature": {signV1(hookSecret, hookBody)}, "X-HubSpot-Signature-Version": {"v1"}}}},
		{name: "v2 refused without legacy allowance", wantErr: sdk.CodeAuth, conn: &strictConn,
			req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(hookBody), Now: hookNow,
				Headers: map[string][]string{"X-HubSpot-Signature": {signV2(hookSecret, "POST", hookURL, hookBody)}, "X-HubSpot-Signature-Version": {"v2"}}}},
	}
	d := hubspot.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := hookConn
			if tt.conn != nil {
				conn = *tt.conn
			}
			res, err := d.VerifyWebhook(context.Background(), conn, tt.req)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("VerifyWebhook: %v", err)
				}
				if len(res.Events) != 2 {
					t.Fatalf("got %d events, want 2", len(res.Events))
				}
				return
			}
			var e *sdk.Error
			if !errors.As(err, &e) || e.Code != tt.wantErr || e.Field != tt.field {
				t.Fatalf("VerifyWebhook error = %v, want code %s field %q", err, tt.wantErr, tt.field)
			}
			if strings.Contains(e.Message, hookSecret) {
				t.Errorf("error message %q holds the secret", e.Message)
			}
			if sig := firstHeader(tt.req.Headers, "X-Hubspot-Signature-V3"); sig != "" {
				ts := firstHeader(tt.req.Headers, "X-Hubspot-Request-Timestamp")
				if want := signV3(hookSecret, "POST", hookSignedURI, string(tt.req.Body), ts); strings.Contains(e.Message, want) {
					t.Errorf("error message %q holds the expected signature", e.Message)
				}
			}
		})
	}
}

func firstHeader(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func TestVerifyWebhookEvents(t *testing.T) {
	req := v3Request(hookNow, hookBody, func(ts string) string { return signV3(hookSecret, "POST", hookSignedURI, hookBody, ts) })
	res, err := hubspot.New().VerifyWebhook(context.Background(), hookConn, req)
	if err != nil {
		t.Fatal(err)
	}
	evs := res.Events
	for i := range evs {
		evs[i].Data = nil // checked below
	}
	want := []sdk.WebhookEvent{
		{ID: "1234567:77:1001", Kind: sdk.EventUpdated, Type: "contact.propertyChange", Object: "contacts", CanonicalObject: "customer",
			ExternalID: "9007199254740993", AccountID: "1234567", OccurredAt: time.UnixMilli(1772366390000).UTC()},
		{ID: "::1002", Kind: sdk.EventCreated, Type: "deal.creation", Object: "deals", CanonicalObject: "deal", ExternalID: "55",
			OccurredAt: time.UnixMilli(1772366391000).UTC()},
	}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
	res, _ = hubspot.New().VerifyWebhook(context.Background(), hookConn, req)
	if got := res.Events[0].Data["propertyValue"]; got != "ada@example.com" {
		t.Errorf("event data propertyValue = %v, want the raw event", got)
	}

	// A connection whose portal is known gets only its portal's events.
	portal := hookConn
	portal.AccountID = "1234567"
	res, err = hubspot.New().VerifyWebhook(context.Background(), portal, req)
	if err != nil || len(res.Events) != 1 || res.Events[0].ID != "1234567:77:1001" {
		t.Errorf("events for portal 1234567 = %+v, %v; want only event 1001", res.Events, err)
	}
	portal.AccountID = "999"
	if res, err = hubspot.New().VerifyWebhook(context.Background(), portal, req); err != nil || len(res.Events) != 0 {
		t.Errorf("events for another portal = %+v, %v; want none", res.Events, err)
	}
}

func TestRouteWebhook(t *testing.T) {
	body := `[{"eventId":1,"portalId":111,"subscriptionType":"contact.creation","objectId":5,"occurredAt":1772366390000},` +
		`{"eventId":2,"portalId":222,"subscriptionType":"contact.deletion","objectId":6,"occurredAt":1772366390000},` +
		`{"eventId":3,"portalId":111,"subscriptionType":"deal.creation","objectId":7,"occurredAt":1772366390000}]`
	good := func(b string) func(string) string {
		return func(ts string) string { return signV3(hookSecret, "POST", hookSignedURI, b, ts) }
	}
	app := sdk.Connection{App: map[string]string{"client_secret": hookSecret}}
	d := hubspot.New()
	tests := []struct {
		name string
		conn sdk.Connection
		req  sdk.WebhookRequest
		want []string
		code sdk.Code
	}{
		{name: "v3 routed by portal", conn: app, req: v3Request(hookNow, body, good(body)), want: []string{"111", "222"}},
		{name: "v3 tampered", conn: app, req: v3Request(hookNow, body+" ", good(body)), code: sdk.CodeAuth},
		{name: "v3 stale", conn: app, req: v3Request(hookNow.Add(-10*time.Minute), body, good(body)), code: sdk.CodeAuth},
		{name: "no app secret", conn: sdk.Connection{}, req: v3Request(hookNow, body, good(body)), code: sdk.CodeAuth},
		{name: "legacy routed, verified later", conn: app, want: []string{"111", "222"},
			req: sdk.WebhookRequest{Method: "POST", URL: hookURL, Body: []byte(body), Now: hookNow,
				Headers: map[string][]string{"X-HubSpot-Signature": {signV1(hookSecret, body)}}}},
		{name: "event without portal", conn: app, code: sdk.CodeInvalid,
			req: v3Request(hookNow, `[{"eventId":1,"subscriptionType":"contact.creation"}]`, good(`[{"eventId":1,"subscriptionType":"contact.creation"}]`))},
		{name: "not events", conn: app, code: sdk.CodeInvalid, req: v3Request(hookNow, `"x"`, good(`"x"`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := d.RouteWebhook(context.Background(), tt.conn, tt.req)
			if tt.code != "" {
				if sdk.CodeOf(err) != tt.code {
					t.Fatalf("RouteWebhook = %+v, %v; want %s", r, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.AccountIDs); diff != "" {
				t.Errorf("accounts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyWebhookDefaultsToNow(t *testing.T) {
	now := time.Now()
	req := v3Request(now, hookBody, func(ts string) string { return signV3(hookSecret, "POST", hookSignedURI, hookBody, ts) })
	req.Now = time.Time{}
	if _, err := hubspot.New().VerifyWebhook(context.Background(), hookConn, req); err != nil {
		t.Fatalf("VerifyWebhook with zero Now: %v", err)
	}
}

func TestVerifyWebhookBadBody(t *testing.T) {
	body := `{"not":"an array"`
	req := v3Request(hookNow, body, func(ts string) string { return signV3(hookSecret, "POST", hookSignedURI, body, ts) })
	_, err := hubspot.New().VerifyWebhook(context.Background(), hookConn, req)
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.CodeInvalid || e.Field != "body" {
		t.Fatalf("VerifyWebhook = %v, want invalid naming body", err)
	}
}

// FuzzVerifyWebhook feeds random headers and bodies: the verifier must
// never panic, and must never accept a request whose signature is not the
// right one for its version.
func FuzzVerifyWebhook(f *testing.F) {
	ts := strconv.FormatInt(hookNow.UnixMilli(), 10)
	f.Add("v3", signV3(hookSecret, "POST", hookSignedURI, hookBody, ts), ts, "POST", hookURL, []byte(hookBody))
	f.Add("v1", signV1(hookSecret, hookBody), "", "POST", hookURL, []byte(hookBody))
	f.Add("v2", signV2(hookSecret, "POST", hookURL, hookBody), "", "POST", hookURL, []byte(hookBody))
	f.Add("v3", "", "abc", "GET", "%zz", []byte("["))
	f.Add("v2", "zz", "99999999999999999999", "", "", []byte(`[{"eventId":"x","occurredAt":"y"}]`))
	f.Add("v3", "AAAA", "-9223372036854775808", "POST", "%3a%2f", []byte(`{}`))
	d := hubspot.New()
	f.Fuzz(func(t *testing.T, version, sig, ts, method, uri string, body []byte) {
		h := map[string][]string{}
		if version == "v3" {
			h["X-HubSpot-Signature-v3"] = []string{sig}
			h["X-HubSpot-Request-Timestamp"] = []string{ts}
		} else {
			h["X-HubSpot-Signature"] = []string{sig}
			h["X-HubSpot-Signature-Version"] = []string{version}
		}
		req := sdk.WebhookRequest{Method: method, URL: uri, Headers: h, Body: body, Now: hookNow}
		_, err := d.VerifyWebhook(context.Background(), hookConn, req)
		if err == nil && !rightSignature(version, sig, ts, method, uri, body) {
			t.Fatalf("verified a request without the right signature: version %q sig %q", version, sig)
		}
		if err != nil {
			var e *sdk.Error
			if !errors.As(err, &e) || (e.Code != sdk.CodeAuth && e.Code != sdk.CodeInvalid) {
				t.Fatalf("error %v is not auth_error or invalid", err)
			}
			if strings.Contains(e.Message, hookSecret) {
				t.Fatalf("error message holds the secret")
			}
		}
	})
}

// rightSignature is an independent statement of what each version signs.
func rightSignature(version, sig, ts, method, uri string, body []byte) bool {
	sig = strings.TrimSpace(sig)
	switch strings.ToLower(strings.TrimSpace(version)) {
	case "v3":
		decoded := strings.NewReplacer("%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$", "%27", "'",
			"%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
			"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";").Replace(uri)
		want, _ := base64.StdEncoding.DecodeString(signV3(hookSecret, method, decoded, string(body), strings.TrimSpace(ts)))
		got, err := base64.StdEncoding.DecodeString(sig)
		return err == nil && hmac.Equal(got, want)
	case "", "v1":
		got, err := hex.DecodeString(sig)
		want, _ := hex.DecodeString(signV1(hookSecret, string(body)))
		return err == nil && hmac.Equal(got, want)
	case "v2":
		got, err := hex.DecodeString(sig)
		want, _ := hex.DecodeString(signV2(hookSecret, method, uri, string(body)))
		return err == nil && hmac.Equal(got, want)
	}
	return false
}

// TestWebhookDedupeKey: HubSpot's dedupe key is (portalId, subscriptionId,
// eventId), never the attempt number; without an eventId, a hash of the
// change itself.
func TestWebhookDedupeKey(t *testing.T) {
	key := func(body string) string {
		t.Helper()
		evs, err := hubspot.ParseEvents([]byte(body))
		if err != nil || len(evs) != 1 {
			t.Fatalf("parse %s: %v %v", body, evs, err)
		}
		return evs[0].ID
	}
	first := key(`[{"eventId":5,"subscriptionId":9,"portalId":1,"attemptNumber":0,"subscriptionType":"contact.creation","objectId":3}]`)
	retry := key(`[{"eventId":5,"subscriptionId":9,"portalId":1,"attemptNumber":4,"subscriptionType":"contact.creation","objectId":3}]`)
	other := key(`[{"eventId":5,"subscriptionId":10,"portalId":1,"attemptNumber":0,"subscriptionType":"contact.creation","objectId":3}]`)
	if first != "1:9:5" || retry != first || other == first {
		t.Errorf("keys: first %q retry %q other subscription %q", first, retry, other)
	}
	a := key(`[{"portalId":1,"subscriptionType":"contact.propertyChange","objectId":3,"propertyName":"phone","propertyValue":"1","occurredAt":7}]`)
	b := key(`[{"portalId":1,"subscriptionType":"contact.propertyChange","objectId":3,"propertyName":"phone","propertyValue":"1","occurredAt":7,"attemptNumber":2}]`)
	c := key(`[{"portalId":1,"subscriptionType":"contact.propertyChange","objectId":3,"propertyName":"phone","propertyValue":"2","occurredAt":7}]`)
	if a != b || a == c || !strings.HasPrefix(a, "sha256:") {
		t.Errorf("fallback keys: %q %q %q", a, b, c)
	}
}
