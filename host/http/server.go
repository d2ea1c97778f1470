package http

import (
	"context"
	"crypto/sha256"
	"errors"
	nethttp "net/http"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	"github.com/gin-gonic/gin"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures the HTTP server.
type Config struct {
	Store   host.Store
	Broker  *broker.Broker
	Drivers *drivers.Manager
	Logger  hclog.Logger
	// OperatorToken authenticates the operator routes (empty: refused).
	OperatorToken string
	JWT           JWTConfig
	// MaxBodyBytes bounds request bodies (1 MiB).
	MaxBodyBytes int64
	// Registry receives the HTTP metrics and serves /metrics.
	Registry *prometheus.Registry
	// APIKeys verifies and issues public API keys (default: over Store).
	APIKeys *apikeys.Keys
	// RateLimits are the per-API-key and per-(tenant, tool) request
	// limits (see ratelimit.go); a nil Limiter disables them.
	RateLimits RateLimits
	// PublicURL is the host's public base URL, as providers call its
	// webhook routes (their signatures cover it); empty: taken from each
	// request's host.
	PublicURL string
}

// Server is the host's HTTP handler.
type Server struct {
	cfg          Config
	engine       *gin.Engine
	operatorHash [32]byte
	log          hclog.Logger
	keys         *apikeys.Keys
}

// New builds the router.
func New(cfg Config) *Server {
	gin.SetMode(gin.ReleaseMode)
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.JWT.Leeway == 0 {
		cfg.JWT.Leeway = 30 * time.Second
	}
	cfg.RateLimits = cfg.RateLimits.withNames()
	s := &Server{cfg: cfg, log: cfg.Logger, keys: cfg.APIKeys}
	if s.keys == nil {
		s.keys = apikeys.New(cfg.Store, nil)
	}
	if cfg.OperatorToken != "" {
		s.operatorHash = sha256.Sum256([]byte(cfg.OperatorToken))
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(requestIDs, observe(s.log, newHTTPMetrics(cfg.Registry)), recovery(s.log))
	e.NoRoute(func(c *gin.Context) { fail(c, host.NotFound("no route %s %s", c.Request.Method, c.Request.URL.Path)) })
	e.NoMethod(func(c *gin.Context) {
		fail(c, &host.Error{Code: codeMethodNotAllowed, Field: "method", Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	e.GET("/healthz", func(c *gin.Context) { c.JSON(nethttp.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", s.openAPI)

	tools := e.Group("/api/tools")
	tools.POST("/crm_lookup_customer", s.agent(ScopeRead), s.rateLimit, s.lookupCustomer)
	tools.POST("/crm_search_records", s.agent(ScopeRead), s.rateLimit, s.searchRecords)
	tools.POST("/crm_list_recent", s.agent(ScopeRead), s.rateLimit, s.listRecent)
	tools.POST("/crm_create_record", s.agent(ScopeWrite), s.rateLimit, s.createRecord)
	tools.POST("/crm_update_record", s.agent(ScopeWrite), s.rateLimit, s.updateRecord)

	op := e.Group("/api/operator", s.operator)
	op.GET("/drivers", s.listDrivers)
	op.POST("/drivers", s.registerDriver)
	op.GET("/drivers/:slug", s.describeDriver)
	op.DELETE("/drivers/:slug", s.removeDriver)
	op.GET("/drivers/:slug/app-credentials", s.getAppCredentials)
	op.PUT("/drivers/:slug/app-credentials", s.putAppCredentials)
	op.DELETE("/drivers/:slug/app-credentials", s.deleteAppCredentials)
	op.GET("/tenants", s.listTenants)
	op.POST("/tenants", s.createTenant)
	op.GET("/tenants/:tenant_id", s.getTenant)
	op.DELETE("/tenants/:tenant_id", s.deleteTenant)
	op.PUT("/tenants/:tenant_id/connection", s.connect)
	op.PATCH("/tenants/:tenant_id/connection", s.editConnection)
	op.POST("/tenants/:tenant_id/connection/oauth", s.startOAuth)
	op.GET("/tenants/:tenant_id/connection/objects", s.connectionObjects)
	op.POST("/tenants/:tenant_id/connection/objects", s.refreshConnectionObjects)
	op.GET("/tenants/:tenant_id/connection", s.getConnection)
	op.POST("/tenants/:tenant_id/connection/test", s.testConnection)
	op.GET("/tenants/:tenant_id/mappings", s.listMappings)
	op.PUT("/tenants/:tenant_id/mappings/:kind/:key", s.setMapping)
	op.DELETE("/tenants/:tenant_id/mappings/:kind/:key", s.deleteMapping)
	op.GET("/tenants/:tenant_id/fields/:object", s.fields)
	op.GET("/tenants/:tenant_id/audit", s.audit)
	op.POST("/tenants/:tenant_id/api-keys", s.createAPIKey)
	op.GET("/tenants/:tenant_id/api-keys", s.listAPIKeys)
	op.DELETE("/tenants/:tenant_id/api-keys/:key_id", s.revokeAPIKey)

	e.GET("/oauth/callback", s.oauthCallback)
	for _, m := range []string{nethttp.MethodPost, nethttp.MethodGet, nethttp.MethodHead, nethttp.MethodPut} {
		e.Handle(m, "/webhooks/:provider", s.webhook)
	}

	v1 := e.Group("/v1")
	v1.POST("/crm/create-record", s.apiKey(apikeys.ScopeCRMWrite), s.rateLimit, s.publicCreateRecord)
	v1.POST("/leads", s.apiKey(apikeys.ScopeLeadsWrite), s.rateLimitKey, s.submitLead)
	v1.GET("/leads/:id", s.apiKey(apikeys.ScopeLeadsWrite, apikeys.ScopeCRMRead), s.rateLimitKey, s.getLead)
	s.engine = e
	return s
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) { s.engine.ServeHTTP(w, r) }

// Routes lists every registered route as "METHOD path".
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	if err := s.cfg.Store.Ping(ctx); err != nil {
		ok = false
		checks["store"] = "unreachable"
		s.log.Error("readiness: store", "error", err)
	} else {
		checks["store"] = "ok"
	}
	drv := gin.H{}
	for slug, err := range s.cfg.Drivers.Health() {
		ok = false
		drv[slug] = err.Error()
	}
	checks["drivers"] = drv
	status := nethttp.StatusOK
	if !ok {
		status = nethttp.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": ok, "checks": checks})
}

// Serve runs the server on addr until ctx ends, then shuts down
// gracefully, letting requests in flight finish (up to grace).
func (s *Server) Serve(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	srv := &nethttp.Server{Addr: addr, Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, nethttp.ErrServerClosed) {
		return err
	}
	return nil
}
