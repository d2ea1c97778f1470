// Package hubspot is the crmhost driver for HubSpot CRM (API v3).
//
// It translates the sdk verbs into HubSpot's REST calls: contacts, deals
// and tickets through /crm/v3/objects, lookups by phone through the search
// API, idempotent creates through batch upsert on the custom unique
// property crmhost_idempotency_key, ListRecent through searches on the
// last-modified date (restarting the window to get past the search cap),
// archive and GDPR erase, property introspection, the OAuth code and
// refresh grants, and HubSpot's v1/v2/v3 webhook signatures.
//
// The driver is stateless: every call carries the tenant's connection
// (config base_url, default_region, portal_id; secret access_token,
// refresh_token; app credentials client_id, client_secret). It keeps one
// provider.Client (the sdk's HTTP toolkit: egress guard, redirect policy,
// size cap, redaction) per process and nothing else.
//
// Every method returns *sdk.Error values: CodeAuth for rejected tokens or
// missing scopes, CodeNotFound, CodeInvalid (naming the field), CodeConflict,
// CodeRateLimited (with RetryAfter), CodeUnavailable for HubSpot outages and
// dropped connections, and CodeUnavailable wrapping ctx.Err() when the
// call's context ends.
package hubspot
