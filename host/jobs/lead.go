package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/riverqueue/river"
)

// LeadWriter writes stored leads to their tenant's CRM. The broker
// implements it.
type LeadWriter interface {
	// WriteLead creates l at l.TenantID's CRM as the canonical object
	// "lead", with l.ID as the create's idempotency key, so that a retry
	// after a lost response finds the record instead of duplicating it. It
	// returns the record's external ID and URL. Errors: the broker's codes;
	// see Retryable for which are retried.
	WriteLead(ctx context.Context, l host.Lead) (externalID, recordURL string, err error)
}

// LeadWriterFunc adapts a function to LeadWriter; it lets a Runner and the
// broker that writes its leads (and enqueues into it) refer to each other.
type LeadWriterFunc func(ctx context.Context, l host.Lead) (externalID, recordURL string, err error)

// WriteLead calls f.
func (f LeadWriterFunc) WriteLead(ctx context.Context, l host.Lead) (string, string, error) {
	return f(ctx, l)
}

// WriteLeadArgs is the write_lead job: write one stored lead to the CRM.
type WriteLeadArgs struct {
	TenantID string `json:"tenant_id"`
	LeadID   string `json:"lead_id"`
}

// Kind names the job in River.
func (WriteLeadArgs) Kind() string { return "write_lead" }

// Retryable reports whether a failed write is worth retrying: the CRM or
// the driver was unavailable, rate limited, or failed internally (as does
// any error that is not a typed host or driver error). Anything else
// (invalid, auth_error, not_connected, not_found, conflict, unsupported,
// delete_unsupported, ...) will fail the same way again.
func Retryable(err error) bool {
	switch host.CodeOf(err) {
	case host.ErrorCode(sdk.CodeUnavailable), host.ErrorCode(sdk.CodeRateLimited),
		host.CodeDriverUnavailable, host.CodeInternal:
		return true
	}
	return false
}

// retryAfter returns the provider's Retry-After carried by err, or zero.
func retryAfter(err error) time.Duration {
	var se *sdk.Error
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter
	}
	return 0
}

// describe is the LastError recorded for a failed attempt: the typed
// error's code and message (which the host and sdk contracts keep free of
// secrets), or a generic message for an untyped error, whose text stays in
// the log.
func describe(err error) string {
	var he *host.Error
	var se *sdk.Error
	switch {
	case errors.As(err, &he):
		return he.Error()
	case errors.As(err, &se):
		return se.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return string(host.CodeInternal) + ": the write timed out"
	}
	return string(host.CodeInternal) + ": the write failed unexpectedly"
}

// bookkeepingTimeout bounds the store writes that settle an attempt; they
// run even when the job's context has ended.
const bookkeepingTimeout = 10 * time.Second

// unrecordedSnooze is how long a job waits before trying again when the
// outcome of its final attempt could not be recorded.
const unrecordedSnooze = 30 * time.Second

// leadWorker works write_lead jobs.
type leadWorker struct {
	river.WorkerDefaults[WriteLeadArgs]
	store  host.Store
	writer LeadWriter
	policy river.ClientRetryPolicy
	log    hclog.Logger

	// retryAfter holds, by job ID, the provider's Retry-After of the
	// attempt that just failed, for NextRetry.
	retryAfter sync.Map
}

// Work writes the lead and settles the attempt: written; failed at once for
// a permanent error or on the last attempt; otherwise recorded and retried.
func (w *leadWorker) Work(ctx context.Context, job *river.Job[WriteLeadArgs]) error {
	tenantID, id := job.Args.TenantID, job.Args.LeadID
	log := w.log.With("tenant", tenantID, "lead", id, "attempt", job.Attempt)
	l, err := w.store.GetLead(ctx, tenantID, id)
	switch {
	case host.CodeOf(err) == host.CodeNotFound:
		log.Warn("the lead to write is gone; its tenant was deleted")
		return river.JobCancel(err)
	case err != nil:
		return err
	case l.Status != host.LeadPending:
		return nil // settled by an earlier run
	}

	ext, url, werr := w.write(ctx, l)
	if ctx.Err() == context.Canceled {
		// The client is stopping (or the job was cancelled): River puts
		// the job back without counting the attempt; so do we.
		return errors.Join(ctx.Err(), werr)
	}
	book, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()

	if werr == nil {
		_, err := w.store.MarkLeadWritten(book, tenantID, id, ext, url)
		switch host.CodeOf(err) {
		case "":
			log.Debug("lead written", "external_id", ext)
			return nil
		case host.CodeConflict:
			return nil // a concurrent run marked it
		case host.CodeNotFound:
			return river.JobCancel(err)
		}
		// The CRM has the lead but the store did not record it: retry; the
		// CRM dedupes the create by the lead's ID.
		log.Error("recording a written lead failed", "error", err)
		if job.Attempt >= job.MaxAttempts {
			return river.JobSnooze(unrecordedSnooze)
		}
		return err
	}

	final := !Retryable(werr) || job.Attempt >= job.MaxAttempts
	if _, err := w.store.MarkLeadAttempt(book, tenantID, id, describe(werr), final); err != nil {
		switch host.CodeOf(err) {
		case host.CodeNotFound:
			return river.JobCancel(err)
		case host.CodeConflict:
			return nil // no longer pending: a concurrent run settled it
		}
		log.Error("recording a failed attempt failed", "error", err, "write_error", werr)
		if final {
			return river.JobSnooze(unrecordedSnooze)
		}
		return werr
	}
	if final {
		log.Error("lead failed", "code", host.CodeOf(werr), "error", werr)
		return river.JobCancel(werr)
	}
	log.Warn("lead write failed; retrying", "code", host.CodeOf(werr), "error", werr)
	if ra := retryAfter(werr); ra > 0 {
		w.retryAfter.Store(job.ID, ra)
	}
	return werr
}

// write calls the writer, turning a panic into an internal error so the
// attempt is still settled.
func (w *leadWorker) write(ctx context.Context, l host.Lead) (ext, url string, err error) {
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("lead writer panicked", "lead", l.ID, "panic", p, "stack", string(debug.Stack()))
			err = &host.Error{Code: host.CodeInternal, Message: "the write failed unexpectedly", Cause: fmt.Errorf("panic: %v", p)}
		}
	}()
	return w.writer.WriteLead(ctx, l)
}

// NextRetry waits out the provider's Retry-After when it is longer than the
// backoff.
func (w *leadWorker) NextRetry(job *river.Job[WriteLeadArgs]) time.Time {
	next := w.policy.NextRetry(job.JobRow)
	if ra, ok := w.retryAfter.LoadAndDelete(job.ID); ok {
		if at := time.Now().Add(ra.(time.Duration)); at.After(next) {
			next = at
		}
	}
	return next
}

// PruneIdempotencyArgs is the periodic prune_idempotency job.
type PruneIdempotencyArgs struct{}

// Kind names the job in River.
func (PruneIdempotencyArgs) Kind() string { return "prune_idempotency" }

// pruneWorker deletes expired idempotency keys, in batches of batch.
type pruneWorker struct {
	river.WorkerDefaults[PruneIdempotencyArgs]
	store host.Store
	now   func() time.Time
	batch int
	log   hclog.Logger
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneIdempotencyArgs]) error {
	before := w.now()
	n, err := host.PruneBatches(ctx, w.batch, yielding(func(ctx context.Context, limit int) (int64, error) {
		return w.store.PruneIdempotency(ctx, before, limit)
	}))
	w.log.Debug("pruned expired idempotency keys", "deleted", n)
	return err
}

// PruneAuditArgs is the periodic prune_audit job.
type PruneAuditArgs struct{}

// Kind names the job in River.
func (PruneAuditArgs) Kind() string { return "prune_audit" }

// pruneAuditWorker deletes audit entries older than the retention, in
// batches of batch. A backlog bigger than one run can delete in its
// timeout keeps what it deleted (each batch commits) and the next run
// goes on.
type pruneAuditWorker struct {
	river.WorkerDefaults[PruneAuditArgs]
	store     host.Store
	now       func() time.Time
	retention time.Duration
	batch     int
	log       hclog.Logger
}

func (w *pruneAuditWorker) Work(ctx context.Context, _ *river.Job[PruneAuditArgs]) error {
	before := w.now().Add(-w.retention)
	n, err := host.PruneBatches(ctx, w.batch, yielding(func(ctx context.Context, limit int) (int64, error) {
		return w.store.PruneAudit(ctx, before, limit)
	}))
	if n > 0 {
		w.log.Info("pruned audit entries past their retention", "deleted", n, "before", before)
	}
	return err
}

// yielding wraps a prune batch so that each batch after the first waits
// as long as the one before it took: a backlog's prune holds the database
// (SQLite's single writer, say) at most half the time, and the requests'
// own writes get the other half.
func yielding(prune func(ctx context.Context, limit int) (int64, error)) func(ctx context.Context, limit int) (int64, error) {
	var last time.Duration
	return func(ctx context.Context, limit int) (int64, error) {
		if last > 0 {
			t := time.NewTimer(last)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			case <-t.C:
			}
		}
		start := time.Now()
		n, err := prune(ctx, limit)
		last = time.Since(start)
		return n, err
	}
}

var _ LeadWriter = LeadWriterFunc(nil)
