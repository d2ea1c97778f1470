// Package odoo is the crmhost driver for Odoo.
//
// It translates the sdk verbs into calls of Odoo's external API: JSON-RPC
// (POST /jsonrpc, common.authenticate and object.execute_kw) up to Odoo
// 18, and JSON-2 (POST /json/2/<model>/<method> with the API key as a
// bearer token) from Odoo 19, chosen by the server's version. Partners
// (res.partner) are customers, leads (crm.lead) leads, chatter messages
// (mail.message) conversations, and any other model of the database is an
// object through ListObjects (ir.model). Lookups use search_read domains
// (phone_validation's phone_mobile_search where installed), idempotent
// creates an external id in ir.model.data created atomically with the
// record by load, ListRecent keyset pages on the one-second write_date,
// delete is unlink (or archive), DescribeObject is fields_get.
//
// The driver is stateless: every call carries the connection (config
// base_url, database, username, default_region, api, delete_mode; secret
// api_key) and the facts the driver learned and sent back as credential
// updates (config server_version and, for JSON-RPC, uid). It keeps one
// HTTP client (the sdk's provider toolkit) and a short cache of model
// schemas per process, nothing else.
//
// Every method returns *sdk.Error values: Odoo's exceptions arrive as HTTP
// 200 with error.data.name over JSON-RPC and as 401/403/404/409/422 over
// JSON-2, and both are classified in one place (classifyFault):
// CodeAuth for a rejected key or a missing access right, CodeNotFound,
// CodeInvalid naming the field (or object, or database), CodeConflict,
// CodeRateLimited (with the proxy's Retry-After), CodeUnavailable for
// outages and dropped connections, wrapping ctx.Err() when the call's
// context ends.
package odoo
