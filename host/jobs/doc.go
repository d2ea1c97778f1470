// Package jobs runs the host's background work on River, a job queue that
// lives in the host's own database (PostgreSQL through riverpgxv5, the
// embedded SQLite file through riversqlite), so a job is as durable as the
// rows it is about:
//
//   - write_lead writes a lead pushed to POST /v1/leads to the tenant's
//     CRM, retrying transient failures with backoff (honouring a
//     provider's Retry-After) and marking the lead written or failed;
//   - prune_idempotency deletes expired idempotency keys, hourly, and
//     prune_audit audit entries older than Options.AuditRetention (when
//     set), both in bounded batches (Options.PruneBatch rows a delete);
//   - mirror_write writes a mirrored customer or case (host/mirror) the same
//     way, settling it written, failed or unsupported;
//   - mirror_conversation writes a conversation's transcript, its pending
//     messages coalesced: at most one is live per conversation, and it
//     completes in the transaction that finds no message pending, so a
//     message appended meanwhile finds it still running (and is written by
//     its next batch) or finds none and enqueues one;
//   - erase runs a right-to-erasure request, step by step, until done;
//   - mirror_purge and mirror_escalate run the mirror's retention purge and
//     its sync-failure escalation periodically;
//   - process_event handles an inbound webhook event the host stored
//     before acknowledging it (outbound.Service.Process), decide_call runs
//     a delayed trigger rule's gates, deliver_call posts a call request to
//     the tenant's dialer (retried with backoff), outbound_rescue (every
//     minute) enqueues events and call requests a crash left without a
//     job, and prune_events drops settled events past their retention.
//
// Nothing is lost: Runner.EnqueueLead, EnqueueRows, AppendMessages, Redrive
// and EnqueueErasure store their rows and enqueue their jobs in one database
// transaction, so a row the host accepted always has a job that will settle
// it, across crashes and restarts.
package jobs
