// Package fake is a faithful stand-in for Mindbody's Public API v6, served
// by an httptest server.
//
// It exists so that the Mindbody driver can be tested, and newcomers can
// run crmhost in dev mode, without a Mindbody developer account or the
// network. It reproduces what the driver depends on: Mindbody's real paths
// under /public/v6, the Api-Key and SiteId headers, staff user tokens
// (issued by POST /usertoken/issue, living 24 hours, renewed at most seven
// times), clients (search by name or email only, never by phone; the
// first-name + last-name + email duplicate rule; clientduplicates; partial
// updateclient; lastModifiedDate filtering; lists ordered by name, not by
// modification time), appointments (with Execute status changes and
// request deduplication), class bookings and contact logs, Mindbody's
// limit/offset paging with PaginationResponse, its error body
// {"Error":{"Message","Code"}} (401 DeniedAccess for a missing or wrong API
// key, a failed staff login or a bad token; 400 InvalidSiteId; 400
// ClientNotFound), the sandbox site -99 open to every API key and capped
// per day, and signed webhook deliveries (X-Mindbody-Signature).
//
// Query names are read the way Mindbody reads them: case-insensitively,
// with or without the "request." prefix. Every request is checked against
// Mindbody's official Swagger 2.0 spec (../shared/specs/mindbody, converted
// to OpenAPI 3 by kin-openapi) after its query names are matched to the
// operation's, so a driver that drifts from the real API fails its tests
// instead of passing against a lenient fake.
//
// Where Mindbody's behaviour is not documented (error codes other than
// DeniedAccess and ClientNotFound, the renewal limit's answer, the
// deduplication window) the fake picks a plausible answer and says so; the
// driver classifies by HTTP status as well as by code, so it copes with
// either reading.
//
// Server implements drivertest.Provider, TokenIssuing and WebhookSending:
// Inject makes the next requests fail the way Mindbody fails (429 with
// Retry-After, 500 and a gateway's 503, dropped responses, latency, 401
// DeniedAccess), and InjectOn aims a fault at one operation.
package fake
