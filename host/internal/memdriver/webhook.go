package memdriver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"time"

	"crmhost.dev/sdk"
)

// Webhooks: the in-memory CRM sends every account's events to one URL,
// signed with the platform's partner key (an app credential): header
// SignatureHeader is the hex HMAC-SHA256 of the body. A GET or HEAD with
// a "challenge" query parameter is the URL check: the driver echoes it.

// SignatureHeader carries a delivery's signature.
const SignatureHeader = "X-Mem-Signature"

// WebhookEvent is one event of a delivery's body {"events": [...]}.
type WebhookEvent struct {
	ID      string `json:"id"`
	Account string `json:"account"`
	Type    string `json:"type"` // created, updated, deleted
	Object  string `json:"object"`
	Record  string `json:"record"`
	At      int64  `json:"at"` // epoch milliseconds
}

// SignWebhook returns the signature of body under partnerKey.
func SignWebhook(partnerKey string, body []byte) string {
	m := hmac.New(sha256.New, []byte(partnerKey))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// RouteWebhook answers a URL check with its challenge, else verifies the
// signature with the partner key and names the accounts the events
// concern. Errors: CodeAuth (no partner key, a bad signature),
// CodeInvalid (a body that is not a delivery, an event without account).
func (d *Driver) RouteWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	if req.Method == "GET" || req.Method == "HEAD" {
		u, _ := url.Parse(req.URL)
		return sdk.WebhookRoute{Reply: &sdk.WebhookReply{Status: 200, Header: map[string][]string{"Content-Type": {"text/plain"}},
			Body: []byte(u.Query().Get("challenge"))}}, nil
	}
	evs, err := verifyDelivery(conn, req)
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	var accounts []string
	for i, e := range evs {
		if e.Account == "" {
			return sdk.WebhookRoute{}, sdk.Invalid("body", "event %d names no account", i)
		}
		if !slices.Contains(accounts, e.Account) {
			accounts = append(accounts, e.Account)
		}
	}
	return sdk.WebhookRoute{AccountIDs: accounts}, nil
}

// VerifyWebhook verifies a delivery and answers the events of the
// connection's account. Errors: as RouteWebhook.
func (d *Driver) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	evs, err := verifyDelivery(conn, req)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	kinds := map[string]string{"created": sdk.EventCreated, "updated": sdk.EventUpdated, "deleted": sdk.EventDeleted}
	out := sdk.WebhookResult{Events: []sdk.WebhookEvent{}}
	for _, e := range evs {
		if e.Account != conn.Config[ConfigAccount] {
			continue
		}
		kind := kinds[e.Type]
		if kind == "" {
			kind = e.Type
		}
		out.Events = append(out.Events, sdk.WebhookEvent{ID: e.ID, Kind: kind, Type: e.Type, Object: e.Object,
			ExternalID: e.Record, AccountID: e.Account, OccurredAt: time.UnixMilli(e.At).UTC()})
	}
	return out, nil
}

func verifyDelivery(conn sdk.Connection, req sdk.WebhookRequest) ([]WebhookEvent, error) {
	key := conn.App["partner_key"]
	if key == "" {
		return nil, sdk.Errorf(sdk.CodeAuth, "deliveries cannot be verified: the driver's app credentials have no partner_key")
	}
	got, err := hex.DecodeString(req.Header(SignatureHeader))
	want, _ := hex.DecodeString(SignWebhook(key, req.Body))
	if err != nil || !hmac.Equal(got, want) {
		return nil, sdk.Errorf(sdk.CodeAuth, "the delivery's %s does not match", SignatureHeader)
	}
	var body struct {
		Events []WebhookEvent `json:"events"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return nil, sdk.Invalid("body", "is not a delivery: {\"events\": [...]}")
	}
	return body.Events, nil
}

var (
	_ sdk.WebhookRouter   = (*Driver)(nil)
	_ sdk.WebhookVerifier = (*Driver)(nil)
)
