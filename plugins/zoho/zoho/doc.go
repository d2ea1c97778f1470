// Package zoho is the crmhost driver for Zoho CRM (REST API v8), in every
// Zoho data centre (US, EU, IN, AU, JP, CN, SA, CA, UK).
//
// It translates the sdk's verbs into Zoho's API: OAuth authorization-code
// connect and refresh at the data centre's accounts server (whose token
// errors arrive with HTTP 200), CRM calls on the api_domain Zoho names,
// lookups by search criteria, email or id, upserts on a unique custom
// field for idempotent creates, partial PUT updates, ListRecent with
// If-Modified-Since, page and page_token and tombstones from the deleted
// records, deletes to the Recycle Bin and permanent erasure, live schemas
// from /settings/fields, custom modules from /settings/modules, and
// notification channels (/actions/watch) whose deliveries it routes and
// verifies by an HMAC channel token.
//
// Every failure is an *sdk.Error: auth_error (INVALID_TOKEN,
// OAUTH_SCOPE_MISMATCH, invalid_code), rate_limited (TOO_MANY_REQUESTS
// with Zoho's retry-after), not_found (an id Zoho calls invalid), invalid
// naming the field (INVALID_DATA, MANDATORY_NOT_FOUND), conflict
// (DUPLICATE_DATA), unsupported and unavailable (5xx, transport failures,
// the call's context ending).
package zoho
