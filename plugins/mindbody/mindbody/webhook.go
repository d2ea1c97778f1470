package mindbody

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// signatureHeader carries "sha256=" and the base64 HMAC-SHA256 of the raw
// body, keyed with the subscription's messageSignatureKey as UTF-8 bytes.
const signatureHeader = "X-Mindbody-Signature"

// Delivery age bounds. Mindbody retries a failed delivery every 15 minutes
// for 3 hours, so a delivery whose event is older than a day can only be a
// replay; the signature covers the body, and so the event time.
const (
	maxEventAge    = 24 * time.Hour
	maxEventFuture = time.Hour
)

// eventKinds maps Mindbody's event ids to the driver's object, the
// canonical object and the canonical kind. A cancelled booking is an
// update (the booking remains, with its status); a deactivated client is
// a deletion, as ListRecent reports it.
var eventKinds = map[string]struct{ object, canonical, kind string }{
	"client.created":               {objClients, sdk.ObjectCustomer, sdk.EventCreated},
	"client.updated":               {objClients, sdk.ObjectCustomer, sdk.EventUpdated},
	"client.deactivated":           {objClients, sdk.ObjectCustomer, sdk.EventDeleted},
	"appointmentBooking.created":   {objAppointments, sdk.ObjectBooking, sdk.EventCreated},
	"appointmentBooking.updated":   {objAppointments, sdk.ObjectBooking, sdk.EventUpdated},
	"appointmentBooking.cancelled": {objAppointments, sdk.ObjectBooking, sdk.EventUpdated},
	"classRosterBooking.created":   {objClassBooking, "", sdk.EventCreated},
	"classRosterBooking.updated":   {objClassBooking, "", sdk.EventUpdated},
	"classRosterBooking.cancelled": {objClassBooking, "", sdk.EventUpdated},
}

// webhookEventIDs lists the events the driver normalises, for Describe.
func webhookEventIDs() []string {
	return []string{"client.created", "client.updated", "client.deactivated",
		"appointmentBooking.created", "appointmentBooking.updated", "appointmentBooking.cancelled",
		"classRosterBooking.created", "classRosterBooking.updated", "classRosterBooking.cancelled"}
}

// delivery is Mindbody's webhook body.
type delivery struct {
	MessageID     string         `json:"messageId"`
	EventID       string         `json:"eventId"`
	SchemaVersion json.Number    `json:"eventSchemaVersion"`
	OccurredAt    string         `json:"eventInstanceOriginationDateTime"`
	Data          map[string]any `json:"eventData"`
}

// RouteWebhook answers which site a delivery to the platform's one webhook
// URL concerns (eventData.siteId), after checking its signature with the
// app's webhook_signature_key. Mindbody's HEAD request that validates the
// URL is answered 200 at once. Errors: CodeAuth for a missing, malformed
// or wrong signature, a replayed (day-old) event, or an app without a
// signature key; CodeInvalid naming "body" for a body that is not a
// Mindbody delivery or names no site.
func (d *Driver) RouteWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	if isProbe(req) {
		return sdk.WebhookRoute{Reply: &sdk.WebhookReply{Status: http.StatusOK}}, nil
	}
	dl, err := verifiedDelivery(conn, req)
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	site := str(dl.Data["siteId"])
	if site == "" {
		return sdk.WebhookRoute{}, sdk.Invalid("body", "the delivery's eventData names no siteId")
	}
	return sdk.WebhookRoute{AccountIDs: []string{site}}, nil
}

// VerifyWebhook checks a delivery's X-Mindbody-Signature (sha256= base64
// HMAC-SHA256 of the raw body, keyed with the app's webhook_signature_key,
// compared in constant time) and normalises its event when it belongs to
// the connection's site: the event id is Mindbody's messageId (the dedupe
// key), the kind canonical where the driver knows the event, the external
// id the client, appointment or "<class id>:<visit id>" it names.
// Deliveries for other sites answer no events; the HEAD probe answers 200.
// Errors: as RouteWebhook's.
func (d *Driver) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	if isProbe(req) {
		return sdk.WebhookResult{Reply: &sdk.WebhookReply{Status: http.StatusOK}}, nil
	}
	dl, err := verifiedDelivery(conn, req)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	site := conn.AccountID
	if site == "" {
		site = strings.TrimSpace(conn.Config[configSiteID])
	}
	if str(dl.Data["siteId"]) != site {
		return sdk.WebhookResult{}, nil
	}
	ev := sdk.WebhookEvent{ID: dl.MessageID, Kind: dl.EventID, Type: dl.EventID, AccountID: site, Data: dl.Data}
	ev.OccurredAt, _ = parseTime(dl.OccurredAt)
	if k, ok := eventKinds[dl.EventID]; ok {
		ev.Kind, ev.Object, ev.CanonicalObject = k.kind, k.object, k.canonical
	} else {
		ev.Object, _, _ = strings.Cut(dl.EventID, ".")
	}
	switch ev.Object {
	case objClients:
		ev.ExternalID = str(dl.Data["clientId"])
	case objAppointments:
		ev.ExternalID = str(dl.Data["appointmentId"])
	case objClassBooking:
		ev.ExternalID = classBookingID(dl.Data["classId"], dl.Data["classRosterBookingId"])
	}
	return sdk.WebhookResult{Events: []sdk.WebhookEvent{ev}}, nil
}

// isProbe reports Mindbody's URL validation request (HEAD, no body).
func isProbe(req sdk.WebhookRequest) bool {
	return strings.EqualFold(req.Method, http.MethodHead)
}

// verifiedDelivery checks the signature and age of a delivery and decodes
// it.
func verifiedDelivery(conn sdk.Connection, req sdk.WebhookRequest) (delivery, error) {
	key := conn.App[appSignatureKey]
	if key == "" {
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "Mindbody webhooks cannot be verified: the driver's app credentials have no %s (the messageSignatureKey of the platform's webhook subscription)", appSignatureKey)
	}
	sig := strings.TrimSpace(req.Header(signatureHeader))
	if sig == "" {
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "the delivery carries no %s header", signatureHeader)
	}
	raw, ok := strings.CutPrefix(sig, "sha256=")
	got, err := base64.StdEncoding.DecodeString(raw)
	if !ok || err != nil {
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "the delivery's %s is not sha256=<base64>", signatureHeader)
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(req.Body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "the delivery's %s does not match its body", signatureHeader)
	}
	var dl delivery
	if err := json.Unmarshal(req.Body, &dl); err != nil || dl.EventID == "" || dl.MessageID == "" {
		return delivery{}, sdk.Invalid("body", "is not a Mindbody webhook delivery (messageId, eventId, eventData)")
	}
	if at, ok := parseTime(dl.OccurredAt); ok {
		now := req.Clock()
		switch {
		case now.Sub(at) > maxEventAge:
			return delivery{}, sdk.Errorf(sdk.CodeAuth, "the delivery's event is more than a day old (Mindbody stops retrying after 3 hours): a replay")
		case at.Sub(now) > maxEventFuture:
			return delivery{}, sdk.Errorf(sdk.CodeAuth, "the delivery's event is dated more than an hour in the future")
		}
	}
	return dl, nil
}

var (
	_ sdk.WebhookVerifier = (*Driver)(nil)
	_ sdk.WebhookRouter   = (*Driver)(nil)
)
