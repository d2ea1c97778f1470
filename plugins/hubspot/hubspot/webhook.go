package hubspot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// webhookMaxSkew is how far a v3 request timestamp may be from now, in
// either direction.
const webhookMaxSkew = 5 * time.Minute

// Webhook signature headers.
const (
	headerSignatureV3 = "X-HubSpot-Signature-v3"
	headerTimestamp   = "X-HubSpot-Request-Timestamp"
	headerSignature   = "X-HubSpot-Signature"
	headerVersion     = "X-HubSpot-Signature-Version"
)

// uriDecoder undoes the percent-encodings HubSpot decodes in the URI it
// signs for v3.
var uriDecoder = func() *strings.Replacer {
	pairs := []string{"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
		"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";"}
	all := append([]string(nil), pairs...)
	for i := 0; i < len(pairs); i += 2 {
		if lower := strings.ToLower(pairs[i]); lower != pairs[i] {
			all = append(all, lower, pairs[i+1])
		}
	}
	return strings.NewReplacer(all...)
}()

// RouteWebhook answers which portals a delivery to the app's one webhook
// URL concerns (each event's portalId), after checking its v3 signature
// with the app's client_secret when it carries one. A delivery signed
// only v1/v2 is routed unverified here: VerifyWebhook checks it against
// the connection, which must allow legacy signatures.
//
// Errors: CodeAuth for a wrong, stale or future v3 signature, or an app
// without a client_secret; CodeInvalid naming "body" when the body is not
// HubSpot's event array or names no portal.
func (d *Driver) RouteWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	secret := conn.App[appClientSecret]
	if secret == "" {
		return sdk.WebhookRoute{}, sdk.Errorf(sdk.CodeAuth, "HubSpot webhooks cannot be verified: the driver's app credentials have no client_secret")
	}
	if header(req.Headers, headerSignatureV3) != "" {
		if err := verifyV3(req, secret, req.Clock()); err != nil {
			return sdk.WebhookRoute{}, err
		}
	}
	evs, err := decodeEvents(req.Body)
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	var portals []string
	for i, ev := range evs {
		p := string(ev.PortalID)
		if p == "" {
			return sdk.WebhookRoute{}, sdk.Invalid("body", "event %d names no portalId", i)
		}
		if !slices.Contains(portals, p) {
			portals = append(portals, p)
		}
	}
	return sdk.WebhookRoute{AccountIDs: portals}, nil
}

// VerifyWebhook checks a HubSpot webhook's signature with the app's
// client_secret and normalises the events of the connection's portal.
//
// v3 (X-HubSpot-Signature-v3): base64 HMAC-SHA256 of method + URI (with
// HubSpot's percent-decoding) + body + X-HubSpot-Request-Timestamp; the
// timestamp (ms) must be within 5 minutes of req.Now. v1 and v2
// (X-HubSpot-Signature, by X-HubSpot-Signature-Version): hex SHA-256 of
// secret + body, or secret + method + URI + body; they carry no timestamp,
// so they are accepted only when the connection's
// webhook_legacy_signatures is "true". Signatures are compared in
// constant time. Events of other portals are left out.
//
// Errors: CodeAuth for a missing, wrong, stale or future signature, or a
// legacy one the connection does not allow (the message never holds the
// secret or the expected signature); CodeInvalid naming app.client_secret
// when the app credentials have none, or "body" when a verified body is
// not HubSpot's event array.
func (d *Driver) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	secret := conn.App[appClientSecret]
	if secret == "" {
		return sdk.WebhookResult{}, sdk.Invalid("app."+appClientSecret, "is required to verify HubSpot webhooks")
	}
	if err := verifySignature(req, secret, req.Clock(), conn.Config[configLegacySignatures] == "true"); err != nil {
		return sdk.WebhookResult{}, err
	}
	evs, err := parseEvents(req.Body, conn.AccountID)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	return sdk.WebhookResult{Events: evs}, nil
}

func verifySignature(req sdk.WebhookRequest, secret string, now time.Time, legacy bool) error {
	if header(req.Headers, headerSignatureV3) != "" {
		return verifyV3(req, secret, now)
	}
	if !legacy {
		if header(req.Headers, headerSignature) != "" {
			return sdk.Errorf(sdk.CodeAuth, "webhook is signed v1/v2 (no timestamp, replayable); this connection accepts only %s", headerSignatureV3)
		}
		return sdk.Errorf(sdk.CodeAuth, "webhook carries no %s signature", headerSignatureV3)
	}
	return verifyLegacy(req, secret)
}

// verifyV3 checks an X-HubSpot-Signature-v3 signature and its timestamp.
func verifyV3(req sdk.WebhookRequest, secret string, now time.Time) error {
	sig := header(req.Headers, headerSignatureV3)
	ts := header(req.Headers, headerTimestamp)
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return sdk.Errorf(sdk.CodeAuth, "webhook has no valid %s header", headerTimestamp)
	}
	// Compare in milliseconds so absurd timestamps cannot overflow.
	age := now.UnixMilli() - ms
	switch {
	case age > webhookMaxSkew.Milliseconds():
		return sdk.Errorf(sdk.CodeAuth, "webhook timestamp is more than 5 minutes old")
	case -age > webhookMaxSkew.Milliseconds():
		return sdk.Errorf(sdk.CodeAuth, "webhook timestamp is more than 5 minutes in the future")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(req.Method))
	mac.Write([]byte(uriDecoder.Replace(req.URL)))
	mac.Write(req.Body)
	mac.Write([]byte(ts))
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return sdk.Errorf(sdk.CodeAuth, "webhook %s signature does not match", headerSignatureV3)
	}
	return nil
}

// verifyLegacy checks a v1 or v2 X-HubSpot-Signature.
func verifyLegacy(req sdk.WebhookRequest, secret string) error {
	sig := header(req.Headers, headerSignature)
	if sig == "" {
		return sdk.Errorf(sdk.CodeAuth, "webhook carries no HubSpot signature (%s or %s)", headerSignatureV3, headerSignature)
	}
	h := sha256.New()
	h.Write([]byte(secret))
	switch v := strings.ToLower(header(req.Headers, headerVersion)); v {
	case "", "v1":
	case "v2":
		h.Write([]byte(req.Method))
		h.Write([]byte(req.URL))
	default:
		return sdk.Errorf(sdk.CodeAuth, "webhook has an unsupported %s", headerVersion)
	}
	h.Write(req.Body)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.Sum(nil)) {
		return sdk.Errorf(sdk.CodeAuth, "webhook %s signature does not match", headerSignature)
	}
	return nil
}

// header returns the first value of a header, matching its name
// case-insensitively (the host may or may not canonicalise names).
func header(h map[string][]string, name string) string {
	if v := h[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
	}
	return ""
}

// flexID reads an id HubSpot sends as a JSON number (or, tolerated, a
// string) without losing digits.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexID(n.String())
	return nil
}

// event is one entry of HubSpot's webhook payload.
type event struct {
	EventID          flexID `json:"eventId"`
	SubscriptionID   flexID `json:"subscriptionId"`
	PortalID         flexID `json:"portalId"`
	PropertyName     string `json:"propertyName"`
	PropertyValue    any    `json:"propertyValue"`
	SubscriptionType string `json:"subscriptionType"`
	ObjectID         flexID `json:"objectId"`
	ObjectTypeID     string `json:"objectTypeId"`
	OccurredAt       flexID `json:"occurredAt"`
}

// eventObjects maps a subscription type's prefix ("contact.creation") and
// generic objectTypeIds to the driver's object names.
var eventObjects = map[string]string{
	"contact": "contacts", "deal": "deals", "ticket": "tickets", "company": "companies",
	"product": "products", "line_item": "line_items", "conversation": "conversations",
	"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets",
}

// eventKinds maps a subscription type's action to a canonical kind.
var eventKinds = map[string]string{
	"creation": sdk.EventCreated, "propertyChange": sdk.EventUpdated, "associationChange": sdk.EventUpdated,
	"restore": sdk.EventUpdated, "merge": sdk.EventUpdated,
	"deletion": sdk.EventDeleted, "privacyDeletion": sdk.EventDeleted,
}

// canonicalObjects names the canonical object of the driver's objects.
var canonicalObjects = map[string]string{"contacts": "customer", "deals": "deal", "tickets": "case"}

// decodeEvents reads the body: a JSON array of events (a single event
// object is tolerated).
func decodeEvents(body []byte) ([]event, error) {
	raws, err := rawEvents(body)
	if err != nil {
		return nil, err
	}
	out := make([]event, 0, len(raws))
	for i, raw := range raws {
		var ev event
		if json.Unmarshal(raw, &ev) != nil {
			return nil, sdk.Invalid("body", "event %d is not a HubSpot webhook event", i)
		}
		out = append(out, ev)
	}
	return out, nil
}

func rawEvents(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, nil
	}
	var raws []json.RawMessage
	if body[0] == '{' {
		raws = []json.RawMessage{body}
	} else if err := json.Unmarshal(body, &raws); err != nil {
		return nil, sdk.Invalid("body", "is not a JSON array of HubSpot webhook events")
	}
	return raws, nil
}

// parseEvents normalises a verified body's events of portal (all events
// when portal is empty).
func parseEvents(body []byte, portal string) ([]sdk.WebhookEvent, error) {
	raws, err := rawEvents(body)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.WebhookEvent, 0, len(raws))
	for i, raw := range raws {
		var ev event
		var data map[string]any
		if json.Unmarshal(raw, &ev) != nil || json.Unmarshal(raw, &data) != nil || data == nil {
			return nil, sdk.Invalid("body", "event %d is not a HubSpot webhook event", i)
		}
		if portal != "" && string(ev.PortalID) != portal {
			continue
		}
		prefix, action, _ := strings.Cut(ev.SubscriptionType, ".")
		obj := eventObjects[prefix]
		if prefix == "object" {
			obj = eventObjects[ev.ObjectTypeID]
			if obj == "" {
				obj = ev.ObjectTypeID
			}
		} else if obj == "" {
			obj = prefix
		}
		kind := eventKinds[action]
		if kind == "" {
			kind = ev.SubscriptionType
		}
		we := sdk.WebhookEvent{ID: dedupeKey(ev), Kind: kind, Type: ev.SubscriptionType, Object: obj,
			CanonicalObject: canonicalObjects[obj], ExternalID: string(ev.ObjectID), AccountID: string(ev.PortalID), Data: data}
		if ms, err := strconv.ParseInt(string(ev.OccurredAt), 10, 64); err == nil && ms > 0 {
			we.OccurredAt = time.UnixMilli(ms).UTC()
		}
		out = append(out, we)
	}
	return out, nil
}

// dedupeKey is an event's dedupe key as HubSpot defines it:
// portalId:subscriptionId:eventId; an event without an eventId gets a hash
// of what makes it this event (subscriptionType, objectId, propertyName,
// propertyValue, occurredAt). attemptNumber is never part of it: a retry
// is the same event.
func dedupeKey(ev event) string {
	if ev.EventID != "" {
		return string(ev.PortalID) + ":" + string(ev.SubscriptionID) + ":" + string(ev.EventID)
	}
	b, _ := json.Marshal([]any{ev.SubscriptionType, ev.ObjectID, ev.PropertyName, ev.PropertyValue, ev.OccurredAt})
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

var (
	_ sdk.WebhookVerifier = (*Driver)(nil)
	_ sdk.WebhookRouter   = (*Driver)(nil)
)
