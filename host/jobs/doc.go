// Package jobs runs the host's background work on River, a job queue that
// lives in the host's own database (PostgreSQL through riverpgxv5, the
// embedded SQLite file through riversqlite), so a job is as durable as the
// rows it is about:
//
//   - write_lead writes a lead pushed to POST /v1/leads to the tenant's
//     CRM, retrying transient failures with backoff (honouring a
//     provider's Retry-After) and marking the lead written or failed;
//   - prune_idempotency deletes expired idempotency keys, hourly.
//
// Nothing is lost: Runner.EnqueueLead stores a lead and enqueues its job in
// one database transaction, so a lead the host accepted always has a job
// that will settle it, across crashes and restarts.
package jobs
