package drivers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// process is one supervised driver process.
type process struct {
	slug string
	m    *Manager
	log  hclog.Logger
	sem  chan struct{}

	mu        sync.Mutex
	pc        *plugin.Client
	cl        *sdk.Client
	entry     host.DriverEntry
	desc      *sdk.Description
	failures  int
	nextTry   time.Time
	started   int
	lastErr   string // why the last start failed or the process exited, for operators
	closed    bool
	stopWatch chan struct{}
}

// client returns a live client, starting the process when it is not
// running (and not in its restart back-off).
func (p *process) client(ctx context.Context) (*sdk.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, unavailable(p.slug, "the driver manager is shut down", nil)
	}
	if p.cl != nil && !p.pc.Exited() {
		return p.cl, nil
	}
	p.reapLocked()
	if wait := time.Until(p.nextTry); wait > 0 {
		return nil, unavailable(p.slug, fmt.Sprintf("restarting after a failure; next attempt in %s", wait.Round(time.Millisecond)), nil)
	}
	if err := p.startLocked(ctx); err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			return nil, err // not registered: nothing to back off from
		}
		if host.CodeOf(err) != host.CodeDriverUnavailable {
			p.lastErr = err.Error() // refusals set their own, more detailed
		}
		p.failures++
		p.nextTry = p.m.now().Add(p.m.backoff(p.failures))
		return nil, err
	}
	p.failures = 0
	return p.cl, nil
}

// reapLocked forgets an exited process.
func (p *process) reapLocked() {
	if p.pc == nil {
		return
	}
	p.pc.Kill()
	p.pc, p.cl = nil, nil
	if p.stopWatch != nil {
		close(p.stopWatch)
		p.stopWatch = nil
	}
}

func (p *process) startLocked(ctx context.Context) error {
	entry, err := p.m.catalog.GetDriver(ctx, p.slug)
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return host.NotFound("no driver is registered for %q", p.slug)
		}
		return err
	}
	// The details of a refusal (paths, checksums, the launcher's own
	// error) are for the operator's log and the operator health route;
	// the error returned reaches tenants, so it says only what happened.
	refuse := func(what string, detail error, kv ...any) error {
		p.lastErr = detail.Error()
		p.log.Error("refusing to launch driver: "+what, append([]any{"command", entry.Command, "error", detail}, kv...)...)
		return &host.Error{Code: host.CodeDriverUnavailable, Message: fmt.Sprintf("driver %s is unavailable: %s", p.slug, what)}
	}
	name, ok := binaryName(p.m.opts.PluginDir, entry.Command)
	if !ok {
		return refuse("its registered binary is not in the plugin directory",
			fmt.Errorf("catalog command %q is not a file in the plugin directory %s", entry.Command, p.m.opts.PluginDir))
	}
	bin, err := openBinary(p.m.opts.PluginDir, name)
	if err != nil {
		return refuse("its binary failed the host's checks", err, "plugin_dir", p.m.opts.PluginDir)
	}
	defer bin.close()
	if bin.sum != entry.SHA256 {
		return refuse("its binary does not match the registered checksum (an operator must re-register it)",
			fmt.Errorf("sha256 %s, registered %s", bin.sum, entry.SHA256), "path", bin.path)
	}
	pc, cl, err := launch(bin, p.log, p.m.opts.StartTimeout, p.m.opts.DriverEnv, p.m.opts.TraceEnv)
	if err != nil {
		return refuse("it failed to start", err, "path", bin.path)
	}
	dctx, cancel := context.WithTimeout(context.Background(), p.m.opts.CallTimeout)
	defer cancel()
	desc, err := cl.Describe(dctx)
	if err != nil {
		pc.Kill()
		return refuse("it failed to describe itself", err)
	}
	if desc.Slug != p.slug && !p.m.sameBinary(ctx, desc.Slug, entry.SHA256) {
		pc.Kill()
		return refuse("its binary describes another driver", fmt.Errorf("the binary describes itself as %q", desc.Slug))
	}
	p.pc, p.cl, p.entry, p.desc = pc, cl, entry, &desc
	p.lastErr = ""
	if p.started > 0 {
		p.m.metrics.restarts.WithLabelValues(p.slug).Inc()
		p.log.Warn("driver restarted", "starts", p.started+1)
	}
	p.started++
	p.stopWatch = make(chan struct{})
	go p.watch(pc, p.stopWatch)
	p.log.Info("driver started", "version", desc.DriverVersion, "protocol", cl.ProtocolVersion())
	return nil
}

// watch notices the process exiting and restarts it after a back-off, so
// a crashed driver is back before the next call needs it.
func (p *process) watch(pc *plugin.Client, stop chan struct{}) {
	t := time.NewTicker(p.m.opts.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if !pc.Exited() {
			continue
		}
		p.mu.Lock()
		if p.pc != pc || p.closed {
			// Reaped or stopped by the host (a shutdown kills the process
			// while holding the lock): not a crash, nothing to log.
			p.mu.Unlock()
			return
		}
		p.log.Error("driver process exited; restarting")
		p.lastErr = "the driver process exited"
		p.pc, p.cl = nil, nil
		p.stopWatch = nil
		p.failures++
		p.nextTry = p.m.now().Add(p.m.backoff(p.failures))
		p.mu.Unlock()
		p.restartLater()
		return
	}
}

// restartLater retries the start until it succeeds or the manager closes.
func (p *process) restartLater() {
	for {
		p.mu.Lock()
		if p.closed || p.cl != nil {
			p.mu.Unlock()
			return
		}
		wait := time.Until(p.nextTry)
		p.mu.Unlock()
		select {
		case <-p.m.done:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.m.opts.StartTimeout+p.m.opts.CallTimeout)
		_, err := p.client(ctx)
		cancel()
		if err == nil {
			return
		}
		p.log.Error("driver restart failed", "error", err)
	}
}

// markSuspect reaps the process if a call saw it unreachable.
func (p *process) markSuspect(cl *sdk.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cl != cl || p.pc == nil {
		return
	}
	if p.pc.Exited() || cl.Ping() != nil {
		p.log.Error("driver unreachable; it will be restarted")
		p.lastErr = "the driver process stopped answering"
		p.reapLocked()
		p.failures++
		p.nextTry = p.m.now().Add(p.m.backoff(p.failures))
		go p.restartLater()
	}
}

func (p *process) description() *sdk.Description {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.desc
}

func (p *process) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.reapLocked()
}

func unavailable(slug, msg string, cause error) *host.Error {
	if cause == nil {
		cause = sdk.ErrDriverUnavailable
	}
	return &host.Error{Code: host.CodeDriverUnavailable, Message: "driver " + slug + ": " + msg, Cause: cause}
}

// sameBinary reports whether the catalog entry of slug is the binary with
// checksum sum: an entry registered under another slug (RegisterAs, the
// catalog's aliases) launches a binary describing slug only while slug's
// own entry is that same binary.
func (m *Manager) sameBinary(ctx context.Context, slug, sum string) bool {
	e, err := m.catalog.GetDriver(ctx, slug)
	return err == nil && e.SHA256 == sum
}
