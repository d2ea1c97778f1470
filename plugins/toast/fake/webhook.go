package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"github.com/google/uuid"
)

// WebhookURL is where the fake pretends to deliver webhooks.
const WebhookURL = "https://crmhost.test/webhooks/toast"

// Webhook returns an orders webhook delivery (order_updated) for the
// order that carries record externalID (a guest's GUID or an order's) at
// the restaurant behind conn, signed at now (drivertest.WebhookSending).
// It fails the test when the restaurant has no such record.
func (s *Server) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	t.Helper()
	guid := strings.ToLower(conn.Config["restaurant_guid"])
	for _, o := range s.Orders(guid) {
		if o.GUID == externalID {
			return s.Delivery(guid, o, now)
		}
		for _, c := range o.Checks {
			if c.Customer != nil && c.Customer.GUID == externalID {
				return s.Delivery(guid, o, now)
			}
		}
	}
	t.Fatalf("toast fake: restaurant %s has no order or guest %s", guid, externalID)
	return sdk.WebhookRequest{}
}

// Delivery is Toast's orders webhook for order o of restaurant:
// {timestamp, eventCategory: "orders", eventType: "order_updated", guid,
// details: {restaurantGuid, order}}, signed with Toast-Signature:
// base64(HMAC-SHA256(webhook secret, body + timestamp)), with Toast's
// headers.
func (s *Server) Delivery(restaurant string, o Order, now time.Time) sdk.WebhookRequest {
	body, _ := json.Marshal(map[string]any{
		"timestamp":     now.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventCategory": "orders",
		"eventType":     "order_updated",
		"guid":          uuid.NewString(),
		"details":       map[string]any{"restaurantGuid": restaurant, "order": orderJSON(&o, true)},
	})
	return sdk.WebhookRequest{
		Method: "POST",
		URL:    WebhookURL,
		Headers: map[string][]string{
			"Content-Type":                 {"application/json"},
			"Toast-Signature":              {Sign(s.o.WebhookSecret, body)},
			"Toast-Event-Type":             {"order_updated"},
			"Toast-Event-Category":         {"orders"},
			"Toast-Restaurant-External-Id": {restaurant},
			"Toast-Attempt-Number":         {"1"},
		},
		Body: body,
	}
}

// Sign is Toast's webhook signature of body with secret: base64 of the
// HMAC-SHA256 of the raw body followed by the body's timestamp.
func Sign(secret string, body []byte) string {
	var head struct {
		Timestamp json.RawMessage `json:"timestamp"`
	}
	_ = json.Unmarshal(body, &head)
	ts := string(head.Timestamp)
	var s string
	if json.Unmarshal(head.Timestamp, &s) == nil {
		ts = s
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	mac.Write([]byte(ts))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
