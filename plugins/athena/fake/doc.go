// Package fake is a faithful stand-in for athenahealth's athenaOne v1 API
// and its OAuth token endpoint, served by an httptest server.
//
// It exists so that the athena driver can be tested, and crmhost run in
// dev mode, without an athenahealth account or the network. It reproduces
// what a driver depends on, from ../shared/PROVIDERS.md (section 6), the
// fixtures in ../shared/specs/athenahealth/fixtures and athenahealth's
// documentation: the client-credentials token endpoint (Basic client
// authentication, one-hour tokens, expires_in as a string, 429 for the rest
// of the minute over the per-minute limit), the practice in every path
// (/v1/{practiceid}/…), form-encoded writes, MM/DD/YYYY dates and US
// Eastern date-times, GET /patients/{id} answering a one-element array,
// creates answering [{"patientid"}] after the server's best match (an
// automatic match answers the existing patient), limit/offset paging with
// totalcount and next links, the changed-data feeds and their
// subscriptions (leaveunprocessed, the processed window, 24-hour
// retention), booking, cancelling and rescheduling slots, patient cases,
// and athenahealth's error answers (the gateway's plain-text 401
// "Developer Inactive", 401 without a body for a bad token, 404 "Invalid
// practice.", 401 "Incorrect permissions.", 400 with missingfields).
//
// Every request is checked against the request shapes transcribed in
// athenaone-v1.yaml and, for the operations it covers, the third-party
// OpenAPI in ../shared/specs/athenahealth (relaxed in code where it
// contradicts athenaOne), so a driver that drifts fails its tests.
//
// It serves two practices granted to the app with separate data
// (Connection and OtherConnection) and one that has not granted it.
// Server implements drivertest.Provider (Inject fails the next requests
// the way athenahealth fails: 429 with Retry-After, 503/500, dropped
// responses, latency, expired tokens; Abandoned counts requests whose
// client gave up) and drivertest.TokenIssuing (Unissued, TokensIssued).
package fake
