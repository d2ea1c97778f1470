package jobs

import (
	"context"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/outbound"
	"github.com/hashicorp/go-hclog"
	"github.com/riverqueue/river"
)

// Outbound is the outbound service the workers run (outbound.Service).
type Outbound interface {
	Process(ctx context.Context, tenantID, eventID string, final bool) error
	Decide(ctx context.Context, c outbound.Candidate) (host.Decision, error)
	Deliver(ctx context.Context, tenantID, callID string, final bool) error
	Rescue(ctx context.Context) error
	PruneEvents(ctx context.Context) (int64, error)
}

// ProcessEventArgs is the process_event job: one stored inbound event.
type ProcessEventArgs struct {
	TenantID string `json:"tenant_id"`
	EventID  string `json:"event_id"`
}

// Kind names the job in River.
func (ProcessEventArgs) Kind() string { return "process_event" }

// DecideCallArgs is the decide_call job: a matched rule's delayed gates.
type DecideCallArgs struct {
	Candidate outbound.Candidate `json:"candidate"`
}

// Kind names the job in River.
func (DecideCallArgs) Kind() string { return "decide_call" }

// DeliverCallArgs is the deliver_call job: post one call request.
type DeliverCallArgs struct {
	TenantID string `json:"tenant_id"`
	CallID   string `json:"call_id"`
}

// Kind names the job in River.
func (DeliverCallArgs) Kind() string { return "deliver_call" }

// OutboundRescueArgs is the periodic outbound_rescue job.
type OutboundRescueArgs struct{}

// Kind names the job in River.
func (OutboundRescueArgs) Kind() string { return "outbound_rescue" }

// PruneEventsArgs is the periodic prune_events job.
type PruneEventsArgs struct{}

// Kind names the job in River.
func (PruneEventsArgs) Kind() string { return "prune_events" }

// unique makes a job's arguments its identity: enqueueing it again while
// one exists (or completed within River's retention) adds nothing.
var unique = river.UniqueOpts{ByArgs: true}

// EnqueueEvents enqueues the processing of stored inbound events
// (broker.EventQueue).
func (r *Runner) EnqueueEvents(ctx context.Context, events []host.InboundEvent) error {
	ps := make([]river.InsertManyParams, 0, len(events))
	for _, e := range events {
		ps = append(ps, river.InsertManyParams{Args: ProcessEventArgs{TenantID: e.TenantID, EventID: e.ID}, InsertOpts: &river.InsertOpts{UniqueOpts: unique}})
	}
	return r.e.insertMany(ctx, ps)
}

// EnqueueDecision schedules a delayed rule's gates (outbound.Queue).
func (r *Runner) EnqueueDecision(ctx context.Context, c outbound.Candidate, at time.Time) error {
	return r.e.insertMany(ctx, []river.InsertManyParams{{Args: DecideCallArgs{Candidate: c}, InsertOpts: &river.InsertOpts{ScheduledAt: at, UniqueOpts: unique}}})
}

// EnqueueDelivery enqueues a call request's delivery (outbound.Queue).
func (r *Runner) EnqueueDelivery(ctx context.Context, tenantID, callID string) error {
	return r.e.insertMany(ctx, []river.InsertManyParams{{Args: DeliverCallArgs{TenantID: tenantID, CallID: callID}, InsertOpts: &river.InsertOpts{UniqueOpts: unique}}})
}

type processWorker struct {
	river.WorkerDefaults[ProcessEventArgs]
	svc Outbound
}

func (w *processWorker) Work(ctx context.Context, job *river.Job[ProcessEventArgs]) error {
	return w.svc.Process(ctx, job.Args.TenantID, job.Args.EventID, job.Attempt >= job.MaxAttempts)
}

type decideWorker struct {
	river.WorkerDefaults[DecideCallArgs]
	svc Outbound
	log hclog.Logger
}

func (w *decideWorker) Work(ctx context.Context, job *river.Job[DecideCallArgs]) error {
	_, err := w.svc.Decide(ctx, job.Args.Candidate)
	if err != nil && !outbound.Retryable(err) {
		w.log.Error("a delayed decision failed", "tenant", job.Args.Candidate.TenantID, "event", job.Args.Candidate.EventID, "code", host.CodeOf(err))
		return river.JobCancel(err)
	}
	return err
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverCallArgs]
	svc Outbound
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverCallArgs]) error {
	return w.svc.Deliver(ctx, job.Args.TenantID, job.Args.CallID, job.Attempt >= job.MaxAttempts)
}

type rescueWorker struct {
	river.WorkerDefaults[OutboundRescueArgs]
	svc Outbound
}

func (w *rescueWorker) Work(ctx context.Context, _ *river.Job[OutboundRescueArgs]) error {
	return w.svc.Rescue(ctx)
}

type pruneEventsWorker struct {
	river.WorkerDefaults[PruneEventsArgs]
	svc Outbound
	log hclog.Logger
}

func (w *pruneEventsWorker) Work(ctx context.Context, _ *river.Job[PruneEventsArgs]) error {
	n, err := w.svc.PruneEvents(ctx)
	if err == nil {
		w.log.Debug("pruned settled inbound events", "deleted", n)
	}
	return err
}

// addOutbound registers the outbound workers and their periodic jobs.
func addOutbound(workers *river.Workers, o Options) []*river.PeriodicJob {
	if o.Outbound == nil {
		return nil
	}
	river.AddWorker(workers, &processWorker{svc: o.Outbound})
	river.AddWorker(workers, &decideWorker{svc: o.Outbound, log: o.Logger.Named("decide_call")})
	river.AddWorker(workers, &deliverWorker{svc: o.Outbound})
	river.AddWorker(workers, &rescueWorker{svc: o.Outbound})
	river.AddWorker(workers, &pruneEventsWorker{svc: o.Outbound, log: o.Logger.Named("prune_events")})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(o.rescueInterval()),
			func() (river.JobArgs, *river.InsertOpts) { return OutboundRescueArgs{}, nil },
			&river.PeriodicJobOpts{ID: OutboundRescueArgs{}.Kind(), RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return PruneEventsArgs{}, nil },
			&river.PeriodicJobOpts{ID: PruneEventsArgs{}.Kind(), RunOnStart: true}),
	}
}

func (o Options) rescueInterval() time.Duration {
	if o.RescueInterval > 0 {
		return o.RescueInterval
	}
	return time.Minute
}

var (
	_ outbound.Queue = (*Runner)(nil)
	_ Outbound       = (*outbound.Service)(nil)
)
