package toast

import (
	"context"
	"maps"
	"net/http"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// ordersPath is where orders are posted.
const ordersPath = "/orders/v2/orders"

// externalIDPrefix names crmhost as the naming authority of the
// externalId an idempotent create sets (Toast: "an external identifier
// string that is prefixed by the naming authority").
const externalIDPrefix = "crmhost:"

// recoverWindow is how far back a retried create looks for the order its
// lost first attempt placed, when Toast cannot read it by externalId: the
// host's idempotency keys live a day.
const recoverWindow = 25 * time.Hour

// postedOrder is Toast's answer to a posted order: the Order itself (as
// Toast's docs and example show it), or an OrderResponse {orders: [Order]}
// (as its schema says).
type postedOrder struct {
	GUID   string `json:"guid"`
	Orders []struct {
		GUID string `json:"guid"`
	} `json:"orders"`
}

func (p postedOrder) guid() string {
	if p.GUID != "" {
		return p.GUID
	}
	if len(p.Orders) > 0 {
		return p.Orders[0].GUID
	}
	return ""
}

// CreateRecord places an order (object orders; guests cannot be created:
// CodeUnsupported). fields are Toast's Order as JSON (diningOption,
// checks with their selections and customer, deliveryInfo, ...), posted
// as they are with POST /orders/v2/orders. The order is real: Toast fires
// it in the restaurant's kitchen, or holds it for approval.
//
// With an idempotency key the order's externalId is "crmhost:<key>":
// Toast refuses a second order with an externalId it already has, so a
// retried create whose first answer was lost is refused, and the driver
// then answers the order the first attempt placed (read by externalId, or
// found among the orders of the last 25 hours).
//
// Errors: CodeInvalid naming fields.diningOption or fields.checks when
// they are missing, fields.externalId when it contradicts the key, or
// Toast's field; CodeAuth (the client lacks orders.orders:write: a
// restaurant's standard API access is read-only), CodeRateLimited,
// CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	o, err := lookupObject(in.Object)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if o.Name != objOrders {
		return sdk.CreateResult{}, unsupported(o.Name, sdk.VerbCreateRecord)
	}
	body, ext, err := orderBody(in)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	guid, err := restaurant(conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	tok, err := d.accessToken(ctx, conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	resp, err := d.send(ctx, conn, tok, guid, request{method: http.MethodPost, path: ordersPath, json: body})
	if err != nil {
		if c := sdk.CodeOf(err); ext != "" && (c == sdk.CodeInvalid || c == sdk.CodeConflict) {
			if id, ferr := d.findByExternalID(ctx, conn, tok, guid, ext); ferr != nil || id != "" {
				return sdk.CreateResult{ExternalID: id}, ferr
			}
		}
		return sdk.CreateResult{}, err
	}
	var out postedOrder
	if err := resp.DecodeJSON(&out); err != nil {
		return sdk.CreateResult{}, err
	}
	if out.guid() == "" {
		return sdk.CreateResult{}, sdk.Errorf(sdk.CodeUnavailable, "Toast accepted the order but answered no guid")
	}
	return sdk.CreateResult{ExternalID: out.guid()}, nil
}

// orderBody is the order to post and its externalId ("" without a key).
func orderBody(in sdk.CreateInput) (map[string]any, string, error) {
	body := maps.Clone(in.Fields)
	if _, ok := body["diningOption"].(map[string]any); !ok {
		return nil, "", sdk.Invalid("fields.diningOption", "is required: the dining option's reference, {\"guid\": …, \"entityType\": \"DiningOption\"}, from the restaurant's configuration")
	}
	if checks, ok := body["checks"].([]any); !ok || len(checks) == 0 {
		return nil, "", sdk.Invalid("fields.checks", "is required: at least one check with its menu selections (and the guest as its customer)")
	}
	if in.IdempotencyKey == "" {
		return body, "", nil
	}
	ext := externalIDPrefix + in.IdempotencyKey
	if v, ok := body["externalId"]; ok && v != ext {
		return nil, "", sdk.Invalid("fields.externalId", "is set from the idempotency key (%q); leave it out", ext)
	}
	body["externalId"] = ext
	return body, ext, nil
}

// findByExternalID returns the GUID of the restaurant's order with
// externalId ext, "" when there is none: read by externalId (which Toast
// documents), else looked for among the orders of the last 25 hours.
func (d *Driver) findByExternalID(ctx context.Context, conn sdk.Connection, tok, guid, ext string) (string, error) {
	resp, err := d.send(ctx, conn, tok, guid, request{method: http.MethodGet, path: provider.Path("orders", "v2", "orders", ext)})
	if err == nil {
		var o struct {
			GUID       string `json:"guid"`
			ExternalID string `json:"externalId"`
		}
		if resp.DecodeJSON(&o) == nil && o.ExternalID == ext && o.GUID != "" {
			return o.GUID, nil
		}
	} else if c := sdk.CodeOf(err); c != sdk.CodeNotFound && c != sdk.CodeInvalid {
		return "", err
	}
	var found string
	now := d.now()
	err = d.scan(ctx, conn, tok, guid, now.Add(-recoverWindow), now.Add(clockSkew), func(orders []order) bool {
		for _, o := range orders {
			if o.ExternalID == ext {
				found = o.GUID
			}
		}
		return found == ""
	})
	return found, err
}

var _ sdk.Driver = (*Driver)(nil)
