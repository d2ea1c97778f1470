// Package salesforce is the crmhost driver for Salesforce (REST API).
//
// It translates the sdk verbs into Salesforce's REST calls on the org's
// instance: Contact, Lead, Opportunity, Case and Task (the conversation
// object) with their default mappings, and the org's other objects
// (custom __c ones included) through ListObjects from describe global;
// lookups by phone through SOSL, by email through SOQL and by id or the
// External ID field, trying Contact then Lead; SOSL search; idempotent
// creates through External ID upserts; partial PATCH updates; ListRecent
// over SystemModstamp with a cursor and the delete log's tombstones;
// deletes to the Recycle Bin; describe; the OAuth authorization-code
// (PKCE) and refresh grants on production, sandbox and My Domain login
// hosts with the token answer's signature checked; and Outbound Message
// webhooks routed and verified by organization id and acknowledged in
// SOAP.
//
// The driver is stateless: every call carries the tenant's connection
// (config login_url, instance_url, api_version, external_id_field,
// session_timeout_minutes, default_region, base_url; secret access_token,
// refresh_token) and the platform's connected app (app client_id,
// client_secret). It keeps one HTTP client per process and nothing else.
//
// Every method returns *sdk.Error values, classified from Salesforce's
// error arrays: CodeAuth (INVALID_SESSION_ID, refused grants, token
// answers that fail a check), CodeRateLimited (403 REQUEST_LIMIT_EXCEEDED),
// CodeNotFound, CodeInvalid naming the field (REQUIRED_FIELD_MISSING,
// INVALID_FIELD…), CodeConflict (DUPLICATES_DETECTED), CodeUnavailable
// for outages, dropped connections, and the call's context ending.
package salesforce
