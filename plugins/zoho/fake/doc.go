// Package fake is a faithful stand-in for Zoho CRM's v8 API and its
// accounts server, served by an httptest server.
//
// It exists so that the Zoho driver can be tested, and crmhost can run in
// dev mode, without a Zoho account or the network. It reproduces what a
// driver depends on: Zoho's paths and bodies for records (create, upsert
// with duplicate_check_fields, partial PUT, delete to the Recycle Bin,
// purge, /deleted), search (criteria, email, phone, word; 204 when nothing
// matches; the 2,000-result reach), lists (mandatory fields,
// If-Modified-Since with 304, page and per_page up to 2,000 records, then
// page_token), /org, /users, /settings/modules and /settings/fields, and
// notification channels (/actions/watch); Zoho's error bodies (401
// INVALID_TOKEN, INVALID_DATA naming the field or the id, MANDATORY_NOT_FOUND,
// DUPLICATE_DATA, INVALID_MODULE, 429 TOO_MANY_REQUESTS); whole-second
// Modified_Time; two separate orgs; and the accounts server's
// authorization-code and refresh grants with their quirks: errors with
// HTTP 200 ({"error":"invalid_code"}), single-use two-minute codes bound
// to their redirect URI (and PKCE challenge), no refresh-token rotation,
// at most 20 refresh tokens per user (the oldest deleted), 30 live access
// tokens per refresh token, and about 10 refreshes per 10 minutes
// ("Access Denied").
//
// Every CRM request is checked against Zoho's official OpenAPI documents
// (../shared/specs/zoho), relaxed in memory only where they reject what
// the real API accepts, so a driver that drifts from the real API fails its
// tests.
//
// Server implements drivertest.Provider, Authorizing and WebhookSending:
// Inject makes the next requests fail the way Zoho fails. It does not
// implement TokenIssuing: the Zoho driver obtains no tokens inside its
// verbs (they come from Authorize and the host's Refresh); TokensIssued
// still counts them.
package fake
