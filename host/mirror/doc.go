// Package mirror is the host's system-of-record machinery: the CRM, not
// the host, keeps what the platform hands over. Conversations, their
// messages, customers, leads and cases are each stored on arrival with
// their CRM-write state and a job that writes them (host/jobs), answered
// at once, written to the tenant's CRM in the background, kept until the
// CRM has them plus a retention window, then purged. Nothing accepted is
// silently lost: a row the CRM does not take stays, visibly pending or
// failed, and a day later opens a crm_sync_failure incident.
//
// How each class lands: customers, leads and cases as their canonical
// objects through the tenant's mapping, created with the row's ID as the
// idempotency key (a retry finds the record instead of duplicating it). A
// conversation lands as one canonical "conversation" record (the
// provider's activity: a HubSpot note, a Salesforce Task, an Odoo chatter
// message) linked to its customer's record, created once with the
// transcript so far and then updated with the whole transcript as
// messages arrive: messages are coalesced, so a long call costs one write
// per batch, not one per turn. The sdk has no append verb; rewriting the
// whole body is idempotent (a retry after a lost response writes the same
// text again), keeps one record per conversation in the CRM, and a
// provider's field size bounds it, which is why a transcript is capped
// (Options.MaxTranscriptBytes: too_large past it) and why a conversation
// whose messages were purged takes no more (conflict).
//
// Errors: bad input is CodeInvalid naming the field, an unknown row
// CodeNotFound, a conversation past retention CodeConflict, an oversized
// transcript CodeTooLarge; the rest are the broker's and the store's.
package mirror
