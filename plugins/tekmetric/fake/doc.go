// Package fake is a faithful stand-in for Tekmetric's partner API v1,
// served by an httptest server.
//
// It exists so that the Tekmetric driver can be tested, and newcomers can
// run crmhost in dev mode, without a Tekmetric partner account or the
// network. It reproduces what a driver depends on, from Tekmetric's
// documentation (../shared/specs/tekmetric/api-v1-docs.txt) and
// ../shared/PROVIDERS.md:
//
//   - the client-credentials token endpoint (HTTP Basic; {"error":
//     "invalid_client"} for bad credentials; one long-lived token per
//     partner app, answered again until it is revoked; scope = the ids of
//     the shops that authorized the app, space-separated);
//   - shops, customers, repair orders and appointments under /api/v1, for
//     several shops reachable by one token (a record of any of them can be
//     read by id: isolating tenants is the driver's job), with Tekmetric's
//     bodies ({"type":"SUCCESS","message":…,"data":…} for writes), Spring
//     Data pages silently capped at 100 a page, the customer search over
//     names, emails and phone numbers, updatedDate/deletedDate filters
//     (deleted records only from the deleted filters, appointments with
//     includeDeleted), soft-deleted appointments;
//   - its errors: 401 with an empty body for a bad token, 403 {"type":
//     "ERROR","message":"Access Denied"} for a shop outside the token's
//     scope, 404s and 400s in the same envelope, 429 with an empty body
//     once the 600-a-minute budget is spent.
//
// Every request is checked against tekmetric-api-v1.yaml, the request
// shapes transcribed from Tekmetric's documentation (Tekmetric publishes no
// OpenAPI), including query parameters it does not document and body
// fields it does not list, so a driver that drifts from the documented API
// fails its tests instead of passing against a lenient fake.
//
// Server implements drivertest.Provider, TokenIssuing and Seeding: Inject
// makes the next requests fail the way Tekmetric fails (429 with an empty
// body, 502/503, dropped responses, latency, a revoked token).
package fake
