package http_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/internal/pgtest"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/outbound"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/ratelimit"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// operatorToken is the named operator "test-operator"'s token, stored (as
// a hash) by newEnv: prefix "testoperator", then the secret.
const (
	metricsToken   = "metrics-token-for-the-http-tests"
	operatorName   = "test-operator"
	operatorSecret = "secret-for-the-http-tests"
	operatorToken  = "crmo_testoperator_" + operatorSecret
	jwtIssuer      = "http-tests"
	jwtAudience    = "crmhost"
)

var (
	memBinary string
	memSHA    string
	hsSecret  = []byte("hs256-shared-secret-for-the-http-tests")
	rsaKey    *rsa.PrivateKey
)

// logWatch collects the host's log (including the drivers' stderr) so a
// test can wait for a line and dump the log when it fails.
type logWatch struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logWatch) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until the log holds substr at least n times.
func (l *logWatch) waitFor(t testing.TB, substr string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(l.String(), substr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log line %q did not appear %d times within %v", substr, n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type envOptions struct {
	audit   host.AuditStore
	maxBody int64
	// idemTTL and now set the broker's idempotency TTL and clock.
	idemTTL time.Duration
	now     func() time.Time
	// outboundNow is the outbound service's clock (the calling windows).
	outboundNow func() time.Time
	// reg, when set, is the host's metrics registry; limits and throttle
	// are the request limits and the driver throttle (none by default).
	reg      *prometheus.Registry
	limits   hosthttp.RateLimits
	throttle *ratelimit.Throttle
	// jobs configures the background job runner that writes submitted
	// leads (defaults: fast polling, quick retries).
	jobs func(*jobs.Options)
	// config adjusts the HTTP server's configuration last.
	config func(*hosthttp.Config)
	// mirror adjusts the mirror's options (its clock, retention, notifier).
	mirror func(*mirror.Options)
	// postgres runs the host on a fresh PostgreSQL database instead of
	// SQLite (benchmarks).
	postgres bool
}

// env is a whole host in-process: SQLite store, keyring, driver manager
// launching the real mem driver binary, broker and HTTP server.
type env struct {
	t       testing.TB
	store   host.Store
	keyring *secrets.Keyring
	mgr     *drivers.Manager
	broker  *broker.Broker
	mirror  *mirror.Service
	out     *outbound.Service
	jobs    *jobs.Runner
	srv     *httptest.Server
	logs    *logWatch

	closeStore sync.Once
}

func newEnv(t testing.TB, opts ...func(*envOptions)) *env {
	t.Helper()
	o := envOptions{maxBody: 64 << 10}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	var st host.Store
	var err error
	if o.postgres {
		st, err = postgres.Open(ctx, pgtest.Database(t))
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "crmhost.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	kek, err := secrets.NewLocalKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, keyring: secrets.NewKeyring(kek), logs: &logWatch{}}
	log := hclog.New(&hclog.LoggerOptions{Name: "crmhost", Output: e.logs, Level: hclog.Info})
	if _, err := st.RegisterDriver(ctx, host.DriverEntry{Slug: "mem", Version: "0.1.0", Command: memBinary,
		SHA256: memSHA, ProtocolVersions: []int{1}}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(operatorSecret))
	if _, err := st.CreateOperator(ctx, host.Operator{Name: operatorName, Prefix: "testoperator", Hash: sum[:]}); err != nil {
		t.Fatal(err)
	}
	reg := o.reg
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	e.mgr = drivers.NewManager(st, drivers.Options{Logger: log, Registerer: reg, Backoff: 20 * time.Millisecond, CallTimeout: 20 * time.Second,
		PluginDir: filepath.Dir(memBinary)})
	if e.out, err = outbound.New(outbound.Options{Store: st, Keyring: e.keyring, Logger: log.Named("outbound"), Now: o.outboundNow,
		AllowDeliveryTo: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}); err != nil {
		t.Fatal(err)
	}
	jo := jobs.Options{Store: st, Logger: log.Named("jobs"), PollInterval: 20 * time.Millisecond, Outbound: e.out, Migrate: true,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
		Writer:  jobs.LeadWriterFunc(func(ctx context.Context, l host.Lead) (string, string, error) { return e.broker.WriteLead(ctx, l) })}
	e.broker = broker.New(broker.Options{Store: st, Keyring: e.keyring, Drivers: e.mgr, Audit: o.audit, Logger: log,
		IdempotencyTTL: o.idemTTL, Now: o.now, Throttle: o.throttle})
	mo := mirror.Options{Store: st, Broker: e.broker, Logger: log.Named("mirror")}
	if o.mirror != nil {
		o.mirror(&mo)
	}
	e.mirror = mirror.New(mo)
	jo.Mirror = e.mirror
	jo.Coalesce = 50 * time.Millisecond
	if o.jobs != nil {
		o.jobs(&jo)
	}
	if e.jobs, err = jobs.New(ctx, jo); err != nil {
		t.Fatal(err)
	}
	e.broker.SetLeads(e.jobs)
	e.broker.SetEvents(e.jobs)
	e.mirror.SetQueue(e.jobs)
	e.out.CRM, e.out.Queue = e.broker, e.jobs
	if err := e.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := hosthttp.Config{Store: st, Broker: e.broker, Outbound: e.out, Drivers: e.mgr, Logger: log,
		MaxBodyBytes: o.maxBody, Registry: reg, RateLimits: o.limits, MetricsToken: metricsToken, Mirror: e.mirror,
		JWT: hosthttp.JWTConfig{HS256Secret: hsSecret, RS256Key: &rsaKey.PublicKey, Issuer: jwtIssuer, Audience: jwtAudience}}
	if o.config != nil {
		o.config(&cfg)
	}
	s := hosthttp.New(cfg)
	e.srv = httptest.NewServer(s)
	t.Cleanup(func() {
		e.srv.Close()
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.jobs.Stop(stop); err != nil {
			t.Errorf("stop jobs: %v", err)
		}
		e.mgr.Close()
		e.closeStore.Do(func() { st.Close() })
		if t.Failed() {
			t.Logf("host log:\n%s", e.logs.String())
		}
	})
	return e
}

// resp is a buffered HTTP response.
type resp struct {
	status int
	header nethttp.Header
	body   []byte
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// decode unmarshals the body into v.
func (r resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %s is not the JSON expected: %v", r, err)
	}
}

// object decodes the body as a JSON object.
func (r resp) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// do sends a request. body is nil (none), a string or []byte (raw, sent
// as application/json), or a value to encode. hdr is name, value pairs.
func (e *env) do(method, path, token string, body any, hdr ...string) resp {
	e.t.Helper()
	r, err := e.send(method, path, token, body, hdr...)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// send is do for any goroutine: it reports errors instead of failing.
func (e *env) send(method, path, token string, body any, hdr ...string) (resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return resp{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := nethttp.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		return resp{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	return resp{status: res.StatusCode, header: res.Header, body: raw}, nil
}

// op calls an operator route.
func (e *env) op(method, path string, body any) resp {
	e.t.Helper()
	return e.do(method, "/api/operator"+path, operatorToken, body)
}

// tool calls an agent tool route.
func (e *env) tool(name, token string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.do(nethttp.MethodPost, "/api/tools/"+name, token, body, hdr...)
}

// wantStatus fails unless r has status.
func wantStatus(t testing.TB, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

// wantProblem checks r is a problem+json answer with status and code,
// naming field when field is not empty, carrying the request id it was
// answered under.
func wantProblem(t testing.TB, r resp, status int, code, field string) hosthttp.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p hosthttp.Problem
	r.decode(t, &p)
	if p.Code != code || p.Status != status {
		t.Errorf("problem code %q status %d, want %q %d: %s", p.Code, p.Status, code, status, r.body)
	}
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-ID") {
		t.Errorf("problem request_id %q, X-Request-ID header %q: want equal and set", p.RequestID, r.header.Get("X-Request-ID"))
	}
	if field != "" && p.Field != field {
		t.Errorf("problem field %q, want %q: %s", p.Field, field, r.body)
	}
	if p.Type == "" || p.Title == "" {
		t.Errorf("problem lacks type or title: %s", r.body)
	}
	return p
}

// claims returns agent claims for tenant valid for ten minutes.
func claims(tenant, scope string) *hosthttp.AgentClaims {
	now := time.Now()
	return &hosthttp.AgentClaims{TenantID: tenant, ConversationID: "conv-1", Scope: scope,
		RegisteredClaims: jwt.RegisteredClaims{Subject: "agent-1", IssuedAt: jwt.NewNumericDate(now),
			Issuer: jwtIssuer, Audience: jwt.ClaimStrings{jwtAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute))}}
}

// sign signs c with method and key.
func sign(t testing.TB, method jwt.SigningMethod, key any, c jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// agentToken is an HS256 token for tenant with read and write scopes.
func agentToken(t testing.TB, tenant string) string {
	return sign(t, jwt.SigningMethodHS256, hsSecret, claims(tenant, hosthttp.ScopeRead+" "+hosthttp.ScopeWrite))
}

// createTenant creates a tenant through the operator route.
func (e *env) createTenant(name string) string {
	e.t.Helper()
	r := e.op(nethttp.MethodPost, "/tenants", map[string]string{"name": name})
	wantStatus(e.t, r, nethttp.StatusCreated)
	var tj struct{ ID string }
	r.decode(e.t, &tj)
	return tj.ID
}

// connect connects tenant to the mem driver with creds.
func (e *env) connect(tenant string, creds map[string]string) resp {
	e.t.Helper()
	return e.op(nethttp.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "mem", "credentials": creds})
}

// connected creates a tenant connected to account with the good key and
// returns its id and an agent token.
func (e *env) connected(name, account string) (string, string) {
	e.t.Helper()
	id := e.createTenant(name)
	r := e.connect(id, map[string]string{"account": account, "api_key": "good-key"})
	wantStatus(e.t, r, nethttp.StatusOK)
	var out struct {
		Connection struct{ Status string }
	}
	r.decode(e.t, &out)
	if out.Connection.Status != "active" {
		e.t.Fatalf("connection status %q, want active: %s", out.Connection.Status, r.body)
	}
	return id, agentToken(e.t, id)
}

// auditRows returns every audit row of tenant, newest first.
func (e *env) auditRows(tenant string) []host.AuditEntry {
	e.t.Helper()
	rows, err := e.store.ListAudit(context.Background(), host.AuditFilter{TenantID: tenant, Limit: host.MaxListLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// plantSecret replaces tenant's stored secret directly in the store.
func (e *env) plantSecret(tenant string, secret map[string]string) host.Credential {
	e.t.Helper()
	ctx := context.Background()
	old, err := e.store.GetCredential(ctx, tenant)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := secrets.SealJSON(ctx, e.keyring, secret, broker.CredentialAAD(tenant, old.Version+1))
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.store.PutCredential(ctx, host.Credential{TenantID: tenant, Ciphertext: s.Ciphertext,
		WrappedDEK: s.WrappedDEK, KEKID: s.KEKID}, old.Version)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// openSecret decrypts tenant's stored secret.
func (e *env) openSecret(tenant string) (host.Credential, map[string]string) {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.store.GetCredential(ctx, tenant)
	if err != nil {
		e.t.Fatal(err)
	}
	var out map[string]string
	if err := secrets.OpenJSON(ctx, e.keyring, secrets.Sealed{Ciphertext: c.Ciphertext, WrappedDEK: c.WrappedDEK, KEKID: c.KEKID}, broker.CredentialAAD(tenant, c.Version), &out); err != nil {
		e.t.Fatal(err)
	}
	return c, out
}

// records lists every record of a canonical object the tenant's token sees.
func (e *env) records(token, object string) []map[string]any {
	e.t.Helper()
	r := e.tool("crm_list_recent", token, map[string]any{"object": object, "limit": 1000})
	wantStatus(e.t, r, nethttp.StatusOK)
	var out struct {
		Records []map[string]any `json:"records"`
	}
	r.decode(e.t, &out)
	return out.Records
}
