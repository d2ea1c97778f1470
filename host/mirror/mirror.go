package mirror

import (
	"context"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"github.com/hashicorp/go-hclog"
)

// Queue stores rows with their jobs, atomically (host/jobs' Runner).
type Queue interface {
	// EnqueueRows stores rows as new pending rows and enqueues the job
	// that writes each (a conversation's: its transcript job), in one
	// transaction. Errors: those of host.MirrorStore.CreateMirrorRows.
	EnqueueRows(ctx context.Context, rows []host.MirrorRow) ([]host.MirrorRow, error)
	// AppendMessages appends msgs to a conversation and makes sure its
	// transcript job is queued, in one transaction. Errors: CodeNotFound,
	// CodeConflict, CodeTooLarge (see sqlite.Store.AppendMessagesTx).
	AppendMessages(ctx context.Context, tenantID, conversationID string, msgs []host.MirrorRow, maxBytes int) ([]host.MirrorRow, error)
	// Redrive sets the failed rows f selects back to pending and enqueues
	// their jobs, in one transaction.
	Redrive(ctx context.Context, tenantID string, f host.RedriveFilter, limit int) ([]host.MirrorRow, error)
	// EnqueueErasure stores an erasure and enqueues its job, atomically.
	EnqueueErasure(ctx context.Context, e host.Erasure) (host.Erasure, error)
}

// Retention are the windows rows are kept for once the CRM has them,
// counted from the later of their insert and their last successful write.
type Retention map[host.MirrorClass]time.Duration

// DefaultRetention: messages 7 days; conversations, customers and leads
// 30; cases 90.
func DefaultRetention() Retention {
	return Retention{host.ClassMessage: 7 * 24 * time.Hour, host.ClassConversation: 30 * 24 * time.Hour,
		host.ClassCustomer: 30 * 24 * time.Hour, host.ClassLead: 30 * 24 * time.Hour, host.ClassCase: 90 * 24 * time.Hour}
}

// Defaults of Options.
const (
	DefaultMaxTranscriptBytes = 32000
	DefaultEscalateAfter      = 24 * time.Hour
	DefaultPurgeBatch         = 500
	DefaultTombstoneTTL       = 30 * 24 * time.Hour
	// MaxMessages bounds the messages of one request.
	MaxMessages = 100
	// MaxMessageBytes bounds one message's text.
	MaxMessageBytes = 8000
)

// Options configure a Service.
type Options struct {
	Store  host.Store
	Broker *broker.Broker
	Queue  Queue
	Logger hclog.Logger
	// Retention overrides DefaultRetention class by class.
	Retention Retention
	// MaxTranscriptBytes caps a conversation's transcript (32,000 bytes:
	// Salesforce's Task description holds 32,000 characters, HubSpot's
	// note body 65,536).
	MaxTranscriptBytes int
	// EscalateAfter is how long a row may stay out of the CRM before it
	// opens an incident (24h).
	EscalateAfter time.Duration
	// PurgeBatch bounds the rows one purge pass drops per class (500).
	PurgeBatch int
	// TombstoneTTL is how long a purged row's tombstone stays (30 days).
	TombstoneTTL time.Duration
	// Notifier sends incident notifications to the platform (none: not
	// sent).
	Notifier *Notifier
	// Metrics records purges and incidents (optional).
	Metrics *Metrics
	// Now is the clock of retention and escalation (time.Now).
	Now func() time.Time
}

// Service runs the mirrored classes. It is safe for concurrent use.
type Service struct {
	o   Options
	log hclog.Logger
	now func() time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := DefaultRetention()
	for c, d := range o.Retention {
		r[c] = d
	}
	o.Retention = r
	if o.MaxTranscriptBytes <= 0 {
		o.MaxTranscriptBytes = DefaultMaxTranscriptBytes
	}
	if o.EscalateAfter <= 0 {
		o.EscalateAfter = DefaultEscalateAfter
	}
	if o.PurgeBatch <= 0 {
		o.PurgeBatch = DefaultPurgeBatch
	}
	if o.TombstoneTTL <= 0 {
		o.TombstoneTTL = DefaultTombstoneTTL
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	return &Service{o: o, log: o.Logger, now: o.Now}
}

// SetQueue sets the queue rows are stored and enqueued through, when it
// could not be given to New (the queue's workers need the Service too).
// Call it before the Service is used.
func (s *Service) SetQueue(q Queue) { s.o.Queue = q }

// Retention returns the windows in force.
func (s *Service) Retention() Retention { return s.o.Retention }

// systemActor is the host itself, for audit rows of its own jobs.
var systemActor = broker.Actor{Type: host.ActorSystem, ID: "mirror"}
