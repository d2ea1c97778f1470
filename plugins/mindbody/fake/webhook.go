package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// SignatureHeader carries a delivery's signature: "sha256=" and the
// base64 HMAC-SHA256 of the raw body, keyed with the subscription's
// messageSignatureKey used as UTF-8 bytes (not base64-decoded).
const SignatureHeader = "X-Mindbody-Signature"

// Sign returns the X-Mindbody-Signature value of body under key.
func Sign(key string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Delivery is a webhook delivery as Mindbody posts it: eventID
// ("client.updated") with eventData for site, signed with the fake's
// signature key. The message id is fresh for every delivery.
func (s *Server) Delivery(siteID int, eventID string, data map[string]any, at time.Time) sdk.WebhookRequest {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	ed := map[string]any{"siteId": siteID}
	for k, v := range data {
		ed[k] = v
	}
	body, _ := json.Marshal(map[string]any{
		"messageId":                        fmt.Sprintf("%08x-5b1c-4d2e-9f3a-%012d", siteID&0xffffffff, n),
		"eventId":                          eventID,
		"eventSchemaVersion":               1,
		"eventInstanceOriginationDateTime": at.UTC().Format(time.RFC3339),
		"eventData":                        ed,
	})
	return sdk.WebhookRequest{Method: "POST", URL: "https://crmhost.example/webhooks/mindbody", Body: body, Now: at,
		Headers: map[string][]string{"Content-Type": {"application/json"}, SignatureHeader: {Sign(s.o.SignatureKey, body)}}}
}

// Webhook is a signed client.updated delivery for the client externalID
// of the site behind conn (drivertest.WebhookSending).
func (s *Server) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	t.Helper()
	siteID, err := strconv.Atoi(conn.Config["site_id"])
	if err != nil {
		t.Fatalf("mindbody fake: connection has no numeric site_id: %v", err)
	}
	return s.Delivery(siteID, "client.updated", s.clientEventData(siteID, externalID), now)
}

// clientEventData is the eventData of a client.* event: the client's
// identity and contact details.
func (s *Server) clientEventData(siteID int, id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := map[string]any{"clientId": id}
	st := s.sites[siteID]
	if st == nil {
		return data
	}
	if c := st.clients[id]; c != nil {
		data["clientUniqueId"] = c.unique
		data["creationDateTime"] = utcTime(c.created)
		data["status"] = c.props["Status"]
		for k, p := range map[string]string{"firstName": "FirstName", "lastName": "LastName", "email": "Email",
			"mobilePhone": "MobilePhone", "homePhone": "HomePhone", "workPhone": "WorkPhone"} {
			data[k] = c.props[p]
		}
	}
	return data
}

var _ drivertest.WebhookSending = (*Server)(nil)
