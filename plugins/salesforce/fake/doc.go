// Package fake is a faithful stand-in for Salesforce, login host and org
// instance in one httptest server.
//
// It exists so that the Salesforce driver can be tested, and crmhost run
// in dev mode, without a Salesforce org or the network. It reproduces what
// a driver depends on: the REST paths under /services/data/vXX.X
// (sobjects, describe, describe global, records by id and by External ID,
// upsert with 201/200/300, PATCH 204, DELETE to the Recycle Bin, the
// delete log, limits), a SOQL subset with Salesforce's typing rules
// (unquoted datetimes, case-insensitive strings, duplicate fields refused)
// and nextRecordsUrl batches, SOSL with phone-aware matching and an
// optional indexing lag, error arrays (401 INVALID_SESSION_ID, 403
// REQUEST_LIMIT_EXCEEDED with Sforce-Limit-Info, 400
// REQUIRED_FIELD_MISSING with fields, DUPLICATES_DETECTED, INVALID_FIELD,
// MALFORMED_QUERY), two orgs with separate data and their own custom
// objects, and the OAuth endpoints: authorize (PKCE), token (signed
// answers without expires_in; refresh-token rotation with reuse detection
// that revokes the family), revoke and userinfo. It builds Outbound
// Messages (SOAP) for webhook tests.
//
// Every request is checked against Salesforce's official Postman
// collection (../shared/specs/salesforce), widened in code only where the
// 2021 collection is narrower than Salesforce's documented API (see
// relaxations in spec.go), so a driver that drifts from the real API fails
// its tests.
//
// Server implements drivertest.Provider (and Authorizing, WebhookSending):
// Inject makes the next requests fail the way Salesforce fails.
package fake
