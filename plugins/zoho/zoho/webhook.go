package zoho

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// notification is the body of a Zoho notification-channel delivery:
// {"server_time":1750000000000,"module":"Leads","resource_uri":"…","ids":["…"],
// "affected_fields":[{"…id…":["Phone"]}],"operation":"update","channel_id":"…","token":"…"}.
type notification struct {
	ServerTime     flex             `json:"server_time"`
	Module         string           `json:"module"`
	ResourceURI    string           `json:"resource_uri"`
	IDs            []flex           `json:"ids"`
	AffectedFields []map[string]any `json:"affected_fields"`
	Operation      string           `json:"operation"`
	ChannelID      flex             `json:"channel_id"`
	Token          string           `json:"token"`
}

// flex reads a value Zoho sends as a JSON number or a string, without
// losing digits.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flex(n.String())
	return nil
}

// decodeNotification reads and checks a delivery with the app's
// webhook_secret: its token must verify for its channel. It answers the
// notification and the account its token names. Errors: CodeAuth for an
// app without a webhook_secret or a token that does not verify;
// CodeInvalid naming "body" for a body that is not Zoho's notification.
func decodeNotification(conn sdk.Connection, req sdk.WebhookRequest) (notification, string, error) {
	secret := conn.App[appWebhookSecret]
	if secret == "" {
		return notification{}, "", sdk.Errorf(sdk.CodeAuth, "Zoho notifications cannot be verified: the driver's app credentials have no webhook_secret")
	}
	var n notification
	if err := json.Unmarshal(req.Body, &n); err != nil {
		return notification{}, "", sdk.Invalid("body", "is not a Zoho notification (a JSON object with channel_id, token, module, operation and ids)")
	}
	if n.ChannelID == "" || n.Token == "" {
		return notification{}, "", sdk.Invalid("body", "names no channel_id or token")
	}
	account, err := checkToken(secret, n.Token, string(n.ChannelID))
	if err != nil {
		return notification{}, "", err
	}
	return n, account, nil
}

// RouteWebhook answers which Zoho org a delivery to the driver's one
// notification URL concerns: the account named by the channel token,
// after verifying the token's HMAC with the app's webhook_secret in
// constant time. Errors: CodeAuth for a token that does not verify (or an
// app without a webhook_secret); CodeInvalid naming "body" for a body
// that is not Zoho's notification.
func (d *Driver) RouteWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookRoute, error) {
	_, account, err := decodeNotification(conn, req)
	if err != nil {
		return sdk.WebhookRoute{}, err
	}
	return sdk.WebhookRoute{AccountIDs: []string{account}}, nil
}

// kinds maps Zoho's operations to canonical event kinds.
var kinds = map[string]string{"insert": sdk.EventCreated, "update": sdk.EventUpdated, "delete": sdk.EventDeleted}

// VerifyWebhook verifies a delivery for the connection (its channel token
// must verify and name the connection's org) and normalises it: one event
// per id, kind record.created, record.updated or record.deleted (Zoho's
// insert, update, delete; others keep their name), the module as object
// (with its canonical name for the standard modules), occurred at
// server_time, with the fields Zoho says were affected as data. Zoho
// gives deliveries no id, so an event's dedupe id is
// channel:server_time:module:operation:record. A delivery for another
// org answers no events. Zoho wants a plain 200: no reply. Errors: those
// of RouteWebhook.
func (d *Driver) VerifyWebhook(_ context.Context, conn sdk.Connection, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	n, account, err := decodeNotification(conn, req)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	if conn.AccountID != "" && account != conn.AccountID {
		return sdk.WebhookResult{}, nil
	}
	canonical := ""
	if m, ok := moduleNamed(n.Module); ok {
		canonical = m.canonical
	}
	op := strings.ToLower(n.Operation)
	kind := kinds[op]
	if kind == "" {
		kind = n.Module + "." + op
	}
	var at time.Time
	if ms, err := strconv.ParseInt(string(n.ServerTime), 10, 64); err == nil && ms > 0 {
		at = time.UnixMilli(ms).UTC()
	}
	affected := map[string]any{}
	for _, af := range n.AffectedFields {
		for id, fields := range af {
			affected[id] = fields
		}
	}
	out := make([]sdk.WebhookEvent, 0, len(n.IDs))
	for _, id := range n.IDs {
		ev := sdk.WebhookEvent{
			ID:   strings.Join([]string{string(n.ChannelID), string(n.ServerTime), n.Module, op, string(id)}, ":"),
			Kind: kind, Type: n.Module + "." + op, Object: n.Module, CanonicalObject: canonical,
			ExternalID: string(id), AccountID: account, OccurredAt: at,
		}
		if f, ok := affected[string(id)]; ok {
			ev.Data = map[string]any{"affected_fields": f}
		}
		out = append(out, ev)
	}
	return sdk.WebhookResult{Events: out}, nil
}

var (
	_ sdk.WebhookRouter   = (*Driver)(nil)
	_ sdk.WebhookVerifier = (*Driver)(nil)
)
