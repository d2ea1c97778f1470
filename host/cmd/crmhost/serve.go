package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/console"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/outbound"
	"crmhost.dev/host/replicas"
	"crmhost.dev/host/secrets"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// stack is a running host's parts.
type stack struct {
	store    host.Store
	drivers  *drivers.Manager
	broker   *broker.Broker
	server   *hosthttp.Server
	log      hclog.Logger
	limits   *limiters
	jobs     *jobs.Runner
	replicas *replicas.Tracker
	metrics  string // the separate metrics listener's address, if any
	// stopTracing flushes the spans still buffered and stops exporting.
	stopTracing func(context.Context) error
}

// close stops the job runner (letting in-flight lead writes finish, up to
// a bound), then the drivers, the limiters, this replica's heartbeat and
// the store.
func (s *stack) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.jobs.Stop(ctx); err != nil {
		s.log.Error("stop job runner", "error", err)
	}
	if err := s.broker.Close(ctx); err != nil {
		s.log.Error("store buffered audit rows", "error", err)
	}
	s.drivers.Close()
	s.limits.close()
	if err := s.replicas.Close(ctx); err != nil {
		s.log.Warn("remove this replica's heartbeat", "error", err)
	}
	s.store.Close()
	if err := s.stopTracing(ctx); err != nil {
		s.log.Warn("flush traces", "error", err)
	}
}

// agentJWT is the HTTP server's JWT configuration from c.
func agentJWT(c jwtConfig) (hosthttp.JWTConfig, error) {
	jc := hosthttp.JWTConfig{Issuer: c.Issuer, Audience: c.Audience, MaxLifetime: c.MaxLifetime, Leeway: c.ClockSkew}
	if c.ClockSkew == 0 {
		jc.Leeway = -1 // none; 0 would mean hosthttp's default
	}
	if c.Secret != "" {
		jc.HS256Secret = []byte(c.Secret)
	}
	if c.PublicKeyFile != "" {
		k, err := rsaPublicKey(c.PublicKeyFile)
		if err != nil {
			return jc, err
		}
		jc.RS256Key = k
	}
	return jc, nil
}

func buildStack(ctx context.Context, c config, log hclog.Logger, kr *secrets.Keyring) (st *stack, err error) {
	jc, err := agentJWT(c.JWT)
	if err != nil {
		return nil, err
	}
	store, what, err := openStore(ctx, c, c.Migrate)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	log.Info("store open", "store", what)
	var undo []func()
	stopTracing, err := startTracing(ctx, c.Tracing, log.Named("tracing"))
	if err != nil {
		store.Close()
		return nil, err
	}
	undo = append(undo, func() { _ = stopTracing(context.Background()) })
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	undo = append(undo, func() { store.Close() })
	rep, err := replicas.Start(ctx, store, replicas.Options{Logger: log.Named("replicas")})
	if err != nil {
		log.Warn("first replica heartbeat failed; counting this replica alone until one succeeds", "error", err)
	}
	undo = append(undo, func() { _ = rep.Close(context.Background()) })
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	auditFailures := prometheus.NewCounter(prometheus.CounterOpts{Name: "crmhost_audit_failures_total", Help: "Audit rows that could not be written."})
	reg.MustRegister(auditFailures)
	lim, err := newLimiters(ctx, c.RateLimits, rep.Count, log.Named("ratelimit"), reg)
	if err != nil {
		return nil, err
	}
	undo = append(undo, lim.close)
	mgr := drivers.NewManager(store, drivers.Options{Logger: log.Named("driver"), Registerer: reg, VerbTimeouts: c.VerbTimeouts, EgressAllow: c.EgressAllow,
		PluginDir: c.PluginDir, DriverEnv: c.DriverEnv, TraceEnv: c.Tracing.DriverEnv})
	undo = append(undo, mgr.Close)
	// The job runner writes queued leads, mirrored rows and inbound events
	// through the broker, the mirror and the outbound service, which queue
	// them through the runner.
	b := broker.New(broker.Options{Store: store, Keyring: kr, Drivers: mgr, Logger: log.Named("broker"), OnAuditFailure: auditFailures.Inc,
		IdempotencyTTL: c.IdempotencyTTL, ConfigCacheTTL: c.ConfigCacheTTL, AuditBuffer: c.AuditBuffer, Throttle: lim.throttle, OnThrottled: throttledCounter(reg),
		RefreshMargin: c.RefreshMargin})
	mo := mirror.Options{Store: store, Broker: b, Logger: log.Named("mirror"), Retention: c.Mirror.Retention,
		EscalateAfter: c.Mirror.EscalateAfter, Metrics: mirror.NewMetrics(reg)}
	if c.Mirror.WebhookURL != "" {
		if mo.Notifier, err = mirror.NewNotifier(c.Mirror.WebhookURL, c.Mirror.WebhookSecret, nil, nil); err != nil {
			return nil, fmt.Errorf("CRMHOST_INCIDENT_WEBHOOK_SECRET: %w", err)
		}
	}
	mir := mirror.New(mo)
	rules, err := outboundRules(c)
	if err != nil {
		return nil, err
	}
	out, err := outbound.New(outbound.Options{Store: store, Keyring: kr, Rules: rules, AllowDeliveryTo: c.DeliveryAllow, Logger: log.Named("outbound"), CRM: b})
	if err != nil {
		return nil, err
	}
	runner, err := jobs.New(ctx, jobs.Options{Store: store, Logger: log.Named("jobs"), Mirror: mir, Outbound: out, RescueAfter: c.Mirror.RescueAfter, Migrate: c.Migrate,
		AuditRetention: c.AuditRetention, PruneBatch: c.PruneBatch, Writer: jobs.LeadWriterFunc(b.WriteLead)})
	if err != nil {
		return nil, fmt.Errorf("job runner: %w", schemaAdvice(err))
	}
	b.SetLeads(runner)
	b.SetEvents(runner)
	mir.SetQueue(runner)
	out.Queue = runner
	ui, err := console.New(console.Options{Store: store, Broker: b, Drivers: mgr, Mirror: mir, Outbound: out, Keyring: kr, Logger: log.Named("console"),
		PublicURL: c.PublicURL, LiveDir: c.ConsoleDevDir})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	srv := hosthttp.New(hosthttp.Config{Store: store, Broker: b, Drivers: mgr, Logger: log.Named("http"), Mirror: mir, Outbound: out,
		JWT: jc, MaxBodyBytes: c.MaxBodyBytes, Registry: reg, MetricsToken: c.HTTP.MetricsToken, PublicURL: c.PublicURL,
		RateLimits: lim.httpLimits(c.RateLimits), TrustedProxies: c.HTTP.TrustedProxies, Timeouts: c.HTTP.Timeouts, Console: ui})
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil { // stopped by close, after the server drains
		return nil, fmt.Errorf("start job runner: %w", err)
	}
	return &stack{store: store, drivers: mgr, broker: b, server: srv, log: log, limits: lim, jobs: runner,
		replicas: rep, metrics: c.HTTP.MetricsAddr, stopTracing: stopTracing}, nil
}

// serve runs the HTTP server (and the metrics listener, when configured)
// until ctx ends, then shuts down gracefully.
func (s *stack) serve(ctx context.Context, addr string, ready func(addr string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metricsErr := make(chan error, 1)
	if s.metrics != "" {
		go func() {
			err := s.server.ServeMetrics(ctx, s.metrics, func(a string) { s.log.Info("metrics listening", "addr", a) })
			if err != nil {
				s.log.Error("metrics listener", "error", err)
				cancel() // a host whose metrics cannot be served stops rather than run unwatched
			}
			metricsErr <- err
		}()
	} else {
		metricsErr <- nil
	}
	err := s.server.Serve(ctx, addr, 20*time.Second, func(a string) {
		s.log.Info("listening", "addr", a)
		if ready != nil {
			ready(a)
		}
	})
	cancel()
	if merr := <-metricsErr; err == nil && merr != nil {
		err = fmt.Errorf("metrics listener %s: %w", s.metrics, merr)
	}
	s.log.Info("shut down")
	return err
}

func serveCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen address (default $CRMHOST_ADDR or 127.0.0.1:8080)")
	migrate := fs.Bool("migrate", false, "apply pending database migrations at start (default: refuse to start until `crmhost migrate` has)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	if *addr != "" {
		c.Addr = *addr
	}
	c.Migrate = *migrate
	log := newLogger(c.LogLevel)
	kr, err := keyring(ctx, c)
	if err != nil {
		return err
	}
	if err := c.requireJWT(); err != nil {
		return err
	}
	st, err := buildStack(ctx, c, log, kr)
	if err != nil {
		return err
	}
	defer st.close()
	return st.serve(ctx, c.Addr, nil)
}

// migrateCmd applies every pending migration: the store's, then the job
// queue's (River keeps its jobs in the same database).
func migrateCmd(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usageError("migrate takes no arguments")
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	s, what, err := openStore(ctx, c, migrateSchema)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := jobs.Migrate(ctx, s, newLogger(c.LogLevel).Named("jobs"))
	if err != nil {
		return err
	}
	queue := "job queue up to date"
	if len(applied) > 0 {
		queue = fmt.Sprintf("job queue migrations %v applied", applied)
	}
	fmt.Printf("migrations applied to %s: store schema current, %s\n", what, queue)
	return nil
}

// outboundRules is the consent gates' rule set: CRMHOST_OUTBOUND_RULES's
// file, or the embedded one.
func outboundRules(c config) (*outbound.RuleSet, error) {
	if c.OutboundRules == "" {
		return outbound.DefaultRuleSet()
	}
	rs, err := outbound.LoadRuleSet(c.OutboundRules)
	if err != nil {
		return nil, fmt.Errorf("CRMHOST_OUTBOUND_RULES: %w", err)
	}
	return rs, nil
}
