// Package mindbody is the crmhost driver for Mindbody (Public API v6), the
// booking and client system of salons, spas, studios and gyms.
//
// It translates the sdk verbs into Mindbody's REST calls: clients (lookup
// by phone, email or client id; search by name or email; create
// deduplicated the way Mindbody's duplicate rule allows; partial update;
// ListRecent by modification time with deactivated clients as tombstones),
// appointments (book, reschedule, cancel through Execute), class bookings
// (book, cancel) and contact logs (the canonical conversation: create,
// update, search by client, delete). Mindbody's API deletes no client,
// appointment or class booking: those answer delete_unsupported with the
// way Mindbody offers instead (deactivate, cancel).
//
// A connection names the business's site id and a staff login; the
// platform's API key (and the webhook subscription's signature key) are
// app credentials, the same for every tenant. The driver issues a staff
// user token with the login, renews it within its 24-hour life (at most
// seven times, then issues another) and hands every token it obtains back
// to the host as a credential update, so the next call, in any driver
// process, reuses it.
//
// Mindbody's client list cannot be searched by phone nor ordered by
// modification time, so the driver keeps, per site and per process only,
// a directory of client ids, modification times and salted phone hashes
// (directory.go), filled by one scan and kept current with one
// incremental read per use.
//
// Every method returns *sdk.Error values: CodeAuth for a refused API key,
// staff login or token; CodeInvalid (naming the field, config.site_id for
// a site Mindbody does not know); CodeNotFound; CodeConflict;
// CodeRateLimited (with RetryAfter); CodeUnavailable for outages, dropped
// connections and the call's context ending (wrapping ctx.Err());
// CodeUnsupported and CodeDeleteUnsupported with Mindbody's limitation.
package mindbody
