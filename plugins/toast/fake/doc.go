// Package fake is a faithful stand-in for Toast's APIs, served by an
// httptest server.
//
// It exists so that the Toast driver can be tested, and newcomers can run
// crmhost in dev mode, without a Toast partner account or the network. It
// reproduces what the driver depends on: the client-credentials login
// (POST /authentication/v1/authentication/login, tokens that expire), the
// restaurants API's read of a restaurant, the orders API's POST
// /orders/v2/orders (refusing a duplicate externalId), GET
// /orders/v2/orders/{guid} (also by externalId) and GET
// /orders/v2/ordersBulk (startDate and
// endDate on the modification time, at most a month apart, or
// businessDate; pageSize at most 100; Link headers; orders in no
// particular time order), checks with their Customer (phone and email only
// for clients with the guest.pi:read scope), deleted orders,
// Toast-Restaurant-External-ID scoping with 403 for restaurants a client
// may not read, Toast's ErrorMessage bodies, 429 with Retry-After and the
// X-Toast-RateLimit-* headers (and, optionally, ordersBulk's per-restaurant
// limit enforced), and orders webhook deliveries signed with
// Toast-Signature.
//
// Every request is checked against Toast's official specs (Swagger 2.0 in
// ../shared/specs/toast, converted to OpenAPI 3 and served below each
// spec's base path on the fake's host instead of the placeholder
// toast-api-server), so a driver that drifts from the real API fails its
// tests instead of passing against a lenient fake.
//
// It serves two restaurants with separate orders (Connection and
// OtherConnection) to a partner client, and the first one to a
// restaurant's own standard-API-access client (StandardConnection).
//
// Server implements drivertest.Provider (Inject: Toast's 429, 500/503,
// dropped responses, latency, 401; Abandoned), drivertest.TokenIssuing
// (Unissued, TokensIssued), drivertest.Seeding (guests, which no Toast
// API creates alone, and orders) and drivertest.WebhookSending
// (order_updated deliveries), so the whole conformance kit runs against it.
package fake
