// Package fake is a faithful stand-in for HubSpot's CRM v3 API, served by
// an httptest server.
//
// It exists so that the HubSpot driver can be tested, and newcomers can run
// crmhost in dev mode, without a HubSpot account or the network. It
// reproduces what a driver depends on: HubSpot's real paths and bodies, its
// cursor and offset paging, the 10,000-result search window, its error
// bodies (401 INVALID_AUTHENTICATION / EXPIRED_AUTHENTICATION, 409
// "Contact already exists. Existing ID: n", 400 VALIDATION_ERROR with
// PROPERTY_DOESNT_EXIST, 404 OBJECT_NOT_FOUND), the X-HubSpot-RateLimit
// headers, the OAuth v1 token endpoints and search indexing lag.
//
// Every request is checked against HubSpot's official OpenAPI specs (in
// ../shared/specs/hubspot, relaxed in code only where the specs reject
// requests the real API accepts), so a driver that drifts from the real API
// fails its tests instead of passing against a lenient fake.
//
// It serves two portals with separate data (Connection and
// OtherConnection), so a driver that leaks one tenant's data into another's
// call is caught.
//
// Server implements drivertest.Provider: Inject makes the next requests
// fail the way HubSpot fails (429 with Retry-After, 502/503, dropped
// responses, latency, expired tokens), and Abandoned counts the requests
// whose client gave up while the fake held them. It also implements
// drivertest.Authorizing (Grant: a one-time OAuth code for the first
// portal) and drivertest.WebhookSending (Webhook: a delivery signed v3 with
// the app's client secret), so the whole conformance kit runs against it.
package fake
