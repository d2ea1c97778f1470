package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/sdk"
)

// WebhookURL is where the fake's webhook deliveries say they were sent:
// the host's one URL for the HubSpot app.
const WebhookURL = "https://crmhost.test/webhooks/hubspot"

// subscriptionID is the app's (only) webhook subscription.
const subscriptionID = 1001

// Webhook returns a delivery as HubSpot's webhooks service sends it to
// the app's URL: a JSON array with one propertyChange event for the record
// externalID of the portal behind conn (its token's portal), occurring at
// now, signed v3 with the app's client secret at now
// (X-HubSpot-Signature-v3: base64 HMAC-SHA256 of method, URI, body and
// X-HubSpot-Request-Timestamp).
func (s *Server) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	t.Helper()
	return s.WebhookOf(t, conn, externalID, "propertyChange", now)
}

// WebhookOf is Webhook for another action of the record's object type
// ("creation", "propertyChange", "deletion"); a creation carries no
// property. Each call is a new event (its own eventId).
func (s *Server) WebhookOf(t testing.TB, conn sdk.Connection, externalID, action string, now time.Time) sdk.WebhookRequest {
	t.Helper()
	token := conn.Secret["access_token"]
	pt := s.privatePortal(token)
	s.mu.Lock()
	if at, ok := s.access[token]; ok && pt == nil {
		pt = at.portal
	}
	kind := "contact"
	if pt != nil {
		for _, ot := range objectTypes {
			if _, ok := pt.objects[ot.Name][externalID]; ok {
				kind = ot.Singular
			}
		}
	}
	s.events++
	eventID := 100000 + s.events
	s.mu.Unlock()
	if pt == nil {
		t.Fatalf("hubspot fake: Webhook: the connection's access_token belongs to no portal")
	}
	objectID := json.Number(externalID)
	if _, err := strconv.ParseInt(externalID, 10, 64); err != nil {
		t.Fatalf("hubspot fake: Webhook: HubSpot object ids are numbers, not %q", externalID)
	}
	ev := map[string]any{
		"eventId": eventID, "subscriptionId": subscriptionID, "portalId": pt.id, "appId": appID,
		"occurredAt": now.UnixMilli(), "subscriptionType": lower(kind) + "." + action, "attemptNumber": 0,
		"objectId": objectID, "changeSource": "CRM", "sourceId": "userId:" + strconv.Itoa(userID),
	}
	if action == "propertyChange" {
		ev["propertyName"], ev["propertyValue"] = "company", "changed"
	}
	body, _ := json.Marshal([]map[string]any{ev})
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	return sdk.WebhookRequest{Method: "POST", URL: WebhookURL, Body: body, Headers: map[string][]string{
		"Content-Type":                {"application/json"},
		"X-Hubspot-Signature-V3":      {SignV3(s.o.ClientSecret, "POST", WebhookURL, body, ts)},
		"X-Hubspot-Request-Timestamp": {ts},
	}}
}

// SignV3 is HubSpot's v3 webhook signature: base64 of HMAC-SHA256 with the
// app's client secret over method, URI, body and timestamp (ms).
func SignV3(clientSecret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(method + uri))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// lower is "contact" for "Contact".
func lower(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
