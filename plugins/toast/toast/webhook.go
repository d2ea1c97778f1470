package toast

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// headerSignature carries a webhook's signature.
const headerSignature = "Toast-Signature"

// The orders webhook's event types: a new order is an update too.
const (
	eventOrderUpdated        = "order_updated"
	eventChannelOrderUpdated = "channel_order_updated"
)

// How far a delivery's signed timestamp may be from now. Toast retries a
// failed delivery after 5 and 10 minutes, so a replay window shorter than
// that would refuse its own retries; a captured delivery older than it is
// refused.
const (
	webhookMaxAge    = 15 * time.Minute
	webhookMaxFuture = 5 * time.Minute
)

// delivery is a Toast webhook body: {timestamp, eventCategory, eventType,
// guid, details}.
type delivery struct {
	Timestamp     json.RawMessage `json:"timestamp"`
	EventCategory string          `json:"eventCategory"`
	EventType     string          `json:"eventType"`
	GUID          string          `json:"guid"`
	Details       json.RawMessage `json:"details"`
}

// orderDetails are the details of an orders event.
type orderDetails struct {
	RestaurantGUID string          `json:"restaurantGuid"`
	Order          json.RawMessage `json:"order"`
}

// RouteWebhook answers which restaurant a delivery to the platform's one
// webhook URL concerns, after checking its Toast-Signature with the app's
// webhook_secret: the restaurant the signed body names
// (details.restaurantGuid), else the Toast-Restaurant-External-ID header.
// Errors: CodeAuth for a missing, wrong, stale or future signature, a
// header naming another restaurant than the signed body, or an app without
// a webhook_secret; CodeInvalid naming "body" for a delivery that names
// no restaurant (Toast's partner events).
func (d *Driver) RouteWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	secret := conn.App[appWebhookSecret]
	if secret == "" {
		return sdk.WebhookRoute{}, sdk.Errorf(sdk.CodeAuth, "Toast webhooks cannot be verified: the driver's app credentials have no webhook_secret")
	}
	dl, err := verify(req, secret, req.Clock())
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	guid, err := deliveryRestaurant(req, dl)
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	if guid == "" {
		return sdk.WebhookRoute{}, sdk.Invalid("body", "the delivery names no restaurant (neither details.restaurantGuid nor %s)", headerRestaurant)
	}
	return sdk.WebhookRoute{AccountIDs: []string{guid}}, nil
}

// VerifyWebhook checks a delivery's Toast-Signature (base64 HMAC-SHA256,
// keyed with the app's webhook_secret, of the raw body followed by the
// body's timestamp; compared in constant time; the timestamp within 15
// minutes before and 5 after now) and normalises the events of the
// connection's restaurant. An orders event (order_updated,
// channel_order_updated) becomes one event for the order (record.deleted
// when Toast deleted it, else record.updated: Toast sends creations as
// updates) and one record.updated event per guest on its checks (object
// guests, canonical customer), each deduplicated by Toast's event guid.
// Other categories become one event of their own type. A delivery for
// another restaurant answers no events.
//
// Errors: CodeAuth for a missing, wrong, stale or future signature or a
// header that contradicts the signed body (the message never holds the
// secret or the expected signature); CodeInvalid naming
// app.webhook_secret when the app credentials have none, or "body" for a
// verified body that is not Toast's.
func (d *Driver) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	secret := conn.App[appWebhookSecret]
	if secret == "" {
		return sdk.WebhookResult{}, sdk.Invalid("app."+appWebhookSecret, "is required to verify Toast webhooks: the signing secret of the platform's orders webhook subscription")
	}
	dl, err := verify(req, secret, req.Clock())
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	guid, err := deliveryRestaurant(req, dl)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	mine, err := restaurant(conn)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	if guid != mine {
		return sdk.WebhookResult{Events: []sdk.WebhookEvent{}}, nil
	}
	evs, err := events(dl, guid)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	return sdk.WebhookResult{Events: evs}, nil
}

// verify checks req's signature with secret and the signed timestamp's
// freshness at now, and returns the decoded delivery.
func verify(req sdk.WebhookRequest, secret string, now time.Time) (delivery, error) {
	sig := strings.TrimSpace(req.Header(headerSignature))
	if sig == "" {
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "webhook carries no %s header", headerSignature)
	}
	var dl delivery
	if err := json.Unmarshal(req.Body, &dl); err != nil || len(dl.Timestamp) == 0 {
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "webhook body is not a Toast delivery with a timestamp, so its %s cannot be checked", headerSignature)
	}
	ts := timestampText(dl.Timestamp)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(req.Body)
	mac.Write([]byte(ts))
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		got, err = base64.RawStdEncoding.DecodeString(sig)
	}
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "webhook %s does not match its body and timestamp", headerSignature)
	}
	at := parseTime(ts)
	switch {
	case at.IsZero():
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "webhook timestamp is not a time")
	case now.Sub(at) > webhookMaxAge:
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "webhook timestamp is more than %v old (a replayed delivery?)", webhookMaxAge)
	case at.Sub(now) > webhookMaxFuture:
		return delivery{}, sdk.Errorf(sdk.CodeAuth, "webhook timestamp is more than %v in the future", webhookMaxFuture)
	}
	return dl, nil
}

// timestampText is the body's timestamp as Toast signs it: a string's
// value, or a number's digits.
func timestampText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// deliveryRestaurant is the restaurant a verified delivery concerns: the
// one its signed details name, else the (unsigned) header. Errors:
// CodeAuth when the header names another restaurant than the body.
func deliveryRestaurant(req sdk.WebhookRequest, dl delivery) (string, error) {
	var det orderDetails
	_ = json.Unmarshal(dl.Details, &det)
	body := strings.ToLower(strings.TrimSpace(det.RestaurantGUID))
	head := strings.ToLower(strings.TrimSpace(req.Header(headerRestaurant)))
	if body != "" && head != "" && body != head {
		return "", sdk.Errorf(sdk.CodeAuth, "webhook's %s header names another restaurant than its signed body", headerRestaurant)
	}
	if body != "" {
		return body, nil
	}
	return head, nil
}

// events normalises a verified delivery for restaurant guid.
func events(dl delivery, guid string) ([]sdk.WebhookEvent, error) {
	at := parseTime(timestampText(dl.Timestamp))
	if dl.GUID == "" {
		return nil, sdk.Invalid("body", "the delivery has no guid to deduplicate it by")
	}
	if dl.EventType != eventOrderUpdated && dl.EventType != eventChannelOrderUpdated {
		kind := dl.EventType
		if kind == "" {
			kind = dl.EventCategory
		}
		return []sdk.WebhookEvent{{ID: dl.GUID, Kind: kind, Type: dl.EventType, Object: dl.EventCategory, AccountID: guid, OccurredAt: at}}, nil
	}
	var det orderDetails
	var o order
	if json.Unmarshal(dl.Details, &det) != nil || len(det.Order) == 0 || json.Unmarshal(det.Order, &o) != nil || o.GUID == "" {
		return nil, sdk.Invalid("body", "the %s event carries no order with a guid", dl.EventType)
	}
	o.modified, o.raw = parseTime(o.ModifiedDate), det.Order
	kind := sdk.EventUpdated
	if o.Deleted {
		kind = sdk.EventDeleted
	}
	out := []sdk.WebhookEvent{{ID: dl.GUID, Kind: kind, Type: dl.EventType, Object: objOrders, ExternalID: o.GUID,
		AccountID: guid, OccurredAt: at, Data: orderFields(o, nil)}}
	if o.Deleted {
		return out, nil
	}
	seen := map[string]bool{}
	for i, c := range o.Checks {
		id := strings.ToLower(str(c.Customer["guid"]))
		if c.Deleted || id == "" || seen[id] {
			continue
		}
		seen[id] = true
		rec := guestRecord(o, i, nil)
		out = append(out, sdk.WebhookEvent{ID: dl.GUID + ":guest:" + id, Kind: sdk.EventUpdated, Type: dl.EventType,
			Object: objGuests, CanonicalObject: sdk.ObjectCustomer, ExternalID: id, AccountID: guid, OccurredAt: at, Data: rec.Fields})
	}
	return out, nil
}

var (
	_ sdk.WebhookVerifier = (*Driver)(nil)
	_ sdk.WebhookRouter   = (*Driver)(nil)
)
