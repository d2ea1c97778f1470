package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	nethttp "net/http"
	"sync/atomic"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/outbound"
	"github.com/gin-gonic/gin"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures the HTTP server.
type Config struct {
	Store  host.Store
	Broker *broker.Broker
	// Outbound runs trigger rules, consent and call requests (the
	// outbound routes).
	Outbound *outbound.Service
	Drivers  *drivers.Manager
	Logger   hclog.Logger
	// Operators authenticates the operator routes' named operators
	// (default: over Store).
	Operators *operators.Operators
	JWT       JWTConfig
	// MaxBodyBytes bounds request bodies (1 MiB).
	MaxBodyBytes int64
	// Registry receives the HTTP metrics and is what /metrics serves.
	Registry *prometheus.Registry
	// MetricsToken, when set, lets GET /metrics on this listener answer a
	// bearer of it; when empty /metrics here answers 404 and the metrics
	// are served only by MetricsHandler on a listener of their own.
	MetricsToken string
	// APIKeys verifies and issues public API keys (default: over Store).
	APIKeys *apikeys.Keys
	// RateLimits are the per-API-key, per-(tenant, tool) and per-address
	// failed-authentication limits (see ratelimit.go and authlimit.go); a
	// nil Limiter disables them.
	RateLimits RateLimits
	// PublicURL is the host's public base URL, as providers call its
	// webhook routes (their signatures cover it); empty: taken from each
	// request's host.
	PublicURL string
	// TrustedProxies are the addresses or CIDRs of the reverse proxies
	// whose X-Forwarded-For is believed for the client's address; none by
	// default (the peer's address is the client's).
	TrustedProxies []string
	// Timeouts bound requests and connections (see Timeouts).
	Timeouts Timeouts
	// Mirror serves the mirrored classes, incidents and erasures (see
	// mirror.go); nil leaves their routes out.
	Mirror *mirror.Service
	// Console, when set, serves the operator console under /console and
	// the API reference at /docs (package console). Those HTML routes are
	// not in the OpenAPI document, which describes the JSON API.
	Console nethttp.Handler
}

// Timeouts bound the server's connections and each request's work.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers (10s).
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included (30s).
	Read time.Duration
	// Request is the longest any request may work: its context's deadline
	// (30s). A caller may ask for less with the Request-Timeout header.
	Request time.Duration
	// Write bounds writing the answer, from the end of the request's
	// headers (Request + 10s).
	Write time.Duration
	// Idle bounds an idle keep-alive connection (120s).
	Idle time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.ReadHeader <= 0 {
		t.ReadHeader = 10 * time.Second
	}
	if t.Read <= 0 {
		t.Read = 30 * time.Second
	}
	if t.Request <= 0 {
		t.Request = 30 * time.Second
	}
	if t.Write <= 0 {
		t.Write = t.Request + 10*time.Second
	}
	if t.Idle <= 0 {
		t.Idle = 120 * time.Second
	}
	return t
}

// Server is the host's HTTP handler.
type Server struct {
	cfg         Config
	engine      *gin.Engine
	log         hclog.Logger
	keys        *apikeys.Keys
	ops         *operators.Operators
	metrics     nethttp.Handler
	metricsHash [32]byte
	draining    atomic.Bool
}

// New builds the router. A TrustedProxies entry that is not an address or
// CIDR is logged and no proxy is trusted (cmd/crmhost refuses to start on
// one: see ValidTrustedProxy).
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
	switch {
	case cfg.JWT.Leeway == 0:
		cfg.JWT.Leeway = DefaultJWTLeeway
	case cfg.JWT.Leeway < 0:
		cfg.JWT.Leeway = 0
	}
	if cfg.JWT.MaxLifetime == 0 {
		cfg.JWT.MaxLifetime = DefaultJWTMaxLifetime
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	cfg.RateLimits = cfg.RateLimits.withNames()
	s := &Server{cfg: cfg, log: cfg.Logger, keys: cfg.APIKeys, ops: cfg.Operators,
		metrics: promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true})}
	if s.keys == nil {
		s.keys = apikeys.New(cfg.Store, nil)
	}
	if s.ops == nil {
		s.ops = operators.New(cfg.Store, nil)
	}
	if cfg.MetricsToken != "" {
		s.metricsHash = sha256.Sum256([]byte(cfg.MetricsToken))
	}
	e := gin.New()
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		s.log.Error("trusting no proxy: bad trusted proxy list", "error", err)
		_ = e.SetTrustedProxies(nil)
	}
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(requestIDs, traceRequests, observe(s.log, newHTTPMetrics(cfg.Registry)), recovery(s.log), s.deadline)
	e.NoRoute(func(c *gin.Context) { fail(c, host.NotFound("no route %s %s", c.Request.Method, c.Request.URL.Path)) })
	e.NoMethod(func(c *gin.Context) {
		fail(c, &host.Error{Code: codeMethodNotAllowed, Field: "method", Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	e.GET("/healthz", func(c *gin.Context) { c.JSON(nethttp.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsRoute)
	e.GET("/openapi.json", s.openAPI)

	tools := e.Group("/api/tools", s.authGuard)
	tools.POST("/crm_lookup_customer", s.agent(ScopeRead), s.rateLimit, s.lookupCustomer(toolActor))
	tools.POST("/crm_search_records", s.agent(ScopeRead), s.rateLimit, s.searchRecords(toolActor))
	tools.POST("/crm_list_recent", s.agent(ScopeRead), s.rateLimit, s.listRecent(toolActor))
	tools.POST("/crm_create_record", s.agent(ScopeWrite), s.rateLimit, s.createRecord(toolActor))
	tools.POST("/crm_update_record", s.agent(ScopeWrite), s.rateLimit, s.updateRecord(toolActor))

	op := e.Group("/api/operator", s.authGuard, s.operator)
	op.GET("/health", s.operatorHealth)
	op.GET("/audit", s.hostAudit)
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
	op.GET("/tenants/:tenant_id/audit", s.tenantAudit)
	op.POST("/tenants/:tenant_id/api-keys", s.createAPIKey)
	op.GET("/tenants/:tenant_id/api-keys", s.listAPIKeys)
	op.DELETE("/tenants/:tenant_id/api-keys/:key_id", s.revokeAPIKey)
	op.GET("/tenants/:tenant_id/webhook-events", s.listWebhookEvents)
	op.GET("/tenants/:tenant_id/decisions", s.listDecisions)
	op.GET("/tenants/:tenant_id/outbound", s.getOutboundSettings)
	op.PUT("/tenants/:tenant_id/outbound", s.needOutbound, s.putOutboundSettings)
	op.GET("/tenants/:tenant_id/trigger-rules", s.listTriggerRules)
	op.POST("/tenants/:tenant_id/trigger-rules", s.needOutbound, s.createTriggerRule)
	op.GET("/tenants/:tenant_id/trigger-rules/:rule_id", s.getTriggerRule)
	op.PUT("/tenants/:tenant_id/trigger-rules/:rule_id", s.needOutbound, s.updateTriggerRule)
	op.DELETE("/tenants/:tenant_id/trigger-rules/:rule_id", s.needOutbound, s.deleteTriggerRule)
	op.GET("/tenants/:tenant_id/consents", s.opListConsents)
	op.POST("/tenants/:tenant_id/consents", s.needOutbound, s.opCreateConsent)
	op.GET("/tenants/:tenant_id/consents/:consent_id", s.opGetConsent)
	op.POST("/tenants/:tenant_id/consents/revoke", s.needOutbound, s.opRevokeConsent)

	e.GET("/oauth/callback", s.oauthCallback)
	if cfg.Console != nil {
		ui := gin.WrapH(cfg.Console)
		e.GET("/docs", ui)
		e.Any("/console", ui)
		e.Any("/console/*path", ui)
	}
	for _, m := range []string{nethttp.MethodPost, nethttp.MethodGet, nethttp.MethodHead, nethttp.MethodPut} {
		e.Handle(m, "/webhooks/:provider", s.webhook)
	}

	// The public API: the agent's CRM tools for an API key, same handlers.
	v1 := e.Group("/v1", s.authGuard)
	v1.POST("/crm/lookup-customer", s.apiKey(apikeys.ScopeCRMRead), s.rateLimit, s.lookupCustomer(apiActor))
	v1.POST("/crm/search-records", s.apiKey(apikeys.ScopeCRMRead), s.rateLimit, s.searchRecords(apiActor))
	v1.POST("/crm/list-recent", s.apiKey(apikeys.ScopeCRMRead), s.rateLimit, s.listRecent(apiActor))
	v1.POST("/crm/create-record", s.apiKey(apikeys.ScopeCRMWrite), s.rateLimit, s.createRecord(apiActor))
	v1.POST("/crm/update-record", s.apiKey(apikeys.ScopeCRMWrite), s.rateLimit, s.updateRecord(apiActor))
	v1.POST("/leads", s.apiKey(apikeys.ScopeLeadsWrite), s.rateLimitKey, s.submitLead)
	v1.GET("/leads/:id", s.apiKey(apikeys.ScopeLeadsWrite, apikeys.ScopeCRMRead), s.rateLimitKey, s.getLead)
	v1.POST("/consents", s.apiKey(apikeys.ScopeConsentsWrite), s.rateLimitKey, s.needOutbound, s.apiCreateConsent)
	v1.GET("/consents/:id", s.apiKey(apikeys.ScopeConsentsWrite), s.rateLimitKey, s.apiGetConsent)
	v1.POST("/consents/revoke", s.apiKey(apikeys.ScopeConsentsWrite), s.rateLimitKey, s.needOutbound, s.apiRevokeConsent)
	v1.POST("/dnc-scrubs", s.apiKey(apikeys.ScopeDNCWrite), s.rateLimitKey, s.needOutbound, s.putDNCScrub)
	v1.GET("/call-requests", s.apiKey(apikeys.ScopeCallsRead), s.rateLimitKey, s.listCallRequests)
	v1.POST("/call-requests/:id/ack", s.apiKey(apikeys.ScopeCallsRead), s.rateLimitKey, s.needOutbound, s.ackCallRequest)
	if cfg.Mirror != nil {
		s.mirrorRoutes(v1, op)
	}
	s.engine = e
	return s
}

// ValidTrustedProxy reports whether p can be a TrustedProxies entry: an
// IP address or a CIDR.
func ValidTrustedProxy(p string) bool {
	if _, _, err := net.ParseCIDR(p); err == nil {
		return true
	}
	return net.ParseIP(p) != nil
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

// readyz reports whether this process should get traffic: its store
// answers and it is not shutting down. Drivers are not part of it (a
// driver that fails costs its own calls, never the host's readiness); the
// operator route GET /api/operator/health reports them.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"store": "ok", "process": "ok"}
	ok := true
	if err := s.cfg.Store.Ping(ctx); err != nil {
		ok = false
		checks["store"] = "unreachable"
		s.log.Error("readiness: store", "error", err)
	}
	if s.draining.Load() {
		ok = false
		checks["process"] = "shutting down"
	}
	status := nethttp.StatusOK
	if !ok {
		status = nethttp.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": ok, "checks": checks})
}

// metricsRoute serves /metrics on the API listener to a bearer of the
// metrics token; without one configured it is not served here.
func (s *Server) metricsRoute(c *gin.Context) {
	if s.cfg.MetricsToken == "" {
		fail(c, host.NotFound("metrics are not served on this listener (they are on CRMHOST_METRICS_ADDR; or set CRMHOST_METRICS_TOKEN)"))
		return
	}
	raw, _ := bearer(c)
	got := sha256.Sum256([]byte(raw))
	if subtle.ConstantTimeCompare(got[:], s.metricsHash[:]) != 1 {
		fail(c, unauthenticated("the metrics token is required: Authorization: Bearer <CRMHOST_METRICS_TOKEN>"))
		return
	}
	s.metrics.ServeHTTP(c.Writer, c.Request)
}

// MetricsHandler serves the Prometheus metrics, unauthenticated, for a
// listener of their own (CRMHOST_METRICS_ADDR) on a network only the
// scraper reaches.
func (s *Server) MetricsHandler() nethttp.Handler {
	mux := nethttp.NewServeMux()
	mux.Handle("GET /metrics", s.metrics)
	return mux
}

// httpServer is the net/http server for h with the configured timeouts.
func (s *Server) httpServer(h nethttp.Handler) *nethttp.Server {
	t := s.cfg.Timeouts
	return &nethttp.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle}
}

// Serve runs the server on addr until ctx ends, then shuts down
// gracefully: /readyz turns 503 at once, and requests in flight may
// finish (up to grace).
func (s *Server) Serve(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	return s.serve(ctx, s.httpServer(s), addr, grace, func(a string) {
		if ready != nil {
			ready(a)
		}
	}, func() { s.draining.Store(true) })
}

// ServeMetrics runs MetricsHandler on addr until ctx ends.
func (s *Server) ServeMetrics(ctx context.Context, addr string, ready func(addr string)) error {
	return s.serve(ctx, s.httpServer(s.MetricsHandler()), addr, 5*time.Second, ready, nil)
}

func (s *Server) serve(ctx context.Context, srv *nethttp.Server, addr string, grace time.Duration, ready func(string), stopping func()) error {
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
	if stopping != nil {
		stopping()
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

// mirrorRoutes registers the mirrored classes' public routes and the
// operator's sync, redrive, incident and erasure routes.
func (s *Server) mirrorRoutes(v1, op *gin.RouterGroup) {
	for _, r := range []struct {
		class host.MirrorClass
		path  string
		scope string
	}{
		{host.ClassCustomer, "/customers", apikeys.ScopeCustomersWrite},
		{host.ClassCase, "/cases", apikeys.ScopeCasesWrite},
		{host.ClassConversation, "/conversations", apikeys.ScopeConversationsWrite},
	} {
		v1.POST(r.path, s.apiKey(r.scope), s.rateLimitKey, s.acceptRow(r.class, "/v1"+r.path))
		v1.GET(r.path+"/:id", s.apiKey(r.scope, apikeys.ScopeCRMRead), s.rateLimitKey, s.getRow(r.class))
	}
	v1.POST("/conversations/:id/messages", s.apiKey(apikeys.ScopeConversationsWrite), s.rateLimitKey, s.appendMessages)
	v1.GET("/conversations/:id/messages", s.apiKey(apikeys.ScopeConversationsWrite, apikeys.ScopeCRMRead), s.rateLimitKey, s.listMessages)

	op.GET("/incidents", s.incidents)
	op.GET("/tenants/:tenant_id/mirror", s.syncState)
	op.GET("/tenants/:tenant_id/mirror/rows", s.mirrorRows)
	op.POST("/tenants/:tenant_id/mirror/redrive", s.redrive)
	op.POST("/tenants/:tenant_id/forget", s.forget)
	op.GET("/tenants/:tenant_id/erasures", s.erasures)
	op.GET("/tenants/:tenant_id/erasures/:erasure_id", s.erasure)
}
