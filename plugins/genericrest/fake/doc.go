// Package fake is the Sample CRM: a small REST CRM served by an httptest
// server, which crmhost's generic REST driver is configured for (by the
// connector definition in testdata/samplecrm.yaml) and tested against,
// and which dev mode runs with a demo tenant.
//
// It publishes its OpenAPI 3.0 document (openapi.json, served at
// /openapi.json) and validates every request against it, so a definition
// that drifts from the API's documented shape fails its tests. It has
// what a definition has to cope with: contacts paged by offset and limit
// (and searched with numbered pages, and a feed of deleted contacts),
// leads paged by an opaque cursor and upserted by an external reference,
// notes paged through the Link header; Idempotency-Key on creates; phone
// numbers stored in E.164; API keys in a header or the query, bearer
// tokens, basic auth and the OAuth 2.0 client-credentials grant; its own
// error body ({"error": {"code", "message", "field"}}), 401 token_expired,
// 429 with Retry-After and RateLimit headers, and a load balancer that
// answers 502 in HTML.
//
// Two accounts (A and B) keep separate data. Server implements
// drivertest.Provider (Inject fails API requests the Sample CRM's way;
// Abandoned counts requests whose client left), drivertest.TokenIssuing
// (the token endpoint counts what it issues) and drivertest.Seeding.
package fake
