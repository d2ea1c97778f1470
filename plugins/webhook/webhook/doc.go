// Package webhook is the crmhost driver for the custom-webhook bridge:
// for a CRM without a driver of its own, a tenant's team runs one HTTP
// endpoint, and every verb becomes a signed request to it.
//
// Each call is one JSON envelope, {type, timestamp, data} with a type per
// verb (crm.describe, crm.lookup_customer, crm.create_record, ...), sent
// as a POST (or a GET for reads, when the connection's read_method is
// GET) to the connection's endpoint URL (config base_url) and signed per
// Standard Webhooks v1.0.0: webhook-id, webhook-timestamp and
// webhook-signature "v1,<base64 HMAC-SHA256>" over id.timestamp.payload,
// keyed with the tenant's whsec_ secret, and with the previous secret as
// well during a rotation. The endpoint declares its objects and the verbs
// each supports in its answer to crm.describe (ListObjects), so the sdk
// answers the verbs an object lacks as unsupported without a request.
// ../contract/openapi.json and the README give the whole contract.
//
// Reads, updates, deletes and erases are retried with backoff on a
// transport failure or a 5xx, within the call's deadline; creates and 429
// answers never are. Requests leave only through the sdk's provider
// toolkit (egress guard, no redirects at all, size cap, redaction).
//
// Every method returns *sdk.Error values: CodeInvalid naming the field
// (signing_secret, config.base_url for a refused address, a redirect or a
// 410, response.<path> for an answer that breaks the contract, or the
// endpoint's own fields.<name>), CodeAuth when the endpoint refuses the
// signature, CodeNotFound, CodeConflict, CodeRateLimited with the
// endpoint's Retry-After, CodeUnsupported, and CodeUnavailable for 5xx
// answers, dropped connections and the call's context ending (wrapping
// ctx.Err()).
package webhook
