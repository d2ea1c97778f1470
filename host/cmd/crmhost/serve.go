package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/secrets"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// stack is a running host's parts.
type stack struct {
	store   host.Store
	drivers *drivers.Manager
	broker  *broker.Broker
	server  *hosthttp.Server
	log     hclog.Logger
	limits  *limiters
	jobs    *jobs.Runner
}

// close stops the job runner (letting in-flight lead writes finish, up to
// a bound), then the drivers, the limiters and the store.
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
	s.store.Close()
}

func buildStack(ctx context.Context, c config, log hclog.Logger, kr *secrets.Keyring) (*stack, error) {
	store, what, err := openStore(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	log.Info("store open", "store", what)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	auditFailures := prometheus.NewCounter(prometheus.CounterOpts{Name: "crmhost_audit_failures_total", Help: "Audit rows that could not be written."})
	reg.MustRegister(auditFailures)
	lim, err := newLimiters(ctx, c.RateLimits, log.Named("ratelimit"), reg)
	if err != nil {
		store.Close()
		return nil, err
	}
	mgr := drivers.NewManager(store, drivers.Options{Logger: log.Named("driver"), Registerer: reg, VerbTimeouts: c.VerbTimeouts, EgressAllow: c.EgressAllow})
	// The job runner writes queued leads through the broker, and the broker
	// queues them through the runner.
	var b *broker.Broker
	runner, err := jobs.New(ctx, jobs.Options{Store: store, Logger: log.Named("jobs"),
		Writer: jobs.LeadWriterFunc(func(ctx context.Context, l host.Lead) (string, string, error) { return b.WriteLead(ctx, l) })})
	if err != nil {
		mgr.Close()
		lim.close()
		store.Close()
		return nil, fmt.Errorf("job runner: %w", err)
	}
	b = broker.New(broker.Options{Store: store, Keyring: kr, Drivers: mgr, Logger: log.Named("broker"), OnAuditFailure: auditFailures.Inc,
		IdempotencyTTL: c.IdempotencyTTL, ConfigCacheTTL: c.ConfigCacheTTL, AuditBuffer: c.AuditBuffer, Throttle: lim.throttle, OnThrottled: throttledCounter(reg), Leads: runner,
		RefreshMargin: c.RefreshMargin})
	jc := hosthttp.JWTConfig{Issuer: c.JWTIssuer, Audience: c.JWTAudience}
	if c.JWTSecret != "" {
		jc.HS256Secret = []byte(c.JWTSecret)
	}
	if c.JWTPublicKey != "" {
		if jc.RS256Key, err = rsaPublicKey(c.JWTPublicKey); err != nil {
			mgr.Close()
			store.Close()
			lim.close()
			return nil, err
		}
	}
	if jc.HS256Secret == nil && jc.RS256Key == nil {
		log.Warn("no agent JWT key configured (CRMHOST_JWT_HS256_SECRET or CRMHOST_JWT_RS256_PUBLIC_KEY_FILE): tool routes will refuse every call")
	}
	if c.OperatorToken == "" {
		log.Warn("CRMHOST_OPERATOR_TOKEN is not set: operator routes will refuse every call")
	}
	srv := hosthttp.New(hosthttp.Config{Store: store, Broker: b, Drivers: mgr, Logger: log.Named("http"),
		OperatorToken: c.OperatorToken, JWT: jc, MaxBodyBytes: c.MaxBodyBytes, Registry: reg, PublicURL: c.PublicURL,
		RateLimits: lim.httpLimits(c.RateLimits)})
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil { // stopped by close, after the server drains
		mgr.Close()
		lim.close()
		store.Close()
		return nil, fmt.Errorf("start job runner: %w", err)
	}
	return &stack{store: store, drivers: mgr, broker: b, server: srv, log: log, limits: lim, jobs: runner}, nil
}

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
func (s *stack) serve(ctx context.Context, addr string, ready func(addr string)) error {
	err := s.server.Serve(ctx, addr, 20*time.Second, func(a string) {
		s.log.Info("listening", "addr", a)
		if ready != nil {
			ready(a)
		}
	})
	s.log.Info("shut down")
	return err
}

func serveCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen address (default $CRMHOST_ADDR or 127.0.0.1:8080)")
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
	log := newLogger(c.LogLevel)
	kr, err := keyring(ctx, c)
	if err != nil {
		return err
	}
	st, err := buildStack(ctx, c, log, kr)
	if err != nil {
		return err
	}
	defer st.close()
	return st.serve(ctx, c.Addr, nil)
}

func migrateCmd(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usageError("migrate takes no arguments")
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	s, what, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Println("migrations applied to", what)
	return nil
}
