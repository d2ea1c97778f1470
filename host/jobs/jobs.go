package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/sqlite"
	"github.com/hashicorp/go-hclog"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// Defaults of Options.
const (
	DefaultMaxAttempts   = 10
	DefaultWorkers       = 10
	DefaultPruneInterval = time.Hour
	// DefaultPruneBatch is Options.PruneBatch's default.
	DefaultPruneBatch   = 1000
	DefaultPollInterval = time.Second

	// maxMaxAttempts and maxWorkers bound what Options accepts.
	maxMaxAttempts = 100
	maxWorkers     = 1000
	// DefaultCoalesce is Options.Coalesce's default.
	DefaultCoalesce = 500 * time.Millisecond
	// hardStopWait bounds how long Stop waits for cancelled jobs to return
	// once its context has ended.
	hardStopWait = 10 * time.Second
)

// Options configure a Runner.
type Options struct {
	// Store is the host's store, a *sqlite.Store or a *postgres.Store:
	// River keeps its jobs in the same database. Required.
	Store host.Store
	// Writer writes leads to the CRM (the broker). Required.
	Writer LeadWriter
	// MaxAttempts bounds the tries of a lead's write; after the last one
	// fails with a transient error the lead is marked failed (default 10).
	MaxAttempts int
	// Workers is how many jobs run at once in this process (default 10).
	Workers int
	// PruneInterval is how often expired idempotency keys, and audit
	// entries past AuditRetention, are deleted (default an hour); a prune
	// also runs when the runner starts.
	PruneInterval time.Duration
	// AuditRetention is how long audit entries are kept; 0 keeps them
	// forever (no prune_audit job).
	AuditRetention time.Duration
	// PruneBatch bounds each delete of a prune (default 1000 rows): one
	// short write transaction a batch, repeated until a batch is short.
	PruneBatch int
	// PollInterval is how often idle workers look for due jobs when no
	// insert notification wakes them (default a second).
	PollInterval time.Duration
	// Backoff is the wait after failed attempt n (1-based) of a job;
	// nil means River's default, about n⁴ seconds with jitter (10 attempts
	// span some 7 hours). A provider's Retry-After is honoured on top.
	Backoff func(attempt int) time.Duration
	Logger  hclog.Logger
	// Migrate makes New apply River's pending migrations (as Migrate
	// does). Without it New only checks them and refuses a database that
	// lacks some, so the host can run as a database role that may not
	// change the schema (`crmhost migrate` applies them as another).
	Migrate bool
	// Now is the clock for pruning (default time.Now).
	Now func() time.Time
	// Mirror writes mirrored rows and runs their purge, escalation and
	// erasures (host/mirror). Nil: the runner only writes leads.
	Mirror *mirror.Service
	// Coalesce is how long a conversation's new messages wait for more
	// before its transcript is written (default 500ms).
	Coalesce time.Duration
	// PurgeEvery and EscalateEvery are how often the mirror's purge and
	// escalation run (defaults 10m and 5m; both also run on start).
	PurgeEvery    time.Duration
	EscalateEvery time.Duration
	// RescueAfter is how long a job left running by a process that died
	// (a crash, a SIGKILL) waits before another process takes it over
	// (default 10m, at least 30s). A job runs at most half of it, and a
	// minute at most, before it is cancelled and retried.
	RescueAfter time.Duration
	// Outbound runs the inbound-event, decision and call-delivery jobs
	// (outbound.Service, whose Queue is then set to this Runner); nil
	// registers none.
	Outbound Outbound
	// RescueInterval is how often stored events and call requests left
	// without a job are enqueued again (a minute).
	RescueInterval time.Duration
}

// validate fills defaults and refuses absurd settings (CodeInvalid).
func (o *Options) validate() error {
	switch {
	case o.Store == nil:
		return host.Errorf(host.CodeInvalid, "jobs: a store is required")
	case o.Writer == nil:
		return host.Errorf(host.CodeInvalid, "jobs: a lead writer is required")
	case o.MaxAttempts < 0 || o.MaxAttempts > maxMaxAttempts:
		return host.Errorf(host.CodeInvalid, "jobs: max attempts %d must be between 1 and %d (0 for the default, %d)", o.MaxAttempts, maxMaxAttempts, DefaultMaxAttempts)
	case o.Workers < 0 || o.Workers > maxWorkers:
		return host.Errorf(host.CodeInvalid, "jobs: workers %d must be between 1 and %d (0 for the default, %d)", o.Workers, maxWorkers, DefaultWorkers)
	case o.PruneInterval < 0:
		return host.Errorf(host.CodeInvalid, "jobs: prune interval %s must not be negative", o.PruneInterval)
	case o.AuditRetention < 0:
		return host.Errorf(host.CodeInvalid, "jobs: audit retention %s must not be negative", o.AuditRetention)
	case o.PruneBatch < 0:
		return host.Errorf(host.CodeInvalid, "jobs: prune batch %d must not be negative", o.PruneBatch)
	case o.PollInterval < 0 || (o.PollInterval > 0 && o.PollInterval < river.FetchPollIntervalMin):
		return host.Errorf(host.CodeInvalid, "jobs: poll interval %s must be at least %s", o.PollInterval, river.FetchPollIntervalMin)
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.PruneInterval == 0 {
		o.PruneInterval = DefaultPruneInterval
	}
	if o.PruneBatch == 0 {
		o.PruneBatch = DefaultPruneBatch
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = 10 * time.Minute
	}
	if o.RescueAfter < 30*time.Second {
		return host.Errorf(host.CodeInvalid, "jobs: rescue after %s must be at least 30s", o.RescueAfter)
	}
	if o.Coalesce <= 0 {
		o.Coalesce = DefaultCoalesce
	}
	if o.PurgeEvery <= 0 {
		o.PurgeEvery = 10 * time.Minute
	}
	if o.EscalateEvery <= 0 {
		o.EscalateEvery = 5 * time.Minute
	}
	return nil
}

// Runner owns the River client: it enqueues leads and runs the workers.
// It is safe for concurrent use.
type Runner struct {
	e   engine
	log hclog.Logger
}

// engine is a River client over one store, whatever its transaction type.
type engine interface {
	enqueueLead(ctx context.Context, l host.Lead) (host.Lead, error)
	enqueueRows(ctx context.Context, rows []host.MirrorRow) ([]host.MirrorRow, error)
	appendMessages(ctx context.Context, tenantID, conversationID string, msgs []host.MirrorRow, maxBytes int) ([]host.MirrorRow, error)
	redrive(ctx context.Context, tenantID string, f host.RedriveFilter, limit int) ([]host.MirrorRow, error)
	enqueueErasure(ctx context.Context, e host.Erasure) (host.Erasure, error)
	runningFor(ctx context.Context, tenantID string, rowIDs []string) (int, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	insertMany(ctx context.Context, ps []river.InsertManyParams) error
}

// New returns a Runner over o.Store's database. With o.Migrate it first
// applies River's pending migrations there (see Migrate); otherwise it
// checks them. Jobs are enqueued from New on, and worked from Start.
// Errors: CodeInvalid for bad options or a store River cannot run on; an
// error wrapping host.ErrSchemaOutdated when River's tables are missing or
// behind (without o.Migrate); the migration's error.
func New(ctx context.Context, o Options) (*Runner, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	var (
		e   engine
		err error
	)
	switch st := o.Store.(type) {
	case *sqlite.Store:
		e, err = newSQLite(ctx, st, o)
	case *postgres.Store:
		e, err = newPostgres(ctx, st, o)
	default:
		return nil, unsupportedStore(o.Store)
	}
	if err != nil {
		return nil, err
	}
	return &Runner{e: e, log: o.Logger}, nil
}

func unsupportedStore(st host.Store) error {
	return host.Errorf(host.CodeInvalid, "jobs: River cannot run on a %T (want *sqlite.Store or *postgres.Store)", st)
}

// Migrate applies River's pending migrations to store's database
// (idempotent; processes migrating together apply each once) and returns
// the versions it applied. `crmhost migrate` calls it after the store's
// own migrations. Errors: CodeInvalid for a store River cannot run on; the
// migration's error.
func Migrate(ctx context.Context, store host.Store, logger hclog.Logger) ([]int, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	switch st := store.(type) {
	case *sqlite.Store:
		return migrateSQLite(ctx, st, logger)
	case *postgres.Store:
		return migratePostgres(ctx, st, logger)
	}
	return nil, unsupportedStore(store)
}

// Start starts working jobs in the background; it returns once the workers
// run. Cancelling ctx after Start returns does not stop them: Stop does.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.e.start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for those running to finish. When ctx
// ends first, it cancels them and waits a little longer for them to
// return; an interrupted job runs again, in full, on the next start (its
// attempt does not count). Stopping a runner that never started is a
// no-op. Errors: when cancelled jobs still do not return.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.e.stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	r.log.Warn("jobs did not finish before the stop deadline; cancelling them", "error", err)
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopWait)
	defer cancel()
	if err := r.e.stopAndCancel(hard); err != nil {
		return fmt.Errorf("jobs: stop: cancelled jobs did not return: %w", err)
	}
	return nil
}

// EnqueueLead stores l as a new pending lead and enqueues the job that
// writes it to the CRM, in one database transaction: either both happen or
// neither. It returns the lead as stored. Errors: those of
// host.LeadStore.CreateLead (CodeInvalid, CodeNotFound for the tenant,
// CodeConflict), or the enqueue's (internal).
func (r *Runner) EnqueueLead(ctx context.Context, l host.Lead) (host.Lead, error) {
	return r.e.enqueueLead(ctx, l)
}

// EnqueueRows stores mirrored rows and enqueues their jobs in one
// transaction (mirror.Queue).
func (r *Runner) EnqueueRows(ctx context.Context, rows []host.MirrorRow) ([]host.MirrorRow, error) {
	return r.e.enqueueRows(ctx, rows)
}

// AppendMessages appends messages to a conversation and queues its
// transcript job, in one transaction (mirror.Queue).
func (r *Runner) AppendMessages(ctx context.Context, tenantID, conversationID string, msgs []host.MirrorRow, maxBytes int) ([]host.MirrorRow, error) {
	return r.e.appendMessages(ctx, tenantID, conversationID, msgs, maxBytes)
}

// Redrive sets failed rows back to pending and enqueues their jobs, in
// one transaction (mirror.Queue).
func (r *Runner) Redrive(ctx context.Context, tenantID string, f host.RedriveFilter, limit int) ([]host.MirrorRow, error) {
	return r.e.redrive(ctx, tenantID, f, limit)
}

// EnqueueErasure stores an erasure and enqueues its job (mirror.Queue).
func (r *Runner) EnqueueErasure(ctx context.Context, e host.Erasure) (host.Erasure, error) {
	return r.e.enqueueErasure(ctx, e)
}

// RunningFor counts the write jobs running now for any of rowIDs.
func (r *Runner) RunningFor(ctx context.Context, tenantID string, rowIDs []string) (int, error) {
	return r.e.runningFor(ctx, tenantID, rowIDs)
}

// txStore is what the engine needs of a store: lead and mirrored-row
// writes in transactions it enqueues jobs in.
type txStore[TTx any] interface {
	leadTxStore[TTx]
	mirrorTxStore[TTx]
}

// leadTxStore is a store that creates a lead in a transaction of type TTx
// and lets the caller write in it (see sqlite.Store.CreateLeadTx).
type leadTxStore[TTx any] interface {
	CreateLeadTx(ctx context.Context, l host.Lead, fn func(ctx context.Context, tx TTx, l host.Lead) error) (host.Lead, error)
}

// riverEngine is the engine on a River driver with transactions TTx.
type riverEngine[TTx any] struct {
	client   *river.Client[TTx]
	store    txStore[TTx]
	insert   *river.InsertOpts
	coalesce time.Duration
}

func (e *riverEngine[TTx]) enqueueLead(ctx context.Context, l host.Lead) (host.Lead, error) {
	return e.store.CreateLeadTx(ctx, l, func(ctx context.Context, tx TTx, l host.Lead) error {
		if _, err := e.client.InsertTx(ctx, tx, WriteLeadArgs{TenantID: l.TenantID, LeadID: l.ID}, e.insert); err != nil {
			return fmt.Errorf("jobs: enqueue the write of lead %s: %w", l.ID, err)
		}
		return nil
	})
}

func (e *riverEngine[TTx]) insertMany(ctx context.Context, ps []river.InsertManyParams) error {
	if len(ps) == 0 {
		return nil
	}
	if _, err := e.client.InsertMany(ctx, ps); err != nil {
		return fmt.Errorf("jobs: enqueue: %w", err)
	}
	return nil
}

func (e *riverEngine[TTx]) start(ctx context.Context) error { return e.client.Start(ctx) }
func (e *riverEngine[TTx]) stop(ctx context.Context) error  { return e.client.Stop(ctx) }
func (e *riverEngine[TTx]) stopAndCancel(ctx context.Context) error {
	return e.client.StopAndCancel(ctx)
}

// newEngine builds the River client on driver, with the workers and the
// periodic prune.
func newEngine[TTx any](driver riverdriver.Driver[TTx], store txStore[TTx], o Options) (*riverEngine[TTx], error) {
	var policy river.ClientRetryPolicy = &river.DefaultClientRetryPolicy{}
	if o.Backoff != nil {
		policy = backoffPolicy(o.Backoff)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &leadWorker{store: o.Store, writer: o.Writer, policy: policy, log: o.Logger.Named("write_lead")})
	river.AddWorker(workers, &pruneWorker{store: o.Store, now: o.Now, batch: o.PruneBatch, log: o.Logger.Named("prune_idempotency")})
	e := &riverEngine[TTx]{store: store, insert: &river.InsertOpts{MaxAttempts: o.MaxAttempts}, coalesce: o.Coalesce}
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(o.PruneInterval),
		func() (river.JobArgs, *river.InsertOpts) { return PruneIdempotencyArgs{}, nil },
		&river.PeriodicJobOpts{ID: PruneIdempotencyArgs{}.Kind(), RunOnStart: true},
	)}
	if o.AuditRetention > 0 {
		river.AddWorker(workers, &pruneAuditWorker{store: o.Store, now: o.Now, retention: o.AuditRetention, batch: o.PruneBatch,
			log: o.Logger.Named("prune_audit")})
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(o.PruneInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PruneAuditArgs{}, nil },
			&river.PeriodicJobOpts{ID: PruneAuditArgs{}.Kind(), RunOnStart: true}))
	}
	if o.Mirror != nil {
		retry := &retryAfters{policy: policy}
		river.AddWorker(workers, &rowWorker{store: o.Store, mirror: o.Mirror, retry: retry, log: o.Logger.Named("mirror_write")})
		river.AddWorker(workers, &conversationWorker[TTx]{store: o.Store, tx: store, mirror: o.Mirror, retry: retry, coalesce: o.Coalesce,
			log: o.Logger.Named("mirror_conversation")})
		river.AddWorker(workers, &eraseWorker{mirror: o.Mirror, running: e.runningFor, log: o.Logger.Named("erase")})
		river.AddWorker(workers, &purgeWorker{mirror: o.Mirror})
		river.AddWorker(workers, &escalateWorker{mirror: o.Mirror})
		periodic = append(periodic,
			river.NewPeriodicJob(river.PeriodicInterval(o.PurgeEvery), func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
				&river.PeriodicJobOpts{ID: PurgeArgs{}.Kind(), RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(o.EscalateEvery), func() (river.JobArgs, *river.InsertOpts) { return EscalateArgs{}, nil },
				&river.PeriodicJobOpts{ID: EscalateArgs{}.Kind(), RunOnStart: true}))
	}
	periodic = append(periodic, addOutbound(workers, o)...)
	client, err := river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:           workers,
		MaxAttempts:       o.MaxAttempts,
		RetryPolicy:       policy,
		FetchPollInterval: o.PollInterval,
		FetchCooldown:     min(o.PollInterval, 100*time.Millisecond),
		// A write that runs a minute (or half RescueAfter) is cancelled and
		// retried; a job left running by a process that died is rescued
		// (retried) after RescueAfter.
		JobTimeout:           min(time.Minute, o.RescueAfter/2),
		RescueStuckJobsAfter: o.RescueAfter,
		Logger:               riverLogger(o.Logger),
		PeriodicJobs:         periodic,
		// No periodic REINDEX: it needs to own the tables, which the
		// host's runtime role does not (`crmhost migrate` runs as the
		// owner); PostgreSQL's autovacuum keeps the job indexes in check
		// at the host's volumes.
		ReindexerIndexNames: []string{},
		// Keep settled jobs a week: they are the history of each lead's
		// attempts (errors included), next to the lead's own row.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	})
	if err != nil {
		return nil, host.Errorf(host.CodeInvalid, "jobs: %v", err)
	}
	e.client = client
	return e, nil
}

// backoffPolicy retries after the configured wait.
type backoffPolicy func(attempt int) time.Duration

func (p backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p(job.Attempt))
}

// riverLogger sends River's logs to l (see logHandler for levels).
func riverLogger(l hclog.Logger) *slog.Logger {
	return slog.New(newLogHandler(l.Named("river")))
}
