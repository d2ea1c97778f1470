package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/dev"
	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/mirror"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/outbound"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	"crmhost.dev/plugins/hubspot/fake"
	"crmhost.dev/sdk"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-hclog"
)

// harness is one host, started in-process for real, serving HTTP on
// loopback, with the real HubSpot driver binary and a HubSpot fake.
type harness struct {
	URL      string
	fake     *fake.Server
	store    *sqlite.Store
	manager  *drivers.Manager
	client   *http.Client
	operator string
	secret   []byte
	mirror   *mirror.Service
	broker   *broker.Broker
	keyring  *secrets.Keyring
	// jobs runs the background work (unless harnessOptions.outbound asks
	// for none); out is the outbound machinery, when asked for.
	jobs *jobs.Runner
	out  *outbound.Service

	mu   sync.Mutex
	pids map[int]bool // every driver process seen, checked gone at the end
}

type harnessOptions struct {
	// sha256 is the checksum registered for the driver (default: the
	// binary's real one).
	sha256 string
	// lenient starts the fake without spec validation and logs nothing:
	// for benchmarks, which measure the host rather than the fake.
	lenient bool
	// rateLimits are the host's request limits (default: none).
	rateLimits hosthttp.RateLimits
	// oauthTTL bounds connect flows (default: the broker's).
	oauthTTL time.Duration
	// outbound, when set, runs the outbound machinery (inbound events,
	// trigger rules, gates, call requests).
	outbound *outboundOptions
	// dbPath is the SQLite file (default: a fresh one): a second host on
	// the first one's file takes over its stored work.
	dbPath string
	// fake is a HubSpot fake to share with another host (default: a new
	// one).
	fake *fake.Server
	// publicURL is the host's public base URL (webhook signatures cover it).
	publicURL string
	// pluginDir is the driver folder (default: the HubSpot binary's).
	pluginDir string
	// traceEnv are the span exporter settings drivers get (default: none,
	// drivers record no spans).
	traceEnv []string
	// dekCache bounds the keyring's DEK cache (default: the keyring's,
	// as crmhost serve's CRMHOST_DEK_CACHE_SIZE).
	dekCache int
}

// Job modes of outboundOptions.
const (
	jobsRun  = iota // a runner, started: events are processed
	jobsIdle        // a runner never started: jobs are enqueued, never worked
	jobsNone        // no runner: events are stored only
)

// outboundOptions configure a harness's outbound machinery.
type outboundOptions struct {
	now  func() time.Time
	jobs int
}

// e2eKey is the local KEK every harness of a test binary shares, so a
// second host on a first one's file opens its credentials.
var e2eKey = func() string {
	k, err := secrets.GenerateLocalKey()
	if err != nil {
		panic(err)
	}
	return k
}()

// newHarness starts a host; everything stops with tb.Cleanup, which also
// fails the test if a driver process outlives the host.
func newHarness(tb testing.TB, o harnessOptions) *harness {
	tb.Helper()
	ctx := context.Background()
	h := &harness{secret: []byte("e2e-agent-jwt-secret-0123456789abcdef"), pids: map[int]bool{}}
	logger := hclog.NewNullLogger()
	if !o.lenient {
		logger = testLogger(tb)
	}

	f := o.fake
	if f == nil {
		var err error
		if f, err = fake.Start(fake.Options{Strict: !o.lenient}); err != nil {
			tb.Fatalf("start hubspot fake: %v", err)
		}
		tb.Cleanup(f.Close)
	}
	h.fake = f
	dbPath := o.dbPath
	if dbPath == "" {
		dbPath = filepath.Join(tb.TempDir(), "crmhost.db")
	}
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() {
		if err := store.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	h.store = store

	sum := o.sha256
	if sum == "" {
		if sum, err = sdk.FileSHA256(hubspotBinary); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := store.RegisterDriver(ctx, host.DriverEntry{Slug: "hubspot", Version: "e2e", Command: hubspotBinary,
		SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}); err != nil && host.CodeOf(err) != host.CodeConflict {
		tb.Fatalf("register driver: %v", err)
	}

	kek, err := secrets.NewLocalKEK(e2eKey)
	if err != nil {
		tb.Fatal(err)
	}

	if h.operator, _, err = operators.New(store, nil).Issue(ctx, "e2e-operator-"+strings.ToLower(rand.Text()[:8])); err != nil {
		tb.Fatalf("create operator: %v", err)
	}
	// The fake listens on loopback: the host lets drivers reach it, as
	// `crmhost dev` does.
	pluginDir := o.pluginDir
	if pluginDir == "" {
		pluginDir = filepath.Dir(hubspotBinary)
	}
	h.manager = drivers.NewManager(store, drivers.Options{Logger: logger.Named("drivers"), PluginDir: pluginDir,
		Backoff: 50 * time.Millisecond, WatchInterval: 20 * time.Millisecond, TraceEnv: o.traceEnv,
		EgressAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	tb.Cleanup(func() { h.closeManager(tb) })
	// The config cache TTL and audit buffer are crmhost serve's defaults.
	kr := secrets.NewKeyring(kek)
	if o.dekCache > 0 {
		kr = secrets.NewKeyringWithOptions(kek, nil, secrets.WithDEKCache(o.dekCache, secrets.DefaultDEKCacheTTL))
	}
	b := broker.New(broker.Options{Store: store, Keyring: kr, Drivers: h.manager, Logger: logger.Named("broker"),
		ConfigCacheTTL: time.Second, AuditBuffer: 4096, OAuthTTL: o.oauthTTL})
	tb.Cleanup(func() { _ = b.Close(context.Background()) }) // before the store closes
	h.broker, h.keyring = b, kr
	h.mirror = mirror.New(mirror.Options{Store: store, Broker: b, Logger: logger.Named("mirror")})
	mode := jobsRun
	if oo := o.outbound; oo != nil {
		mode = oo.jobs
		loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		if h.out, err = outbound.New(outbound.Options{Store: store, Keyring: kr, CRM: b, Now: oo.now, AllowDeliveryTo: loop, RescueAfter: -1,
			Logger: logger.Named("outbound")}); err != nil {
			tb.Fatal(err)
		}
	}
	if mode != jobsNone {
		jo := jobs.Options{Store: store, Mirror: h.mirror, Migrate: true, Logger: logger.Named("jobs"),
			PollInterval: 50 * time.Millisecond, RescueInterval: 200 * time.Millisecond, Backoff: func(int) time.Duration { return 100 * time.Millisecond },
			Writer: jobs.LeadWriterFunc(b.WriteLead)}
		if h.out != nil {
			jo.Outbound = h.out
		}
		if h.jobs, err = jobs.New(ctx, jo); err != nil {
			tb.Fatalf("job runner: %v", err)
		}
		b.SetLeads(h.jobs)
		b.SetEvents(h.jobs)
		h.mirror.SetQueue(h.jobs)
		if h.out != nil {
			h.out.Queue = h.jobs
		}
	}
	if mode == jobsRun {
		if err := h.jobs.Start(ctx); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = h.jobs.Stop(stop)
		})
	}
	api := hosthttp.New(hosthttp.Config{Store: store, Broker: b, Outbound: h.out, Mirror: h.mirror, Drivers: h.manager, Logger: logger.Named("http"),
		JWT: hosthttp.JWTConfig{HS256Secret: h.secret, Issuer: jwtIssuer, Audience: jwtAudience}, RateLimits: o.rateLimits, PublicURL: o.publicURL})
	srv := httptest.NewServer(api)
	tb.Cleanup(srv.Close)
	h.URL = srv.URL
	h.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	tb.Cleanup(h.client.CloseIdleConnections)
	return h
}

// pid returns the running driver's pid (0 when none) and remembers it.
func (h *harness) pid() int {
	pid := h.manager.PID("hubspot")
	if pid != 0 {
		h.mu.Lock()
		h.pids[pid] = true
		h.mu.Unlock()
	}
	return pid
}

// closeManager shuts the supervisor down and fails when any driver
// process it ran is still alive.
func (h *harness) closeManager(tb testing.TB) {
	tb.Helper()
	h.pid()
	h.manager.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for pid := range h.pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				tb.Errorf("driver process %d survived the host", pid)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func alive(pid int) bool {
	return pid > 0 && !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// testLogger logs into the test's log until the test's cleanup ends
// (driver stderr may still arrive after the test body).
func testLogger(tb testing.TB) hclog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.stop) // registered first, so it runs last
	return hclog.New(&hclog.LoggerOptions{Name: "crmhost", Level: hclog.Info, Output: w})
}

type tbWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// request is one HTTP request to the host.
type request struct {
	method, path string
	// token is the bearer token (none when empty).
	token string
	// body is sent as JSON; a []byte is sent as is.
	body      any
	requestID string
	// header holds further request headers (e.g. Idempotency-Key).
	header http.Header
}

// response is the host's answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return http.StatusText(r.Status) + ": " + string(r.Body)
}

func (h *harness) send(tb testing.TB, r request) response {
	tb.Helper()
	resp, err := h.sendContext(context.Background(), r)
	if err != nil {
		tb.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	return resp
}

func (h *harness) sendContext(ctx context.Context, r request) (response, error) {
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, h.URL+r.path, body)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.requestID != "" {
		req.Header.Set("X-Request-ID", r.requestID)
	}
	for name, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(name, v)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// op calls an operator route.
func (h *harness) op(tb testing.TB, method, path string, body any) response {
	tb.Helper()
	return h.send(tb, request{method: method, path: "/api/operator" + path, token: h.operator, body: body})
}

// tool calls an agent tool route.
func (h *harness) tool(tb testing.TB, token, name string, body any) response {
	tb.Helper()
	return h.send(tb, request{method: http.MethodPost, path: "/api/tools/" + name, token: token, body: body})
}

// decode checks r has status and decodes its JSON body.
func decode[T any](tb testing.TB, r response, status int) T {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

// problem is an RFC 9457 problem as the host writes it.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	Field     string `json:"field"`
	RequestID string `json:"request_id"`
}

// wantProblem checks r is a problem+json with status and code carrying
// the request id, and returns it.
func wantProblem(tb testing.TB, r response, status int, code string) problem {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/problem+json" {
		tb.Errorf("Content-Type %q, want application/problem+json", r.Header.Get("Content-Type"))
	}
	p := decode[problem](tb, r, status)
	if p.Status != status || p.Code != code {
		tb.Errorf("problem status %d code %q, want %d %q: %s", p.Status, p.Code, status, code, r.Body)
	}
	if p.RequestID == "" || p.RequestID != r.Header.Get("X-Request-ID") {
		tb.Errorf("problem request_id %q, X-Request-ID %q: want both set and equal", p.RequestID, r.Header.Get("X-Request-ID"))
	}
	return p
}

// Wire shapes of the host's answers, declared here rather than borrowed
// from the host so a change of the wire format fails these tests.
type (
	connection struct {
		TenantID     string            `json:"tenant_id"`
		Provider     string            `json:"provider"`
		Status       string            `json:"status"`
		StatusReason string            `json:"status_reason"`
		Config       map[string]string `json:"config"`
		AccountID    string            `json:"account_id,omitempty"`
	}
	connectResult struct {
		Connection connection `json:"connection"`
		Test       struct {
			OK     bool   `json:"ok"`
			Reason string `json:"reason"`
		} `json:"test"`
	}
	record struct {
		Object     string         `json:"object"`
		ExternalID string         `json:"external_id"`
		RecordURL  string         `json:"record_url"`
		Fields     map[string]any `json:"fields"`
		Native     map[string]any `json:"native"`
		UpdatedAt  *time.Time     `json:"updated_at"`
	}
	lookupResult struct {
		Customer   *record `json:"customer"`
		MatchCount int     `json:"match_count"`
	}
	createResult struct {
		ExternalID string `json:"external_id"`
		RecordURL  string `json:"record_url"`
	}
	mapping struct {
		Kind   string `json:"kind"`
		Key    string `json:"key"`
		Target string `json:"target"`
	}
	mappings struct {
		Overrides []mapping `json:"overrides"`
		Effective []mapping `json:"effective"`
	}
	auditEntry struct {
		ActorType      string `json:"actor_type"`
		Action         string `json:"action"`
		RequestID      string `json:"request_id"`
		ConversationID string `json:"conversation_id"`
		Outcome        string `json:"outcome"`
	}
)

// credentials are the connect form's values for a tenant of the fake.
func (h *harness) credentials() map[string]string {
	return dev.Credentials(h.fake.Connection())
}

// createTenant creates a tenant and returns its id.
func (h *harness) createTenant(tb testing.TB, name string) string {
	tb.Helper()
	t := decode[struct {
		ID string `json:"id"`
	}](tb, h.op(tb, http.MethodPost, "/tenants", map[string]string{"name": name}), http.StatusCreated)
	if t.ID == "" {
		tb.Fatal("created tenant has no id")
	}
	return t.ID
}

// connect connects a tenant to the fake with creds.
func (h *harness) connect(tb testing.TB, tenantID string, creds map[string]string) response {
	tb.Helper()
	return h.op(tb, http.MethodPut, "/tenants/"+tenantID+"/connection", map[string]any{"provider": "hubspot", "credentials": creds})
}

// connectedTenant creates a tenant connected to the fake.
func (h *harness) connectedTenant(tb testing.TB, name string) string {
	tb.Helper()
	id := h.createTenant(tb, name)
	res := decode[connectResult](tb, h.connect(tb, id, h.credentials()), http.StatusOK)
	if res.Connection.Status != "active" || !res.Test.OK {
		tb.Fatalf("connect: %+v, want active", res)
	}
	return id
}

// agentToken mints the agent's HS256 token for a tenant, valid an hour.
func (h *harness) agentToken(tb testing.TB, tenantID, conversationID string) string {
	tb.Helper()
	return sign(tb, jwt.SigningMethodHS256, h.secret, agentClaims(tenantID, conversationID, time.Hour))
}

// The issuer and audience the harness's host requires of agent tokens.
const (
	jwtIssuer   = "e2e-platform"
	jwtAudience = "crmhost"
)

func agentClaims(tenantID, conversationID string, ttl time.Duration) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":             jwtIssuer,
		"aud":             jwtAudience,
		"iat":             now.Unix(),
		"sub":             "agent-e2e",
		"tenant_id":       tenantID,
		"conversation_id": conversationID,
		"scope":           hosthttp.ScopeRead + " " + hosthttp.ScopeWrite,
		"exp":             now.Add(ttl).Unix(),
	}
}

func sign(tb testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// startMirror wires the system of record as crmhost serve does (with quick
// retries): the mirror and the job runner that writes its rows, stopped
// when the test ends (before the store closes).
func startMirror(tb testing.TB, store host.Store, b *broker.Broker, logger hclog.Logger) *mirror.Service {
	tb.Helper()
	ctx := context.Background()
	m := mirror.New(mirror.Options{Store: store, Broker: b, Logger: logger.Named("mirror")})
	runner, err := jobs.New(ctx, jobs.Options{Store: store, Logger: logger.Named("jobs"), Mirror: m, Migrate: true, Writer: jobs.LeadWriterFunc(b.WriteLead),
		PollInterval: 50 * time.Millisecond, Backoff: func(int) time.Duration { return 100 * time.Millisecond }})
	if err != nil {
		tb.Fatalf("job runner: %v", err)
	}
	b.SetLeads(runner)
	m.SetQueue(runner)
	if err := runner.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = runner.Stop(stop)
	})
	return m
}
