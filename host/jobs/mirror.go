package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/mirror"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// MirrorWriteArgs is the mirror_write job: write one customer or case row
// to the CRM.
type MirrorWriteArgs struct {
	TenantID string `json:"tenant_id"`
	RowID    string `json:"row_id"`
	// Run tells a redrive's job from the job that gave up on the row,
	// which may still be finishing: without it the redrive's insert would
	// be taken for a duplicate of that one.
	Run string `json:"run,omitempty"`
}

// Kind names the job in River.
func (MirrorWriteArgs) Kind() string { return "mirror_write" }

// ConversationArgs is the mirror_conversation job: write a conversation's
// transcript (its pending messages coalesced) to the CRM. At most one is
// live per conversation.
type ConversationArgs struct {
	TenantID       string `json:"tenant_id"`
	ConversationID string `json:"conversation_id"`
	// Run: as MirrorWriteArgs.Run.
	Run string `json:"run,omitempty"`
}

// Kind names the job in River.
func (ConversationArgs) Kind() string { return "mirror_conversation" }

// EraseArgs is the erase job: run one erasure request.
type EraseArgs struct {
	TenantID  string `json:"tenant_id"`
	ErasureID string `json:"erasure_id"`
}

// Kind names the job in River.
func (EraseArgs) Kind() string { return "erase" }

// PurgeArgs is the periodic mirror_purge job.
type PurgeArgs struct{}

// Kind names the job in River.
func (PurgeArgs) Kind() string { return "mirror_purge" }

// EscalateArgs is the periodic mirror_escalate job.
type EscalateArgs struct{}

// Kind names the job in River.
func (EscalateArgs) Kind() string { return "mirror_escalate" }

// uniqueLive keeps one live job per args: a conversation's next batch,
// a row's write.
var uniqueLive = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable,
	rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}

// waitSnooze is how long a row waiting for its customer waits before
// trying again; eraseWait how long an erasure waits for writes in flight.
const (
	waitSnooze = 2 * time.Second
	eraseWait  = time.Second
)

// mirrorTxStore is a store that writes mirrored rows in transactions of
// type TTx the caller writes jobs in (see sqlite.Store.CreateMirrorRowsTx).
type mirrorTxStore[TTx any] interface {
	CreateMirrorRowsTx(ctx context.Context, rows []host.MirrorRow, fn func(ctx context.Context, tx TTx, rows []host.MirrorRow) error) ([]host.MirrorRow, error)
	AppendMessagesTx(ctx context.Context, tenantID, conversationID string, msgs []host.MirrorRow, maxBytes int,
		fn func(ctx context.Context, tx TTx, conv host.MirrorRow, msgs []host.MirrorRow) error) ([]host.MirrorRow, error)
	RedriveMirrorTx(ctx context.Context, tenantID string, f host.RedriveFilter, limit int, fn func(ctx context.Context, tx TTx, rows []host.MirrorRow) error) ([]host.MirrorRow, error)
	CreateErasureTx(ctx context.Context, e host.Erasure, fn func(ctx context.Context, tx TTx, e host.Erasure) error) (host.Erasure, error)
	FinishConversationTx(ctx context.Context, tenantID, conversationID string, fn func(ctx context.Context, tx TTx) error) (int, error)
}

// jobFor is the job that writes row: its conversation's for a message.
func jobFor(row host.MirrorRow, run string) river.JobArgs {
	switch row.Class {
	case host.ClassLead:
		return WriteLeadArgs{TenantID: row.TenantID, LeadID: row.ID}
	case host.ClassConversation:
		return ConversationArgs{TenantID: row.TenantID, ConversationID: row.ID, Run: run}
	case host.ClassMessage:
		return ConversationArgs{TenantID: row.TenantID, ConversationID: row.ConversationID, Run: run}
	}
	return MirrorWriteArgs{TenantID: row.TenantID, RowID: row.ID, Run: run}
}

// insertFor enqueues the jobs of rows in tx, one per conversation; run
// names a redrive (see MirrorWriteArgs.Run).
func (e *riverEngine[TTx]) insertFor(ctx context.Context, tx TTx, rows []host.MirrorRow, at time.Time, run string) error {
	seen := map[river.JobArgs]bool{}
	var params []river.InsertManyParams
	for _, r := range rows {
		args := jobFor(r, run)
		if seen[args] {
			continue
		}
		seen[args] = true
		opts := &river.InsertOpts{MaxAttempts: e.insert.MaxAttempts}
		if _, lead := args.(WriteLeadArgs); !lead {
			opts.UniqueOpts = uniqueLive
		}
		if _, conv := args.(ConversationArgs); conv && !at.IsZero() {
			opts.ScheduledAt = at
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
	}
	for _, p := range params { // InsertMany refuses unique options on some drivers; one by one
		if _, err := e.client.InsertTx(ctx, tx, p.Args, p.InsertOpts); err != nil {
			return fmt.Errorf("jobs: enqueue %s: %w", p.Args.Kind(), err)
		}
	}
	return nil
}

func (e *riverEngine[TTx]) enqueueRows(ctx context.Context, rows []host.MirrorRow) ([]host.MirrorRow, error) {
	return e.store.CreateMirrorRowsTx(ctx, rows, func(ctx context.Context, tx TTx, rows []host.MirrorRow) error {
		return e.insertFor(ctx, tx, rows, time.Time{}, "")
	})
}

func (e *riverEngine[TTx]) appendMessages(ctx context.Context, tenantID, conversationID string, msgs []host.MirrorRow, maxBytes int) ([]host.MirrorRow, error) {
	return e.store.AppendMessagesTx(ctx, tenantID, conversationID, msgs, maxBytes, func(ctx context.Context, tx TTx, _ host.MirrorRow, msgs []host.MirrorRow) error {
		// Available at once: the first turn of a burst is written right
		// away; the turns that arrive while its job is live are not
		// enqueued again (one live job per conversation) but found by it
		// when it finishes, and written after Coalesce (a snooze shorter
		// than River's scheduler interval leaves the job available).
		return e.insertFor(ctx, tx, msgs[:1], time.Time{}, "")
	})
}

func (e *riverEngine[TTx]) redrive(ctx context.Context, tenantID string, f host.RedriveFilter, limit int) ([]host.MirrorRow, error) {
	run := host.NewID("run_")
	return e.store.RedriveMirrorTx(ctx, tenantID, f, limit, func(ctx context.Context, tx TTx, rows []host.MirrorRow) error {
		return e.insertFor(ctx, tx, rows, time.Time{}, run)
	})
}

func (e *riverEngine[TTx]) enqueueErasure(ctx context.Context, er host.Erasure) (host.Erasure, error) {
	return e.store.CreateErasureTx(ctx, er, func(ctx context.Context, tx TTx, er host.Erasure) error {
		_, err := e.client.InsertTx(ctx, tx, EraseArgs{TenantID: er.TenantID, ErasureID: er.ID}, &river.InsertOpts{MaxAttempts: 25})
		return err
	})
}

// runningFor counts the write jobs running now for any of rowIDs.
func (e *riverEngine[TTx]) runningFor(ctx context.Context, tenantID string, rowIDs []string) (int, error) {
	want := map[string]bool{}
	for _, id := range rowIDs {
		want[id] = true
	}
	res, err := e.client.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateRunning).
		Kinds(WriteLeadArgs{}.Kind(), MirrorWriteArgs{}.Kind(), ConversationArgs{}.Kind()).First(10000))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range res.Jobs {
		var a struct {
			TenantID       string `json:"tenant_id"`
			LeadID         string `json:"lead_id"`
			RowID          string `json:"row_id"`
			ConversationID string `json:"conversation_id"`
		}
		if json.Unmarshal(j.EncodedArgs, &a) == nil && a.TenantID == tenantID && (want[a.LeadID] || want[a.RowID] || want[a.ConversationID]) {
			n++
		}
	}
	return n, nil
}

// settle records a failed write of a pending row and says what River
// does next: retry, or stop (the row failed, or its CRM cannot hold it).
func settle(err error, attempt, max int) (state host.MirrorState, final bool) {
	switch {
	case host.CodeOf(err) == host.ErrorCode(sdk.CodeUnsupported):
		return host.MirrorUnsupported, true
	case !Retryable(err) || attempt >= max:
		return host.MirrorFailed, true
	}
	return host.MirrorPending, false
}

// rowWorker works mirror_write jobs.
type rowWorker struct {
	river.WorkerDefaults[MirrorWriteArgs]
	store  host.Store
	mirror *mirror.Service
	retry  *retryAfters
	log    hclog.Logger
}

func (w *rowWorker) Work(ctx context.Context, job *river.Job[MirrorWriteArgs]) error {
	tenantID, id := job.Args.TenantID, job.Args.RowID
	log := w.log.With("tenant", tenantID, "row", id, "attempt", job.Attempt)
	row, err := w.store.GetMirrorRow(ctx, tenantID, id)
	switch {
	case host.CodeOf(err) == host.CodeNotFound:
		log.Info("the row to write is gone (erased, or its tenant deleted)")
		return river.JobCancel(err)
	case err != nil:
		return err
	case row.State != host.MirrorPending:
		return nil
	}
	ext, url, werr := w.mirror.WriteRow(ctx, row)
	if ctx.Err() == context.Canceled {
		return errors.Join(ctx.Err(), werr)
	}
	if mirror.IsWaiting(werr) {
		return river.JobSnooze(waitSnooze)
	}
	book, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if werr == nil {
		_, err := w.store.MarkMirrorWritten(book, tenantID, id, ext, url)
		switch host.CodeOf(err) {
		case "", host.CodeConflict:
			return nil
		case host.CodeNotFound:
			return river.JobCancel(err)
		}
		log.Error("recording a written row failed", "error", err)
		return err
	}
	state, final := settle(werr, job.Attempt, job.MaxAttempts)
	if _, err := w.store.MarkMirrorAttempt(book, tenantID, id, describe(werr), state); err != nil {
		switch host.CodeOf(err) {
		case host.CodeNotFound:
			return river.JobCancel(err)
		case host.CodeConflict:
			return nil
		}
		return werr
	}
	if final {
		log.Warn("row not written", "state", state, "code", host.CodeOf(werr), "error", werr)
		return river.JobCancel(werr)
	}
	w.retry.note(job.ID, werr)
	return werr
}

func (w *rowWorker) NextRetry(job *river.Job[MirrorWriteArgs]) time.Time {
	return w.retry.next(job.JobRow)
}

// conversationWorker works mirror_conversation jobs.
type conversationWorker[TTx any] struct {
	river.WorkerDefaults[ConversationArgs]
	store    host.Store
	tx       mirrorTxStore[TTx]
	mirror   *mirror.Service
	retry    *retryAfters
	coalesce time.Duration
	log      hclog.Logger
}

func (w *conversationWorker[TTx]) Work(ctx context.Context, job *river.Job[ConversationArgs]) error {
	tenantID, id := job.Args.TenantID, job.Args.ConversationID
	log := w.log.With("tenant", tenantID, "conversation", id, "attempt", job.Attempt)
	conv, err := w.store.GetMirrorRow(ctx, tenantID, id)
	switch {
	case host.CodeOf(err) == host.CodeNotFound:
		log.Info("the conversation to write is gone (erased, or its tenant deleted)")
		return river.JobCancel(err)
	case err != nil:
		return err
	case conv.State == host.MirrorPurged:
		return nil
	}
	res, werr := w.mirror.WriteConversation(ctx, tenantID, id)
	if ctx.Err() == context.Canceled {
		return errors.Join(ctx.Err(), werr)
	}
	if mirror.IsWaiting(werr) {
		return river.JobSnooze(waitSnooze)
	}
	book, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if werr == nil {
		// The messages first: a conversation seen written has its
		// messages written too (a crash between the two leaves the
		// conversation pending, and its retry writes the same transcript).
		if _, err := w.store.MarkMessagesWritten(book, tenantID, id, res.UpTo, res.ExternalID, res.RecordURL); err != nil {
			return err
		}
		if _, err := w.store.MarkMirrorWritten(book, tenantID, id, res.ExternalID, res.RecordURL); err != nil {
			if host.CodeOf(err) == host.CodeNotFound {
				return river.JobCancel(err)
			}
			return err
		}
		pending, err := w.tx.FinishConversationTx(book, tenantID, id, func(ctx context.Context, tx TTx) error {
			_, err := river.JobCompleteTx[riverdriver.Driver[TTx]](ctx, tx, job)
			return err
		})
		if err != nil {
			return err
		}
		if pending > 0 { // messages arrived during the write: the next batch
			return river.JobSnooze(w.coalesce)
		}
		return nil
	}
	state, final := settle(werr, job.Attempt, job.MaxAttempts)
	if conv.State == host.MirrorPending {
		if _, err := w.store.MarkMirrorAttempt(book, tenantID, id, describe(werr), state); err != nil && host.CodeOf(err) != host.CodeConflict {
			return werr
		}
	}
	if _, err := w.store.MarkMessagesAttempt(book, tenantID, id, 1<<30, describe(werr), state); err != nil {
		return werr
	}
	if final {
		log.Warn("transcript not written", "state", state, "code", host.CodeOf(werr), "error", werr)
		return river.JobCancel(werr)
	}
	w.retry.note(job.ID, werr)
	return werr
}

func (w *conversationWorker[TTx]) NextRetry(job *river.Job[ConversationArgs]) time.Time {
	return w.retry.next(job.JobRow)
}

// eraseWorker works erase jobs.
type eraseWorker struct {
	river.WorkerDefaults[EraseArgs]
	mirror  *mirror.Service
	running mirror.RunningWrites
	log     hclog.Logger
}

func (w *eraseWorker) Work(ctx context.Context, job *river.Job[EraseArgs]) error {
	err := w.mirror.Erase(ctx, job.Args.TenantID, job.Args.ErasureID, w.running)
	switch {
	case mirror.IsWaiting(err):
		return river.JobSnooze(eraseWait)
	case host.CodeOf(err) == host.CodeNotFound && err != nil:
		return river.JobCancel(err)
	case err != nil:
		w.log.Warn("erasure step failed; retrying", "erasure", job.Args.ErasureID, "error", err)
	}
	return err
}

// purgeWorker and escalateWorker run the periodic mirror jobs.
type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	mirror *mirror.Service
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	_, err := w.mirror.Purge(ctx)
	return err
}

type escalateWorker struct {
	river.WorkerDefaults[EscalateArgs]
	mirror *mirror.Service
}

func (w *escalateWorker) Work(ctx context.Context, _ *river.Job[EscalateArgs]) error {
	return w.mirror.Escalate(ctx)
}

// retryAfters holds, by job ID, the provider's Retry-After of the attempt
// that just failed, for NextRetry.
type retryAfters struct {
	policy river.ClientRetryPolicy
	m      sync.Map
}

func (r *retryAfters) note(jobID int64, err error) {
	if ra := retryAfter(err); ra > 0 {
		r.m.Store(jobID, ra)
	}
}

// next waits out the provider's Retry-After when it is longer than the
// backoff.
func (r *retryAfters) next(job *rivertype.JobRow) time.Time {
	next := r.policy.NextRetry(job)
	if ra, ok := r.m.LoadAndDelete(job.ID); ok {
		if at := time.Now().Add(ra.(time.Duration)); at.After(next) {
			next = at
		}
	}
	return next
}
