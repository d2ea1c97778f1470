package drivers

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
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
	want, err := hexBytes(entry.SHA256)
	if err != nil || len(want) != 32 {
		return &host.Error{Code: host.CodeDriverUnavailable, Message: fmt.Sprintf("driver %s: the catalog's sha256 %q is not 64 hex characters", p.slug, entry.SHA256)}
	}
	// go-plugin hashes the binary before exec (SecureConfig) and refuses a
	// mismatch; hashing it here as well would double the launch cost.
	cmd := exec.Command(entry.Command, entry.Args...)
	pc := plugin.NewClient(sdk.NewClientConfig(cmd, sdk.ClientOptions{SHA256: want, Logger: p.log, StartTimeout: p.m.opts.StartTimeout}))
	cl, err := sdk.Dispense(pc)
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		pc.Kill()
		got, _ := sdk.FileSHA256(entry.Command)
		p.log.Error("refusing to launch driver: checksum mismatch", "command", entry.Command, "want", entry.SHA256, "got", got)
		return &host.Error{Code: host.CodeDriverUnavailable, Message: fmt.Sprintf(
			"driver %s: binary %s has sha256 %s but the catalog registered %s; refusing to launch it (re-register the driver if the new binary is trusted)",
			p.slug, entry.Command, got, entry.SHA256)}
	}
	if err != nil {
		pc.Kill()
		return &host.Error{Code: host.CodeDriverUnavailable, Message: fmt.Sprintf("driver %s failed to start: %v", p.slug, err), Cause: err}
	}
	dctx, cancel := context.WithTimeout(context.Background(), p.m.opts.CallTimeout)
	defer cancel()
	desc, err := cl.Describe(dctx)
	if err != nil {
		pc.Kill()
		return &host.Error{Code: host.CodeDriverUnavailable, Message: fmt.Sprintf("driver %s failed Describe: %v", p.slug, err), Cause: err}
	}
	p.pc, p.cl, p.entry, p.desc = pc, cl, entry, &desc
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
		p.log.Error("driver process exited; restarting")
		p.mu.Lock()
		if p.pc != pc || p.closed {
			p.mu.Unlock()
			return
		}
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
