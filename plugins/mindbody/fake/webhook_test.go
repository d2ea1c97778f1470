package fake_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"crmhost.dev/plugins/mindbody/fake"
)

// TestDelivery: a delivery is signed as Mindbody documents it:
// sha256= base64 HMAC-SHA256 of the raw body, keyed with the
// messageSignatureKey's UTF-8 bytes.
func TestDelivery(t *testing.T) {
	s := fake.New(t, fake.Options{})
	id := s.PutClient(fake.SiteA, map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	req := s.Webhook(t, s.Connection(), id, at)
	mac := hmac.New(sha256.New, []byte(fake.DefaultSignatureKey))
	mac.Write(req.Body)
	if got, want := req.Header(fake.SignatureHeader), "sha256="+base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	var body struct {
		MessageID string         `json:"messageId"`
		EventID   string         `json:"eventId"`
		At        string         `json:"eventInstanceOriginationDateTime"`
		Data      map[string]any `json:"eventData"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.MessageID == "" || body.EventID != "client.updated" || body.At != "2026-03-01T12:00:00Z" ||
		body.Data["siteId"] != float64(fake.SiteA) || body.Data["clientId"] != id || body.Data["email"] != "ada@example.com" {
		t.Errorf("delivery %s", req.Body)
	}
	if again := s.Webhook(t, s.Connection(), id, at); string(again.Body) == string(req.Body) {
		t.Error("two deliveries share a message id")
	}
}
