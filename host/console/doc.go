// Package console is the operator console: a server-rendered web UI
// (html/template, htmx and one small JavaScript module, all embedded with
// go:embed) that operators use to connect a tenant's CRM during a call
// with the customer, test and reconnect it, map its fields against the
// provider's live schema, read the audit trail, issue API keys and watch
// the drivers; and follow a tenant's system of record (sync state,
// incidents, redrive, erasure; Options.Mirror) and its CRM-triggered
// outbound calls (webhook deliveries and their decisions, trigger rules,
// consent, outbound settings; Options.Outbound). It calls the broker, the
// mirror and the outbound service directly, never the JSON API; without
// Mirror the sync pages say they are not configured, without Outbound the
// outbound pages are read-only. Phone numbers travel in POST bodies only
// (consent lookups), never in URLs, so they stay out of access logs.
//
// New returns an http.Handler meant to be mounted under a path prefix
// (Options.Prefix, "/console" by default), as River UI packages its UI;
// host/http mounts it. With Options.LiveDir set, templates and static
// files are read from that directory on every request, so template work
// needs no rebuild (crmhost dev sets it with CRMHOST_CONSOLE_DEV_DIR).
//
// Security: operators sign in with their named operator token (package
// operators); the session is a cookie (HttpOnly, SameSite=Strict, Secure
// and __Host- under TLS) whose value is sealed with the host's keyring, so
// every replica reads it and nobody can forge one. Each request re-checks
// that the operator is still active: revoking an operator ends their
// sessions at once. Every state-changing request passes Go's
// http.CrossOriginProtection (Sec-Fetch-Site / Origin) and needs a
// session; the Content-Security-Policy allows scripts and styles from the
// console's own origin only (no inline script, no inline style, no eval:
// htmx runs with allowEval off). Every action is audited under the
// operator's name, through the broker as the JSON API does.
//
// A time-limited reconnect link (sealed the same way) lets a customer
// finish the provider's sign-in, or re-enter their credentials, without a
// session: it names one tenant and its current provider and expires
// (Options.ReconnectTTL, 72h by default); what it does is audited as
// "<operator> (reconnect link)".
//
// # Adding a page
//
// A page is one Go file and one template:
//
//  1. Write templates/<page>.html defining "title" and "content" (the
//     layout, nav and flash messages come from templates/layout.html).
//     Partials shared by pages live in templates/partials.html.
//  2. Write <page>.go with a method that registers its routes on the mux:
//     func (c *Console) incidentRoutes(mux *http.ServeMux) { mux.HandleFunc("GET /incidents", c.incidents) }
//     Handlers render with c.render(w, r, "<page>", view) and get the
//     signed-in operator from operatorOf(r); state-changing handlers
//     audit with c.audit.
//  3. Add one line to the pages table in pages.go: its nav label, path and
//     routes function (an empty label keeps it out of the nav, as for
//     pages reached from a tenant). Tenant sub-pages use tenantTabs in
//     the same file.
//
// Errors shown on pages come from the broker's typed errors (code, field,
// message); a driver's own words pass through the same redaction as the
// JSON API's problem details.
package console
