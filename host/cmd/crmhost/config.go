package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
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
//	CRMHOST_OPERATOR_TOKEN             bearer token for /api/operator (unset: operator routes refuse)
//	CRMHOST_JWT_HS256_SECRET           shared secret for agent JWTs
//	CRMHOST_JWT_RS256_PUBLIC_KEY_FILE  PEM public key for RS256 agent JWTs
//	CRMHOST_JWT_ISSUER, CRMHOST_JWT_AUDIENCE  checked when set
//	CRMHOST_PLUGIN_DIR                 where `driver register` looks for crm-driver-<slug> (bin/plugins)
//	CRMHOST_MAX_BODY_BYTES             request body limit (1048576)
//	CRMHOST_LOG_LEVEL                  trace|debug|info|warn|error (info)
//	CRMHOST_AUDIT_BUFFER               audit rows buffered for background batch writes, 0..1000000 (4096); 0 writes each in its request
//	CRMHOST_CONFIG_CACHE_TTL           how long a tenant's connection and mappings are cached, 0..1m (1s); other replicas' changes apply within it
//	CRMHOST_IDEMPOTENCY_TTL            how long an Idempotency-Key is remembered, a Go duration 1m..720h (24h)
//	REDIS_URL                          redis:// or rediss:// URL: share rate limits between replicas (unset: in-process)
//	CRMHOST_REDIS_PREFIX               prefix of the host's Redis keys (crmhost:)
//	CRMHOST_REDIS_TIMEOUT              bound on each rate-limit call to Redis, above 0 and at most 1s (5ms); past it, fail open
//	CRMHOST_RATE_LIMIT_API_KEY         requests per API key, N/s, N/min or N/h (200/min)
//	CRMHOST_RATE_LIMIT_TOOL            calls per (tenant, tool) (50/min)
//	CRMHOST_REPLICAS                   host replicas sharing the limits: while Redis is down each limits at limit/replicas (1)
//	CRMHOST_VERB_TIMEOUTS              per-verb driver call deadlines, e.g. lookup_customer=3s,list_recent=30s (defaults: lookup 4s, search 8s, writes 15s, lists 20s)
//	CRMHOST_REFRESH_MARGIN             refresh a credential this long before it expires (2m)
//	CRMHOST_PUBLIC_URL                 the host's public base URL, as providers call its webhook routes (default: from each request)
//	CRMHOST_DRIVER_EGRESS_ALLOW        comma-separated CIDR prefixes drivers may reach although their egress guard refuses
//	                                   non-public addresses (unset: none; `crmhost dev` allows loopback, where the fakes listen)
type config struct {
	Addr          string
	DataDir       string
	DatabaseURL   string
	Key           string
	OldKeys       []string
	KMSKeyURI     string
	OperatorToken string
	JWTSecret     string
	JWTPublicKey  string
	JWTIssuer     string
	JWTAudience   string
	PluginDir     string
	MaxBodyBytes  int64
	LogLevel      string
	// RateLimits are the request limits and the limiter behind them.
	RateLimits rateLimitConfig
	// IdempotencyTTL is how long a request's idempotency key lives.
	IdempotencyTTL time.Duration
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
	// EgressAllow are the address prefixes every driver call may reach
	// although the drivers' egress guard refuses non-public addresses.
	EgressAllow []netip.Prefix
}

func loadConfig() (config, error) {
	c := config{
		Addr:          env("CRMHOST_ADDR", "127.0.0.1:8080"),
		DataDir:       env("CRMHOST_DATA_DIR", ".crmhost"),
		DatabaseURL:   os.Getenv("DATABASE_URL"),
		Key:           os.Getenv(secrets.LocalKeyEnv),
		KMSKeyURI:     os.Getenv("CRMHOST_KMS_KEY_URI"),
		OperatorToken: os.Getenv("CRMHOST_OPERATOR_TOKEN"),
		JWTSecret:     os.Getenv("CRMHOST_JWT_HS256_SECRET"),
		JWTPublicKey:  os.Getenv("CRMHOST_JWT_RS256_PUBLIC_KEY_FILE"),
		JWTIssuer:     os.Getenv("CRMHOST_JWT_ISSUER"),
		JWTAudience:   os.Getenv("CRMHOST_JWT_AUDIENCE"),
		PluginDir:     env("CRMHOST_PLUGIN_DIR", "bin/plugins"),
		LogLevel:      env("CRMHOST_LOG_LEVEL", "info"),
		MaxBodyBytes:  1 << 20,
	}
	if v := os.Getenv("CRM_CREDENTIAL_OLD_KEYS"); v != "" {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.OldKeys = append(c.OldKeys, k)
			}
		}
	}
	if v := os.Getenv("CRMHOST_MAX_BODY_BYTES"); v != "" {
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1024 || n > 64<<20 {
			return c, fmt.Errorf("CRMHOST_MAX_BODY_BYTES must be a byte count between 1024 and 67108864, got %q", v)
		}
		c.MaxBodyBytes = n
	}
	c.IdempotencyTTL = 24 * time.Hour
	if v := os.Getenv("CRMHOST_IDEMPOTENCY_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 720*time.Hour {
			return c, fmt.Errorf("CRMHOST_IDEMPOTENCY_TTL must be a Go duration between 1m and 720h (such as 24h), got %q", v)
		}
		c.IdempotencyTTL = d
	}
	c.AuditBuffer = 4096
	if v := os.Getenv("CRMHOST_AUDIT_BUFFER"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 0 || n > 1_000_000 {
			return c, fmt.Errorf("CRMHOST_AUDIT_BUFFER must be a row count between 0 (write each row in the request) and 1000000, got %q", v)
		}
		c.AuditBuffer = n
	}
	c.ConfigCacheTTL = time.Second
	if v := os.Getenv("CRMHOST_CONFIG_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			return c, fmt.Errorf("CRMHOST_CONFIG_CACHE_TTL must be a Go duration between 0 (off) and 1m (such as 1s), got %q", v)
		}
		c.ConfigCacheTTL = d
	}
	var err error
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
	if v := os.Getenv("CRMHOST_DRIVER_EGRESS_ALLOW"); v != "" {
		for _, raw := range strings.Split(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(raw))
			if err != nil {
				return c, fmt.Errorf("CRMHOST_DRIVER_EGRESS_ALLOW must be comma-separated CIDR prefixes (such as 127.0.0.0/8,::1/128), got %q", raw)
			}
			c.EgressAllow = append(c.EgressAllow, p)
		}
	}
	if hclog.LevelFromString(c.LogLevel) == hclog.NoLevel {
		return c, fmt.Errorf("CRMHOST_LOG_LEVEL %q is not one of trace, debug, info, warn, error", c.LogLevel)
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		return c, fmt.Errorf("CRMHOST_JWT_HS256_SECRET must be at least 32 characters")
	}
	if c.OperatorToken != "" && len(c.OperatorToken) < 16 {
		return c, fmt.Errorf("CRMHOST_OPERATOR_TOKEN must be at least 16 characters")
	}
	rl, err := loadRateLimitConfig()
	if err != nil {
		return c, err
	}
	c.RateLimits = rl
	return c, nil
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

// openStore opens PostgreSQL when DATABASE_URL is set, else SQLite in the
// data directory; both apply their migrations on open.
func openStore(ctx context.Context, c config) (host.Store, string, error) {
	if c.DatabaseURL != "" {
		s, err := postgres.Open(ctx, c.DatabaseURL)
		return s, "postgres", err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(c.DataDir, "crmhost.db")
	s, err := sqlite.Open(ctx, path)
	return s, "sqlite " + path, err
}

// configuredStore opens the store the environment configures, for the
// commands that only need the store.
func configuredStore(ctx context.Context) (host.Store, error) {
	c, err := loadConfig()
	if err != nil {
		return nil, err
	}
	s, _, err := openStore(ctx, c)
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
	return secrets.NewKeyring(primary, old...), nil
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
