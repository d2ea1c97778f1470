package replicas

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"crmhost.dev/host"
	"github.com/hashicorp/go-hclog"
)

// Defaults of Options.
const (
	DefaultInterval = 5 * time.Second
	// windowIntervals is Window in heartbeats: a replica survives two
	// missed beats.
	windowIntervals = 3
	// beatTimeout bounds a heartbeat's store calls (at least; Interval
	// when longer).
	beatTimeout = 5 * time.Second
)

// Options configure a Tracker.
type Options struct {
	// ID names this replica (default: random).
	ID string
	// Interval between heartbeats (DefaultInterval).
	Interval time.Duration
	// Window: replicas heard from within it are alive (3 × Interval).
	Window time.Duration
	Logger hclog.Logger
	Now    func() time.Time
}

// Tracker heartbeats for this replica and keeps the live count. Safe for
// concurrent use.
type Tracker struct {
	store host.ReplicaStore
	o     Options
	count atomic.Int64

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start records this replica's first heartbeat, counts the live replicas
// and keeps doing both every Interval until Close. A store error at start
// is returned (the count is then 1); later ones are logged and the last
// count kept.
func Start(ctx context.Context, store host.ReplicaStore, o Options) (*Tracker, error) {
	if o.ID == "" {
		o.ID = "replica_" + strings.ToLower(rand.Text())
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Window <= 0 {
		o.Window = windowIntervals * o.Interval
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	t := &Tracker{store: store, o: o, stop: make(chan struct{}), done: make(chan struct{})}
	t.count.Store(1)
	err := t.beat(ctx)
	go t.run()
	return t, err
}

// ID is this replica's id.
func (t *Tracker) ID() string { return t.o.ID }

// Count is the number of live replicas, this one included: at least 1.
func (t *Tracker) Count() int { return int(max(1, t.count.Load())) }

func (t *Tracker) beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(t.o.Interval, beatTimeout))
	defer cancel()
	now := t.o.Now()
	if err := t.store.HeartbeatReplica(ctx, t.o.ID, now); err != nil {
		return err
	}
	n, err := t.store.LiveReplicas(ctx, now.Add(-t.o.Window))
	if err != nil {
		return err
	}
	if old := t.count.Swap(int64(max(1, n))); old != int64(max(1, n)) {
		t.o.Logger.Info("live host replicas", "replicas", max(1, n), "was", old)
	}
	return nil
}

func (t *Tracker) run() {
	defer close(t.done)
	tick := time.NewTicker(t.o.Interval)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		if err := t.beat(context.Background()); err != nil {
			t.o.Logger.Warn("replica heartbeat failed; keeping the last replica count", "replicas", t.Count(), "error", err)
		}
	}
}

// Close stops heartbeating and removes this replica's heartbeat, so the
// others count one fewer at their next beat.
func (t *Tracker) Close(ctx context.Context) error {
	t.once.Do(func() { close(t.stop) })
	<-t.done
	return t.store.RemoveReplica(ctx, t.o.ID)
}
