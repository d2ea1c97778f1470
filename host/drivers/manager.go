package drivers

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// Catalog is the part of the store the Manager reads.
type Catalog interface {
	GetDriver(ctx context.Context, slug string) (host.DriverEntry, error)
}

// Options configure a Manager. Zero values take the defaults.
type Options struct {
	// PluginDir is the directory driver binaries are launched from (see
	// binary.go): a catalog entry names a file in it. Required: without
	// it no driver starts.
	PluginDir string
	// DriverEnv names host environment variables passed to drivers in
	// addition to sdk.BaseDriverEnv (e.g. sdk.ProxyDriverEnv); host-only
	// variables (sdk.HostOnlyEnv) never are.
	DriverEnv []string
	// TraceEnv are the OpenTelemetry exporter settings ("NAME=value",
	// sdk.TraceEnv's answer) drivers export their spans with; empty, they
	// record none. Only sdk.TraceDriverEnv names pass.
	TraceEnv []string
	Logger   hclog.Logger
	// Registerer receives the driver metrics (nil: not registered).
	Registerer prometheus.Registerer
	// CallTimeout bounds each call of a verb VerbTimeouts does not name,
	// when it has no earlier deadline (30s).
	CallTimeout time.Duration
	// VerbTimeouts bounds each call of a verb (snake_case, as sdk.Verb*),
	// when the caller's own deadline is not earlier; nil takes
	// DefaultVerbTimeouts. The deadline crosses to the driver, whose
	// provider toolkit stops the provider request with it.
	VerbTimeouts map[string]time.Duration
	// StartTimeout bounds a driver's launch handshake (10s).
	StartTimeout time.Duration
	// MaxConcurrent bounds each driver's calls in flight (64).
	MaxConcurrent int
	// Backoff is the first restart delay, doubled per consecutive failure
	// up to MaxBackoff (100ms, 30s).
	Backoff, MaxBackoff time.Duration
	// WatchInterval is how often a running process is checked for exit (250ms).
	WatchInterval time.Duration
	// Aliases maps slugs to the slug of the driver process serving them
	// (none by default). A slug served by another driver's binary is
	// normally catalog data instead: an entry of its own naming that
	// binary (`crmhost driver register --as <slug> <binary>`).
	Aliases map[string]string
	// EgressAllow are the address prefixes every call lets drivers reach
	// although the sdk's provider toolkit refuses them otherwise (loopback,
	// private, link-local...): loopback in dev mode and tests, where fake
	// providers listen on 127.0.0.1; empty in production. It comes from the
	// host's configuration only, never from a tenant's connection.
	EgressAllow []netip.Prefix
	// Now is the clock (time.Now).
	Now func() time.Time
}

// DefaultVerbTimeouts suit a voice agent waiting on the line: a lookup
// answers or fails within a few seconds; writes and lists may take longer.
var DefaultVerbTimeouts = map[string]time.Duration{
	sdk.VerbLookupCustomer: 4 * time.Second,
	sdk.VerbSearchRecords:  8 * time.Second,
	sdk.VerbCreateRecord:   15 * time.Second,
	sdk.VerbUpdateRecord:   15 * time.Second,
	sdk.VerbDeleteRecord:   15 * time.Second,
	sdk.VerbListRecent:     20 * time.Second,
	sdk.VerbTestConnection: 15 * time.Second,
	sdk.VerbDescribeObject: 15 * time.Second,
	sdk.VerbListObjects:    20 * time.Second,
	sdk.VerbAuthorize:      20 * time.Second,
	sdk.VerbRefresh:        15 * time.Second,
	sdk.VerbRouteWebhook:   3 * time.Second,
	sdk.VerbVerifyWebhook:  3 * time.Second,
}

// Manager supervises one driver process per slug. It is safe for
// concurrent use.
type Manager struct {
	catalog Catalog
	opts    Options
	log     hclog.Logger
	metrics *metrics
	done    chan struct{}

	mu    sync.Mutex
	procs map[string]*process
	shut  bool
}

// NewManager returns a Manager reading entries from catalog.
func NewManager(catalog Catalog, o Options) *Manager {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 64
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.WatchInterval <= 0 {
		o.WatchInterval = 250 * time.Millisecond
	}
	if o.VerbTimeouts == nil {
		o.VerbTimeouts = DefaultVerbTimeouts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PluginDir != "" {
		if abs, err := filepath.Abs(o.PluginDir); err == nil {
			o.PluginDir = abs
		}
	}
	return &Manager{catalog: catalog, opts: o, log: o.Logger, metrics: newMetrics(o.Registerer),
		done: make(chan struct{}), procs: map[string]*process{}}
}

func (m *Manager) now() time.Time { return m.opts.Now() }

func (m *Manager) backoff(failures int) time.Duration {
	d := m.opts.Backoff
	for i := 1; i < failures && d < m.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, m.opts.MaxBackoff)
}

// Resolve maps an alias of Options.Aliases to the slug of the driver
// serving it.
func (m *Manager) Resolve(slug string) string {
	if s, ok := m.opts.Aliases[slug]; ok {
		return s
	}
	return slug
}

func (m *Manager) process(slug string) (*process, error) {
	slug = m.Resolve(slug)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shut {
		return nil, unavailable(slug, "the driver manager is shut down", nil)
	}
	p, ok := m.procs[slug]
	if !ok {
		p = &process{slug: slug, m: m, log: m.log.Named(slug), sem: make(chan struct{}, m.opts.MaxConcurrent)}
		m.procs[slug] = p
	}
	return p, nil
}

// Call runs fn against the driver for slug, starting it if needed, within
// the driver's concurrency bound and the call deadline. fn's error is
// returned as is, except that a driver process that could not be reached
// becomes a *host.Error with CodeDriverUnavailable (and the process is
// checked and restarted). Errors: CodeNotFound for an unregistered slug,
// CodeDriverUnavailable, and whatever fn returns.
func (m *Manager) Call(ctx context.Context, slug, verb string, fn func(ctx context.Context, d *sdk.Client) error) error {
	p, err := m.process(slug)
	if err != nil {
		return err
	}
	if len(m.opts.EgressAllow) > 0 && sdk.EgressAllow(ctx) == nil {
		ctx = sdk.WithEgressAllow(ctx, m.opts.EgressAllow)
	}
	start := m.now()
	err = m.call(ctx, p, m.timeout(verb), fn)
	code := "ok"
	if err != nil {
		code = string(host.CodeOf(err))
	}
	end := m.now()
	m.metrics.observe(ctx, p.slug, verb, code, end, end.Sub(start))
	return err
}

// timeout is the deadline of a verb's calls.
func (m *Manager) timeout(verb string) time.Duration {
	if d, ok := m.opts.VerbTimeouts[verb]; ok && d > 0 {
		return d
	}
	return m.opts.CallTimeout
}

func (m *Manager) call(ctx context.Context, p *process, timeout time.Duration, fn func(ctx context.Context, d *sdk.Client) error) error {
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	case <-ctx.Done():
		return unavailable(p.slug, "too many calls in flight; gave up waiting", ctx.Err())
	}
	cl, err := p.client(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = fn(ctx, cl)
	if err != nil && errors.Is(err, sdk.ErrDriverUnavailable) {
		p.markSuspect(cl)
		return unavailable(p.slug, "the driver process stopped answering during the call", err)
	}
	return err
}

// Describe returns the driver's cached Describe answer, starting the
// driver if it has not run yet.
func (m *Manager) Describe(ctx context.Context, slug string) (sdk.Description, error) {
	p, err := m.process(slug)
	if err != nil {
		return sdk.Description{}, err
	}
	if d := p.description(); d != nil {
		return *d, nil
	}
	if _, err := p.client(ctx); err != nil {
		return sdk.Description{}, err
	}
	return *p.description(), nil
}

// Forget stops the driver for slug (after its catalog entry changed or was
// removed); the next call starts the binary now registered.
func (m *Manager) Forget(slug string) {
	slug = m.Resolve(slug)
	m.mu.Lock()
	p := m.procs[slug]
	delete(m.procs, slug)
	m.mu.Unlock()
	if p != nil {
		p.close()
	}
}

// PID returns the process id of the running driver for slug, or 0. Tests
// use it to kill a driver.
func (m *Manager) PID(slug string) int {
	m.mu.Lock()
	p := m.procs[m.Resolve(slug)]
	m.mu.Unlock()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pc == nil || p.pc.Exited() {
		return 0
	}
	if rc := p.pc.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Close kills every driver process and stops restarts. Calls made after
// Close fail with CodeDriverUnavailable.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.shut {
		m.mu.Unlock()
		return
	}
	m.shut = true
	close(m.done)
	procs := m.procs
	m.procs = map[string]*process{}
	m.mu.Unlock()
	for _, p := range procs {
		p.close()
	}
}
