package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	"crmhost.dev/sdk"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"
)

// config is every setting, read from the environment.
//
//	CRMHOST_ADDR                       listen address (127.0.0.1:8080)
//	CRMHOST_DATA_DIR                   SQLite directory when DATABASE_URL is unset (.crmhost)
//	DATABASE_URL                       PostgreSQL URL: share state between replicas
//	CRM_CREDENTIAL_ENCRYPTION_KEY      base64 of 32 random bytes (crmhost secrets genkey)
//	CRM_CREDENTIAL_OLD_KEYS            comma-separated previous keys, still readable during rotation
//	CRMHOST_KMS_KEY_URI                aws-kms://arn:... : wrap credential keys with AWS KMS instead
//	CRMHOST_JWT_HS256_SECRET           shared secret for agent JWTs (at least 32 characters)
//	CRMHOST_JWT_RS256_PUBLIC_KEY_FILE  PEM public key for RS256 agent JWTs
//	CRMHOST_JWT_ISSUER                 the iss every agent JWT must carry (required by serve)
//	CRMHOST_JWT_AUDIENCE               the aud every agent JWT must carry (required by serve)
//	CRMHOST_JWT_MAX_LIFETIME           longest exp - iat accepted, 1m..24h (1h)
//	CRMHOST_JWT_CLOCK_SKEW             leeway on exp, nbf and iat, 0..5m (30s)
//	CRMHOST_PLUGIN_DIR                 the only directory driver binaries are registered and launched from (bin/plugins);
//	                                   owned by root or the host's user, not writable by group or others
//	CRMHOST_DRIVER_ENV                 comma-separated host variables passed to drivers besides PATH, TZ, SSL_CERT_FILE,
//	                                   SSL_CERT_DIR and TMPDIR, e.g. HTTPS_PROXY,NO_PROXY (never CRM_*, CRMHOST_*, AWS_*...)
//	CRMHOST_MAX_BODY_BYTES             request body limit (1048576)
//	CRMHOST_REQUEST_TIMEOUT            the longest a request may work, 1s..10m (30s); callers may ask for less (Request-Timeout)
//	CRMHOST_HTTP_READ_TIMEOUT          bound on reading a request, body included, 1s..10m (30s)
//	CRMHOST_HTTP_WRITE_TIMEOUT         bound on writing the answer, above CRMHOST_REQUEST_TIMEOUT (request timeout + 10s)
//	CRMHOST_HTTP_IDLE_TIMEOUT          bound on an idle keep-alive connection, 1s..1h (120s)
//	CRMHOST_TRUSTED_PROXIES            comma-separated proxy addresses or CIDRs whose X-Forwarded-For names the client (none)
//	CRMHOST_METRICS_ADDR               listen address of a separate, unauthenticated /metrics listener (unset: none)
//	CRMHOST_METRICS_TOKEN              bearer token for /metrics on the API listener (unset: not served there)
//	CRMHOST_LOG_LEVEL                  trace|debug|info|warn|error (info)
//	CRMHOST_AUDIT_BUFFER               audit rows buffered for background batch writes, 0..1000000 (4096); 0 writes each in its request
//	CRMHOST_CONFIG_CACHE_TTL           how long a tenant's connection and mappings are cached, 0..1m (1s); other replicas' changes apply within it
//	CRMHOST_IDEMPOTENCY_TTL            how long an Idempotency-Key is remembered, a Go duration 1m..720h (24h)
//	CRMHOST_DEK_CACHE_SIZE             unwrapped credential keys kept in memory (5 minutes each), one a tenant in use, 0..1000000 (1024);
//	                                   with a KMS every miss is a KMS call, so size it to the tenants called within 5 minutes
//	CRMHOST_AUDIT_RETENTION            how long audit rows are kept, 0 (forever) or 24h..87600h (2160h: 90 days); pruned hourly
//	                                   in batches of CRMHOST_PRUNE_BATCH rows (1000, 1..100000), as are expired idempotency keys
//	REDIS_URL                          redis:// or rediss:// URL: share rate limits between replicas (unset: in-process)
//	CRMHOST_REDIS_PREFIX               start of every Redis key the host writes (crmhost:), so an ACL such as ~crmhost:* confines it
//	CRMHOST_REDIS_TIMEOUT              bound on each rate-limit call to Redis, above 0 and at most 1s (5ms); past it, fail open
//	CRMHOST_RATE_LIMIT_API_KEY         requests per API key, N/s, N/min or N/h (200/min)
//	CRMHOST_RATE_LIMIT_TOOL            calls per (tenant, tool), agent and public routes together (50/min)
//	CRMHOST_RATE_LIMIT_AUTH_FAILURES   failed authentications (401s) per client address before it is refused (20/min)
//	CRMHOST_VERB_TIMEOUTS              per-verb driver call deadlines, e.g. lookup_customer=3s,list_recent=30s (defaults: lookup 4s, search 8s, writes 15s, lists 20s)
//	CRMHOST_REFRESH_MARGIN             refresh a credential this long before it expires (2m)
//	CRMHOST_PUBLIC_URL                 the host's public base URL, as providers call its webhook routes (default: from each request)
//	CRMHOST_RETENTION                  how long mirrored rows are kept once in the CRM, by class, e.g. message=168h,case=2160h
//	                                   (defaults: message 7d; conversation, customer, lead 30d; case 90d)
//	CRMHOST_ESCALATE_AFTER             how long a row may stay out of the CRM before a crm_sync_failure incident opens, 1m..720h (24h)
//	CRMHOST_JOB_RESCUE_AFTER           how long a job left running by a dead process waits before another takes it over, 30s..24h (10m)
//	CRMHOST_INCIDENT_WEBHOOK_URL       the platform URL incident notifications are posted to (Standard Webhooks; unset: none)
//	CRMHOST_INCIDENT_WEBHOOK_SECRET    their signing secret, whsec_ and the base64 of 24 to 64 random bytes
//	CRMHOST_CONSOLE_DEV_DIR            a directory holding the operator console's templates/ and static/ (host/console),
//	                                   read on every request for template work (unset: the copies built in)
//	CRMHOST_DRIVER_EGRESS_ALLOW        comma-separated CIDR prefixes drivers may reach although their egress guard refuses
//	                                   non-public addresses (unset: none; `crmhost dev` allows loopback, where the fakes listen)
//	CRMHOST_OUTBOUND_RULES             a rule-set file for the outbound consent gates (default: the embedded one)
//	CRMHOST_OUTBOUND_DELIVERY_ALLOW    comma-separated CIDR prefixes call requests may be posted to although private (unset: none)
//	OTEL_EXPORTER_OTLP_ENDPOINT and OpenTelemetry's other standard variables: traces (see tracingConfig in tracing.go)
//
// Operators are named, with a token each (crmhost operator create); the
// single shared CRMHOST_OPERATOR_TOKEN of earlier versions is refused.
// While Redis is down each replica limits at limit/replicas, the replicas
// being counted from their heartbeats in the database (CRMHOST_REPLICAS of
// earlier versions is refused).
type config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	Key         string
	OldKeys     []string
	KMSKeyURI   string
	JWT         jwtConfig
	PluginDir   string
	// DriverEnv names extra host variables passed to drivers.
	DriverEnv []string
	// Tracing is OpenTelemetry's configuration (tracing.go).
	Tracing      tracingConfig
	MaxBodyBytes int64
	LogLevel     string
	// HTTP are the server's timeouts, proxies and metrics listener.
	HTTP httpConfig
	// RateLimits are the request limits and the limiter behind them.
	RateLimits rateLimitConfig
	// IdempotencyTTL is how long a request's idempotency key lives.
	IdempotencyTTL time.Duration
	// DEKCacheSize bounds the unwrapped-DEK cache (one DEK per tenant).
	DEKCacheSize int
	// AuditRetention is how long audit rows are kept (0: forever).
	AuditRetention time.Duration
	// PruneBatch bounds each delete of the audit and idempotency prunes.
	PruneBatch int
	// AuditBuffer is how many audit rows are buffered for background
	// batch writes (0: written in the request).
	AuditBuffer int
	// ConfigCacheTTL is how long a tenant's connection and mappings are
	// cached between store reads.
	ConfigCacheTTL time.Duration
	// VerbTimeouts are per-verb driver call deadlines (defaults for the
	// verbs not named).
	VerbTimeouts map[string]time.Duration
	// RefreshMargin is how long before expiry credentials are refreshed.
	RefreshMargin time.Duration
	// PublicURL is the host's public base URL (webhook signatures cover it).
	PublicURL string
	// ConsoleDevDir serves the console's templates and static files from
	// disk (template work in dev).
	ConsoleDevDir string
	// EgressAllow are the address prefixes every driver call may reach
	// although the drivers' egress guard refuses non-public addresses.
	EgressAllow []netip.Prefix
	// Migrate applies pending migrations (the store's and the job
	// queue's) at start instead of refusing them: set by `serve --migrate`
	// and by `dev`, never by the environment.
	Migrate bool
	// Mirror configures the system of record (retention, escalation,
	// incident notifications).
	Mirror mirrorConfig
	// OutboundRules is a rule-set file for the consent gates (default: the
	// embedded one).
	OutboundRules string
	// DeliveryAllow are the non-public address prefixes call requests
	// may be posted to (a dialer on a private network).
	DeliveryAllow []netip.Prefix
}

// mirrorConfig is the mirror's part of config.
type mirrorConfig struct {
	RescueAfter   time.Duration
	Retention     map[host.MirrorClass]time.Duration
	EscalateAfter time.Duration
	WebhookURL    string
	WebhookSecret string
}

// loadMirrorConfig reads the mirror's settings.
func loadMirrorConfig() (mirrorConfig, error) {
	m := mirrorConfig{Retention: map[host.MirrorClass]time.Duration{},
		WebhookURL: os.Getenv("CRMHOST_INCIDENT_WEBHOOK_URL"), WebhookSecret: os.Getenv("CRMHOST_INCIDENT_WEBHOOK_SECRET")}
	for _, part := range splitList(os.Getenv("CRMHOST_RETENTION")) {
		class, d, ok := strings.Cut(part, "=")
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if !ok || err != nil || !host.MirrorClass(strings.TrimSpace(class)).Valid() || dur < time.Hour || dur > 3650*24*time.Hour {
			return m, fmt.Errorf("CRMHOST_RETENTION: %q is not class=duration with a class (conversation, message, customer, lead, case) and a duration between 1h and 87600h", part)
		}
		m.Retention[host.MirrorClass(strings.TrimSpace(class))] = dur
	}
	var err error
	if m.EscalateAfter, err = durationEnv("CRMHOST_ESCALATE_AFTER", 24*time.Hour, time.Minute, 720*time.Hour); err != nil {
		return m, err
	}
	if m.RescueAfter, err = durationEnv("CRMHOST_JOB_RESCUE_AFTER", 10*time.Minute, 30*time.Second, 24*time.Hour); err != nil {
		return m, err
	}
	if m.WebhookURL != "" {
		u, err := url.Parse(m.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return m, fmt.Errorf("CRMHOST_INCIDENT_WEBHOOK_URL must be an absolute http(s) URL")
		}
		if m.WebhookSecret == "" {
			return m, fmt.Errorf("CRMHOST_INCIDENT_WEBHOOK_URL needs CRMHOST_INCIDENT_WEBHOOK_SECRET (whsec_...)")
		}
	}
	return m, nil
}

// jwtConfig is how agent JWTs are verified (and, by crmhost token,
// minted).
type jwtConfig struct {
	Secret        string
	PublicKeyFile string
	Issuer        string
	Audience      string
	MaxLifetime   time.Duration
	ClockSkew     time.Duration
}

// httpConfig is the HTTP server's part of config.
type httpConfig struct {
	Timeouts       hosthttp.Timeouts
	TrustedProxies []string
	MetricsAddr    string
	MetricsToken   string
}

// removed are variables of earlier versions that must not be silently
// ignored: the host refuses to start while one is set.
var removed = map[string]string{
	"CRMHOST_OPERATOR_TOKEN": "operators are named now: create one with `crmhost operator create <name>` (its token is shown once) and unset CRMHOST_OPERATOR_TOKEN",
	"CRMHOST_REPLICAS":       "the replica count is now counted from the replicas' heartbeats in the database: unset CRMHOST_REPLICAS",
}

func loadConfig() (config, error) {
	c := config{
		Addr:        env("CRMHOST_ADDR", "127.0.0.1:8080"),
		DataDir:     env("CRMHOST_DATA_DIR", ".crmhost"),
		DatabaseURL: os.Getenv("DATABASE_URL"),
		Key:         os.Getenv(secrets.LocalKeyEnv),
		KMSKeyURI:   os.Getenv("CRMHOST_KMS_KEY_URI"),
		JWT: jwtConfig{
			Secret:        os.Getenv("CRMHOST_JWT_HS256_SECRET"),
			PublicKeyFile: os.Getenv("CRMHOST_JWT_RS256_PUBLIC_KEY_FILE"),
			Issuer:        os.Getenv("CRMHOST_JWT_ISSUER"),
			Audience:      os.Getenv("CRMHOST_JWT_AUDIENCE"),
		},
		PluginDir:    env("CRMHOST_PLUGIN_DIR", "bin/plugins"),
		LogLevel:     env("CRMHOST_LOG_LEVEL", "info"),
		MaxBodyBytes: 1 << 20,
		HTTP: httpConfig{
			MetricsAddr:  os.Getenv("CRMHOST_METRICS_ADDR"),
			MetricsToken: os.Getenv("CRMHOST_METRICS_TOKEN"),
		},
	}
	for _, name := range slices.Sorted(maps.Keys(removed)) {
		if os.Getenv(name) != "" {
			return c, fmt.Errorf("%s is no longer supported: %s", name, removed[name])
		}
	}
	c.OldKeys = splitList(os.Getenv("CRM_CREDENTIAL_OLD_KEYS"))
	if v := os.Getenv("CRMHOST_MAX_BODY_BYTES"); v != "" {
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1024 || n > 64<<20 {
			return c, fmt.Errorf("CRMHOST_MAX_BODY_BYTES must be a byte count between 1024 and 67108864, got %q", v)
		}
		c.MaxBodyBytes = n
	}
	var err error
	if c.IdempotencyTTL, err = durationEnv("CRMHOST_IDEMPOTENCY_TTL", 24*time.Hour, time.Minute, 720*time.Hour); err != nil {
		return c, err
	}
	if c.AuditRetention, err = durationEnv("CRMHOST_AUDIT_RETENTION", 90*24*time.Hour, 24*time.Hour, 10*365*24*time.Hour); err != nil {
		if strings.TrimSpace(os.Getenv("CRMHOST_AUDIT_RETENTION")) != "0" {
			return c, fmt.Errorf("%w (or 0 to keep audit rows forever)", err)
		}
		c.AuditRetention = 0
	}
	c.DEKCacheSize = secrets.DefaultDEKCacheSize
	if v := os.Getenv("CRMHOST_DEK_CACHE_SIZE"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 0 || n > 1_000_000 {
			return c, fmt.Errorf("CRMHOST_DEK_CACHE_SIZE must be a count of keys between 0 (no cache) and 1000000, got %q", v)
		}
		c.DEKCacheSize = n
	}
	c.PruneBatch = 1000
	if v := os.Getenv("CRMHOST_PRUNE_BATCH"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 || n > 100_000 {
			return c, fmt.Errorf("CRMHOST_PRUNE_BATCH must be a row count between 1 and 100000, got %q", v)
		}
		c.PruneBatch = n
	}
	c.AuditBuffer = 4096
	if v := os.Getenv("CRMHOST_AUDIT_BUFFER"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 0 || n > 1_000_000 {
			return c, fmt.Errorf("CRMHOST_AUDIT_BUFFER must be a row count between 0 (write each row in the request) and 1000000, got %q", v)
		}
		c.AuditBuffer = n
	}
	if c.ConfigCacheTTL, err = durationEnv("CRMHOST_CONFIG_CACHE_TTL", time.Second, 0, time.Minute); err != nil {
		return c, err
	}
	if c.VerbTimeouts, err = parseVerbTimeouts(os.Getenv("CRMHOST_VERB_TIMEOUTS")); err != nil {
		return c, err
	}
	if v := os.Getenv("CRMHOST_REFRESH_MARGIN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Hour {
			return c, fmt.Errorf("CRMHOST_REFRESH_MARGIN must be a Go duration above 0 and at most 1h (such as 2m), got %q", v)
		}
		c.RefreshMargin = d
	}
	if v := os.Getenv("CRMHOST_PUBLIC_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return c, fmt.Errorf("CRMHOST_PUBLIC_URL must be an absolute http(s) URL without query or fragment, got %q", v)
		}
		c.PublicURL = strings.TrimRight(v, "/")
	}
	c.ConsoleDevDir = os.Getenv("CRMHOST_CONSOLE_DEV_DIR")
	if v := os.Getenv("CRMHOST_DRIVER_EGRESS_ALLOW"); v != "" {
		for _, raw := range strings.Split(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(raw))
			if err != nil {
				return c, fmt.Errorf("CRMHOST_DRIVER_EGRESS_ALLOW must be comma-separated CIDR prefixes (such as 127.0.0.0/8,::1/128), got %q", raw)
			}
			c.EgressAllow = append(c.EgressAllow, p)
		}
	}
	c.OutboundRules = os.Getenv("CRMHOST_OUTBOUND_RULES")
	if v := os.Getenv("CRMHOST_OUTBOUND_DELIVERY_ALLOW"); v != "" {
		for _, raw := range strings.Split(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(raw))
			if err != nil {
				return c, fmt.Errorf("CRMHOST_OUTBOUND_DELIVERY_ALLOW must be comma-separated CIDR prefixes (such as 10.0.0.0/8), got %q", raw)
			}
			c.DeliveryAllow = append(c.DeliveryAllow, p)
		}
	}
	if hclog.LevelFromString(c.LogLevel) == hclog.NoLevel {
		return c, fmt.Errorf("CRMHOST_LOG_LEVEL %q is not one of trace, debug, info, warn, error", c.LogLevel)
	}
	if c.JWT.Secret != "" && len(c.JWT.Secret) < 32 {
		return c, fmt.Errorf("CRMHOST_JWT_HS256_SECRET must be at least 32 characters")
	}
	if c.JWT.MaxLifetime, err = durationEnv("CRMHOST_JWT_MAX_LIFETIME", hosthttp.DefaultJWTMaxLifetime, time.Minute, 24*time.Hour); err != nil {
		return c, err
	}
	if c.JWT.ClockSkew, err = durationEnv("CRMHOST_JWT_CLOCK_SKEW", hosthttp.DefaultJWTLeeway, 0, 5*time.Minute); err != nil {
		return c, err
	}
	c.DriverEnv = splitList(os.Getenv("CRMHOST_DRIVER_ENV"))
	if err := sdk.ValidateDriverEnv(c.DriverEnv); err != nil {
		return c, fmt.Errorf("CRMHOST_DRIVER_ENV: %w", err)
	}
	if c.Tracing, err = loadTracingConfig(); err != nil {
		return c, err
	}
	if c.HTTP, err = loadHTTPConfig(c.HTTP); err != nil {
		return c, err
	}
	if c.Mirror, err = loadMirrorConfig(); err != nil {
		return c, err
	}
	rl, err := loadRateLimitConfig()
	if err != nil {
		return c, err
	}
	c.RateLimits = rl
	return c, nil
}

// loadHTTPConfig reads the HTTP server's timeouts, proxies and metrics
// settings into h.
func loadHTTPConfig(h httpConfig) (httpConfig, error) {
	t := &h.Timeouts
	var err error
	if t.Request, err = durationEnv("CRMHOST_REQUEST_TIMEOUT", 30*time.Second, time.Second, 10*time.Minute); err != nil {
		return h, err
	}
	if t.Read, err = durationEnv("CRMHOST_HTTP_READ_TIMEOUT", 30*time.Second, time.Second, 10*time.Minute); err != nil {
		return h, err
	}
	if t.Idle, err = durationEnv("CRMHOST_HTTP_IDLE_TIMEOUT", 120*time.Second, time.Second, time.Hour); err != nil {
		return h, err
	}
	if t.Write, err = durationEnv("CRMHOST_HTTP_WRITE_TIMEOUT", t.Request+10*time.Second, t.Request+time.Second, time.Hour); err != nil {
		return h, fmt.Errorf("%w (it must outlast CRMHOST_REQUEST_TIMEOUT, %s, so an answer can still be written)", err, t.Request)
	}
	h.TrustedProxies = splitList(os.Getenv("CRMHOST_TRUSTED_PROXIES"))
	for _, p := range h.TrustedProxies {
		if !hosthttp.ValidTrustedProxy(p) {
			return h, fmt.Errorf("CRMHOST_TRUSTED_PROXIES: %q is not an IP address or CIDR", p)
		}
	}
	if h.MetricsToken != "" && len(h.MetricsToken) < 16 {
		return h, fmt.Errorf("CRMHOST_METRICS_TOKEN must be at least 16 characters")
	}
	return h, nil
}

// durationEnv reads a Go duration from name, def when unset, refusing one
// outside [lo, hi].
func durationEnv(name string, def, lo, hi time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("%s must be a Go duration between %s and %s (such as %s), got %q", name, shortDuration(lo), shortDuration(hi), shortDuration(def), v)
	}
	return d, nil
}

// shortDuration prints d as a person writes it: 1m, 720h, 1h30m, 0.
func shortDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// requireJWT refuses to serve agent tools without everything a token is
// checked against: a key, an issuer and an audience.
func (c config) requireJWT() error {
	var missing []string
	if c.JWT.Secret == "" && c.JWT.PublicKeyFile == "" {
		missing = append(missing, "CRMHOST_JWT_HS256_SECRET or CRMHOST_JWT_RS256_PUBLIC_KEY_FILE")
	}
	if c.JWT.Issuer == "" {
		missing = append(missing, "CRMHOST_JWT_ISSUER")
	}
	if c.JWT.Audience == "" {
		missing = append(missing, "CRMHOST_JWT_AUDIENCE")
	}
	if len(missing) > 0 {
		return fmt.Errorf("agent JWTs need %s: serve refuses to start without them (see the README, \"Agent tokens\")", strings.Join(missing, ", "))
	}
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newLogger(level string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "crmhost", Level: hclog.LevelFromString(level), JSONFormat: true, Output: os.Stderr, TimeFormat: time.RFC3339Nano})
}

// Whether openStore applies the store's migrations or only checks them.
const (
	checkSchema   = false
	migrateSchema = true
)

// openStore opens PostgreSQL when DATABASE_URL is set, else SQLite in the
// data directory. With migrateSchema it applies pending migrations; with
// checkSchema it changes nothing and refuses a database that lacks some
// (only `crmhost migrate`, `crmhost dev` and `crmhost serve --migrate`
// change the schema, so the host can run as a role that may not).
func openStore(ctx context.Context, c config, migrate bool) (host.Store, string, error) {
	if c.DatabaseURL != "" {
		var opts []postgres.Option
		if !migrate {
			opts = append(opts, postgres.WithoutMigrate())
		}
		s, err := postgres.Open(ctx, c.DatabaseURL, opts...)
		if err != nil {
			return nil, "", schemaAdvice(err)
		}
		return s, "postgres", nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(c.DataDir, "crmhost.db")
	var opts []sqlite.Option
	if !migrate {
		opts = append(opts, sqlite.WithoutMigrate())
	}
	s, err := sqlite.Open(ctx, path, opts...)
	if err != nil {
		return nil, "", schemaAdvice(err)
	}
	return s, "sqlite " + path, nil
}

// schemaAdvice says how to fix a database behind this binary.
func schemaAdvice(err error) error {
	if errors.Is(err, host.ErrSchemaOutdated) {
		return fmt.Errorf("%w; run `crmhost migrate` first, with a database role that may change the schema (or start with `crmhost serve --migrate`)", err)
	}
	return err
}

// configuredStore opens the store the environment configures, checking
// its schema, for the commands that only need the store.
func configuredStore(ctx context.Context) (host.Store, error) {
	c, err := loadConfig()
	if err != nil {
		return nil, err
	}
	s, _, err := openStore(ctx, c, checkSchema)
	return s, err
}

// keyring builds the credential keyring: AWS KMS or the local key as
// primary, old local keys readable for rotation.
func keyring(ctx context.Context, c config) (*secrets.Keyring, error) {
	var primary secrets.KEK
	switch {
	case c.KMSKeyURI != "":
		k, err := secrets.NewAWSKMS(ctx, c.KMSKeyURI)
		if err != nil {
			return nil, err
		}
		primary = k
	case c.Key != "":
		k, err := secrets.NewLocalKEK(c.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", secrets.LocalKeyEnv, err)
		}
		primary = k
	default:
		return nil, fmt.Errorf("%s is not set: generate one with `crmhost secrets genkey` (or set CRMHOST_KMS_KEY_URI)", secrets.LocalKeyEnv)
	}
	var old []secrets.KEK
	for i, raw := range c.OldKeys {
		k, err := secrets.NewLocalKEK(raw)
		if err != nil {
			return nil, fmt.Errorf("CRM_CREDENTIAL_OLD_KEYS entry %d: %w", i+1, err)
		}
		old = append(old, k)
	}
	if c.KMSKeyURI != "" && c.Key != "" {
		k, err := secrets.NewLocalKEK(c.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", secrets.LocalKeyEnv, err)
		}
		old = append(old, k)
	}
	return secrets.NewKeyringWithOptions(primary, old, secrets.WithDEKCache(c.DEKCacheSize, secrets.DefaultDEKCacheTTL)), nil
}

func rsaPublicKey(path string) (*rsa.PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(raw); block != nil && block.Type == "PUBLIC KEY" {
		if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
			if rk, ok := k.(*rsa.PublicKey); ok {
				return rk, nil
			}
		}
	}
	k, err := jwt.ParseRSAPublicKeyFromPEM(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a PEM RSA public key: %w", path, err)
	}
	return k, nil
}

// parseVerbTimeouts reads "verb=duration,..." over drivers'
// DefaultVerbTimeouts.
func parseVerbTimeouts(v string) (map[string]time.Duration, error) {
	out := maps.Clone(drivers.DefaultVerbTimeouts)
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		verb, d, ok := strings.Cut(part, "=")
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if _, known := out[strings.TrimSpace(verb)]; !ok || err != nil || !known || dur <= 0 || dur > 10*time.Minute {
			return nil, fmt.Errorf("CRMHOST_VERB_TIMEOUTS: %q is not verb=duration with a known verb (%s) and a duration above 0 and at most 10m",
				part, strings.Join(slices.Sorted(maps.Keys(out)), ", "))
		}
		out[strings.TrimSpace(verb)] = dur
	}
	return out, nil
}
