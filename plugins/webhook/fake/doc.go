// Package fake is the receiver side of the custom-webhook bridge: an
// endpoint, served by an httptest server, that implements the bridge's
// contract (../contract/openapi.json) the way a tenant's team would, over
// an in-memory CRM.
//
// It exists so that the webhook driver can be tested, and newcomers can run
// crmhost in dev mode, with a real receiver on the other side. It checks
// everything a careful receiver checks: the Standard Webhooks signature
// (webhook-id, webhook-timestamp within five minutes, any one of the
// webhook-signature's v1 signatures, compared in constant time) with the
// account's whsec_ secrets, and every envelope against the contract's
// schema for its type (a request that does not match fails the test and
// is answered 400). It dedupes on webhook-id (a repeat gets the first
// answer) and on create's idempotency key, pages list_recent with its own
// tokens and reports deletions as tombstones.
//
// It serves two accounts with separate data and secrets, at two endpoint
// URLs (Connection and OtherConnection), so a driver that leaks one
// tenant's data into another's call is caught. Server implements
// drivertest.Provider (Inject: 429 with Retry-After, 503/502, dropped
// answers, latency, a refused signature) and drivertest.Seeding (for the
// read-only configuration, whose customers the driver cannot write).
package fake
