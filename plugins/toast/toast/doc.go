// Package toast is the crmhost driver for Toast, the restaurant point of
// sale.
//
// Toast has no guest API a CRM can use: its guests exist only as the
// customer on orders' checks (the older /crm/v1 customers API is
// deprecated and absent from Toast's current specifications, and the
// loyalty integration is inverted: Toast calls the integrator). So the
// driver reads guests from the orders API (GET /orders/v2/ordersBulk,
// filtered by the orders' modification time) and serves two objects:
//
//   - guests (canonical customer): lookup by phone, email or guest GUID,
//     which scans the restaurant's recent orders, and ListRecent;
//   - orders: CreateRecord (POST /orders/v2/orders, idempotent through the
//     order's externalId) and ListRecent, with deleted orders reported as
//     tombstones.
//
// Every other verb is declared unsupported per object with the Toast
// limitation that rules it out, so the sdk answers it without reaching
// the driver.
//
// Authentication is Toast's client-credentials login
// (POST /authentication/v1/authentication/login) with the platform's
// partner client id and secret (app credentials), or with a restaurant's
// own standard-API-access credentials from its connection. The token is
// handed back to the host as a credential update, reused from the
// connection's secret on later calls, renewed before it expires and by
// Refresh, and shared within the process by callers holding the same
// client credentials, because Toast asks clients to request no more than a
// couple of tokens a day.
//
// Webhooks: Toast's orders webhook (order_updated), signed with
// Toast-Signature (base64 HMAC-SHA256 of the raw body followed by the
// body's timestamp, keyed with the subscription's secret), routed by
// restaurant GUID.
//
// The driver is stateless apart from that token cache: every call carries
// the tenant's connection (config restaurant_guid, base_url,
// default_region, client_id, lookup_days, history_days; secret
// client_secret, access_token, token_expires_at; app credentials
// client_id, client_secret, webhook_secret). All HTTP goes through the
// sdk's provider toolkit.
//
// Every method returns *sdk.Error values: CodeAuth for refused
// credentials, tokens or restaurant access; CodeInvalid naming the field
// (config.restaurant_guid for a GUID that is not one); CodeNotFound;
// CodeRateLimited with Toast's retry-after; CodeUnavailable for Toast
// outages and dropped connections, wrapping ctx.Err() when the call's
// context ends; CodeUnsupported and CodeDeleteUnsupported for what Toast
// cannot do.
package toast
