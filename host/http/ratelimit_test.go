package http_test

import (
	"fmt"
	nethttp "net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/host/internal/redistest"
	"crmhost.dev/host/ratelimit"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

func withLimits(l hosthttp.RateLimits) func(*envOptions) {
	return func(o *envOptions) { o.limits = l }
}

func withThrottle(th *ratelimit.Throttle) func(*envOptions) {
	return func(o *envOptions) { o.throttle = th }
}

func withRegistry(reg *prometheus.Registry) func(*envOptions) {
	return func(o *envOptions) { o.reg = reg }
}

// manualClock only moves when the test moves it.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sfItem is one member of a RateLimit-Policy or RateLimit field: a quoted
// policy name and integer parameters.
type sfItem struct {
	name   string
	params map[string]int
}

var sfMember = regexp.MustCompile(`^"([^"\\]*)"((?:;[a-z]+=[0-9]+)+)$`)

// parseSF parses a Structured Field List of `"name";k=v;...` members,
// failing the test on anything else.
func parseSF(t *testing.T, field, v string) []sfItem {
	t.Helper()
	if v == "" {
		t.Fatalf("%s header is missing", field)
	}
	var out []sfItem
	for _, m := range strings.Split(v, ",") {
		g := sfMember.FindStringSubmatch(strings.TrimSpace(m))
		if g == nil {
			t.Fatalf("%s member %q is not a quoted policy name with integer parameters", field, m)
		}
		it := sfItem{name: g[1], params: map[string]int{}}
		for _, p := range strings.Split(strings.TrimPrefix(g[2], ";"), ";") {
			k, val, _ := strings.Cut(p, "=")
			n, _ := strconv.Atoi(val)
			it.params[k] = n
		}
		out = append(out, it)
	}
	return out
}

// wantRateLimit checks r's RateLimit-Policy and RateLimit headers are
// well formed and name one policy with quota q per w seconds, r remaining
// and window t.
func wantRateLimit(t *testing.T, r resp, policy string, q, w, remaining, window int) {
	t.Helper()
	wantRateLimitNear(t, r, policy, q, w, remaining, window, 0)
}

// wantRateLimitNear is wantRateLimit with the window t allowed to be off
// by tol seconds (Redis keeps its own clock, in floating point).
func wantRateLimitNear(t *testing.T, r resp, policy string, q, w, remaining, window, tol int) {
	t.Helper()
	pol := parseSF(t, "RateLimit-Policy", r.header.Get("RateLimit-Policy"))
	lim := parseSF(t, "RateLimit", r.header.Get("RateLimit"))
	if len(pol) != 1 || len(lim) != 1 {
		t.Fatalf("RateLimit-Policy %q, RateLimit %q: want one policy each", r.header.Get("RateLimit-Policy"), r.header.Get("RateLimit"))
	}
	gotT := lim[0].params["t"]
	if gotT >= window-tol && gotT <= window+tol {
		gotT = window
	}
	want := fmt.Sprintf("%q;q=%d;w=%d / %q;r=%d;t=%d", policy, q, w, policy, remaining, window)
	got := fmt.Sprintf("%q;q=%d;w=%d / %q;r=%d;t=%d", pol[0].name, pol[0].params["q"], pol[0].params["w"],
		lim[0].name, lim[0].params["r"], gotT)
	if got != want {
		t.Errorf("rate limit headers %s, want %s", got, want)
	}
}

// metric returns the value of the sample line name (with labels) on
// /metrics, or -1 when absent.
func (e *env) metric(name string) float64 {
	e.t.Helper()
	r := e.do(nethttp.MethodGet, "/metrics", metricsToken, nil)
	wantStatus(e.t, r, nethttp.StatusOK)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				e.t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

func (e *env) decrypts(tenant string) int {
	e.t.Helper()
	n := 0
	for _, row := range e.auditRows(tenant) {
		if row.Action == "credential.decrypt" {
			n++
		}
	}
	return n
}

const lookupCalls = `crmhost_driver_calls_total{code="ok",driver="mem",verb="lookup_customer"}`

// TestRateLimitHeaders: every limited response carries well-formed
// RateLimit-Policy and RateLimit headers; a refusal is a 429 problem
// naming the policy with Retry-After, answered before the body is read,
// the secret decrypted or the driver called; limits are per tenant and
// per tool.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	e := newEnv(t, withLimits(hosthttp.RateLimits{
		Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{Now: clk.Now}),
		APIKey:  ratelimit.Limit{Rate: 200, Period: time.Minute},
		Tool:    ratelimit.Limit{Rate: 3, Period: time.Minute},
	}))
	ten, token := e.connected("Acme", "acme")
	body := map[string]string{"email": "nobody@example.com"}
	for i := 0; i < 3; i++ {
		r := e.tool("crm_lookup_customer", token, body)
		wantStatus(t, r, nethttp.StatusOK)
		// GCRA: one unit per 20s; t is when the key is back to a full burst.
		wantRateLimit(t, r, hosthttp.PolicyTool, 3, 60, 2-i, 20*(i+1))
		if r.header.Get("Retry-After") != "" {
			t.Errorf("Retry-After %q on an admitted request", r.header.Get("Retry-After"))
		}
	}
	decrypts, calls := e.decrypts(ten), e.metric(lookupCalls)

	r := e.tool("crm_lookup_customer", token, body)
	p := wantProblem(t, r, nethttp.StatusTooManyRequests, "rate_limited", "")
	wantRateLimit(t, r, hosthttp.PolicyTool, 3, 60, 0, 20)
	if ra := r.header.Get("Retry-After"); ra != "20" || p.RetryAfter != 20 {
		t.Errorf("Retry-After header %q, problem retry_after %d; want 20 and 20", ra, p.RetryAfter)
	}
	if !strings.Contains(p.Detail, `"tool"`) || !strings.Contains(p.Detail, "3/min") {
		t.Errorf("problem detail %q does not name the policy and its limit", p.Detail)
	}
	if p.LimitedBy != hosthttp.LimitedByHost {
		t.Errorf("limited_by %q, want %q: the host's own limit refused", p.LimitedBy, hosthttp.LimitedByHost)
	}

	// Refused before the body is read: a broken or oversized body is
	// still a 429, not a 400 or 413.
	wantProblem(t, e.tool("crm_lookup_customer", token, "{not json"), nethttp.StatusTooManyRequests, "rate_limited", "")
	wantProblem(t, e.tool("crm_lookup_customer", token, strings.Repeat("x", 128<<10)), nethttp.StatusTooManyRequests, "rate_limited", "")
	if got := e.decrypts(ten); got != decrypts {
		t.Errorf("refused requests decrypted the secret: %d decrypt rows, want %d", got, decrypts)
	}
	if got := e.metric(lookupCalls); got != calls {
		t.Errorf("refused requests reached the driver: %v lookup calls, want %v", got, calls)
	}

	// Per tool: another tool of the same tenant has its own budget.
	r = e.tool("crm_search_records", token, map[string]any{"object": "customer", "query": "x"})
	wantStatus(t, r, nethttp.StatusOK)
	wantRateLimit(t, r, hosthttp.PolicyTool, 3, 60, 2, 20)
	// Per tenant: another tenant's lookups have theirs.
	_, other := e.connected("Globex", "globex")
	wantStatus(t, e.tool("crm_lookup_customer", other, body), nethttp.StatusOK)

	// One unit frees up 20s later.
	clk.Advance(20 * time.Second)
	r = e.tool("crm_lookup_customer", token, body)
	wantStatus(t, r, nethttp.StatusOK)
	wantRateLimit(t, r, hosthttp.PolicyTool, 3, 60, 0, 60)

	// Operator routes are not rate limited.
	if r := e.op(nethttp.MethodGet, "/tenants", nil); r.header.Get("RateLimit") != "" {
		t.Errorf("operator route carries RateLimit %q", r.header.Get("RateLimit"))
	}
}

// TestNoLimiterNoHeaders: a host without a limiter sends no RateLimit
// headers.
func TestNoLimiterNoHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	r := e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"})
	wantStatus(t, r, nethttp.StatusOK)
	if r.header.Get("RateLimit-Policy") != "" || r.header.Get("RateLimit") != "" {
		t.Errorf("RateLimit headers without a limiter: %v", r.header)
	}
}

// TestRateLimitRedisDies runs its own redis-server and kills it mid-test:
// requests keep passing, limited in-process at limit/replicas, the
// failure counter on /metrics goes up; when Redis is back (on the same
// port, empty), limits are shared through it again.
func TestRateLimitRedisDies(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, 0)
	client, err := ratelimit.NewRedisClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	prefix := "crmhost-test:"
	// A generous timeout: this test is about failing open, not latency.
	rl, err := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: prefix, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	var logs logWatch
	const replicas = 2
	f, err := ratelimit.NewFailOpen(rl, ratelimit.NewLocal(ratelimit.LocalOptions{}), replicas, ratelimit.FailOpenOptions{
		Registerer: reg, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn})})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withRegistry(reg), withLimits(hosthttp.RateLimits{Limiter: f,
		APIKey: ratelimit.Limit{Rate: 200, Period: time.Minute}, Tool: ratelimit.Limit{Rate: 10, Period: time.Minute}}))
	_, token := e.connected("Acme", "acme")
	_, probeToken := e.connected("Probe", "probe")
	body := map[string]string{"email": "nobody@example.com"}
	failures := func() float64 { t.Helper(); return e.metric(ratelimit.FailuresMetric) }

	// Redis up: shared limiting, state in Redis.
	for i := 0; i < 3; i++ {
		r := e.tool("crm_lookup_customer", token, body)
		wantStatus(t, r, nethttp.StatusOK)
		wantRateLimitNear(t, r, hosthttp.PolicyTool, 10, 60, 9-i, 6*(i+1), 3)
	}
	if got := failures(); got != 0 {
		t.Fatalf("%s = %v with Redis up, want 0", ratelimit.FailuresMetric, got)
	}
	if keys := redistest.Keys(t, srv.URL(), prefix+"*"); len(keys) == 0 {
		t.Fatal("no rate-limit keys in Redis while it was up")
	}

	// Redis dies: requests still pass, decided in-process at
	// ceil(10/2) = 5 per minute; each decision is a counted failure.
	srv.Kill()
	for i := 0; i < 5; i++ {
		r := e.tool("crm_lookup_customer", token, body)
		wantStatus(t, r, nethttp.StatusOK)
		// The headers still advertise the shared policy. (Windows run on
		// the wall clock here and below: a loaded machine takes seconds
		// for a handful of calls.)
		wantRateLimitNear(t, r, hosthttp.PolicyTool, 10, 60, 4-i, 12*(i+1), 3)
	}
	r := e.tool("crm_lookup_customer", token, body)
	wantProblem(t, r, nethttp.StatusTooManyRequests, "rate_limited", "")
	if got := failures(); got != 6 {
		t.Errorf("%s = %v after 6 requests with Redis down, want 6", ratelimit.FailuresMetric, got)
	}
	logs.waitFor(t, "redis rate limiter failed", 1, 5*time.Second)

	// Redis is back, empty: once the host's client reconnects, limits are
	// shared through Redis again, at the full limit.
	srv.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Probes spend the probe tenant's quota, not the one under test;
		// whether they pass does not matter.
		before := failures()
		e.tool("crm_lookup_customer", probeToken, body)
		if failures() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the host still fails open 20s after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	settled := failures()
	for i := 0; i < 10; i++ {
		r := e.tool("crm_lookup_customer", token, body)
		wantStatus(t, r, nethttp.StatusOK)
		wantRateLimitNear(t, r, hosthttp.PolicyTool, 10, 60, 9-i, 6*(i+1), 3)
	}
	wantProblem(t, e.tool("crm_lookup_customer", token, body), nethttp.StatusTooManyRequests, "rate_limited", "")
	if got := failures(); got != settled {
		t.Errorf("%s went from %v to %v with Redis back", ratelimit.FailuresMetric, settled, got)
	}
	if keys := redistest.Keys(t, srv.URL(), prefix+"*"); len(keys) == 0 {
		t.Error("no rate-limit keys in Redis after it came back")
	}
}

// TestDriverThrottle: the host holds a connection's calls to the limit
// the driver declares; the call past it is a 429 with Retry-After that
// never reaches the driver.
func TestDriverThrottle(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	th := ratelimit.NewThrottle(ratelimit.NewLocal(ratelimit.LocalOptions{Now: clk.Now}), ratelimit.ThrottleOptions{})
	e := newEnv(t, withThrottle(th))
	ten, token := e.connected("Acme", "acme") // the connection test spends one unit
	body := map[string]string{"email": "nobody@example.com"}
	limit := int(memdriver.DeclaredLimit.Limit)
	for i := 0; i < limit-1; i++ {
		r := e.tool("crm_lookup_customer", token, body)
		if r.status != nethttp.StatusOK {
			t.Fatalf("lookup %d of %d within the declared limit: %s", i+1, limit-1, r)
		}
	}
	decrypts, calls := e.decrypts(ten), e.metric(lookupCalls)

	r := e.tool("crm_lookup_customer", token, body)
	p := wantProblem(t, r, nethttp.StatusTooManyRequests, "rate_limited", "")
	// One unit per 100ms: Retry-After rounds up to a whole second.
	if ra := r.header.Get("Retry-After"); ra != "1" || p.RetryAfter != 1 {
		t.Errorf("Retry-After header %q, problem retry_after %d; want 1 and 1", ra, p.RetryAfter)
	}
	if !strings.Contains(p.Detail, memdriver.DeclaredLimit.Name) {
		t.Errorf("problem detail %q does not name the driver's limit %q", p.Detail, memdriver.DeclaredLimit.Name)
	}
	if p.LimitedBy != hosthttp.LimitedByProvider {
		t.Errorf("limited_by %q, want %q: the provider's declared limit is the reason", p.LimitedBy, hosthttp.LimitedByProvider)
	}
	if got := e.metric(lookupCalls); got != calls {
		t.Errorf("the throttled call reached the driver: %v lookup calls, want %v", got, calls)
	}
	if got := e.decrypts(ten); got != decrypts {
		t.Errorf("the throttled call decrypted the secret: %d decrypt rows, want %d", got, decrypts)
	}

	clk.Advance(time.Duration(memdriver.DeclaredLimit.WindowMS) * time.Millisecond / time.Duration(limit))
	wantStatus(t, e.tool("crm_lookup_customer", token, body), nethttp.StatusOK)
}

// TestProviderRateLimit: the provider's own 429 (the driver's
// rate_limited) is an HTTP 429 carrying the provider's retry-after, that
// says the CRM refused and does not report the host's quota (plenty
// left) as if it were the reason: no RateLimit headers on it.
func TestProviderRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(hosthttp.RateLimits{
		Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{}),
		APIKey:  ratelimit.Limit{Rate: 200, Period: time.Minute},
		Tool:    ratelimit.Limit{Rate: 50, Period: time.Minute},
	}))
	_, token := e.connected("Acme", "acme")
	r := e.tool("crm_lookup_customer", token, map[string]string{"email": memdriver.RateLimitEmail})
	p := wantProblem(t, r, nethttp.StatusTooManyRequests, "rate_limited", "")
	want := int(memdriver.RateLimitRetryAfter / time.Second)
	if ra := r.header.Get("Retry-After"); ra != strconv.Itoa(want) || p.RetryAfter != want {
		t.Errorf("Retry-After header %q, problem retry_after %d; want the provider's %d", ra, p.RetryAfter, want)
	}
	if p.LimitedBy != hosthttp.LimitedByProvider || !strings.Contains(p.Detail, "CRM") || !strings.Contains(p.Title, "CRM") {
		t.Errorf("limited_by %q, title %q, detail %q: want the CRM named as the one refusing", p.LimitedBy, p.Title, p.Detail)
	}
	for _, h := range []string{"RateLimit", "RateLimit-Policy"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("%s: %q on the CRM's 429: the host's quota is not the reason", h, v)
		}
	}
	// An admitted call on the same route still reports the host's quota.
	ok := e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"})
	wantStatus(t, ok, nethttp.StatusOK)
	if ok.header.Get("RateLimit") == "" {
		t.Error("an admitted call lost its RateLimit header")
	}
	if got := e.metric(`crmhost_driver_calls_total{code="rate_limited",driver="mem",verb="lookup_customer"}`); got != 1 {
		t.Errorf("rate_limited driver calls = %v, want 1 (the provider answered)", got)
	}
}

// TestAuthFailuresLimitedByHost: the failed-authentication limit is the
// host's own: its 429 says limited_by host and keeps its RateLimit
// headers.
func TestAuthFailuresLimitedByHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(hosthttp.RateLimits{Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{}),
		APIKey: ratelimit.Limit{Rate: 200, Period: time.Minute}, Tool: ratelimit.Limit{Rate: 50, Period: time.Minute},
		AuthFailures: ratelimit.Limit{Rate: 1, Period: time.Hour}}))
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}}
	wantProblem(t, e.do(nethttp.MethodPost, "/v1/crm/create-record", "crmk_000000000000_wrong", body), nethttp.StatusUnauthorized, "unauthenticated", "")
	r := e.do(nethttp.MethodPost, "/v1/crm/create-record", "crmk_000000000000_wrong", body)
	p := wantProblem(t, r, nethttp.StatusTooManyRequests, "rate_limited", "")
	if p.LimitedBy != hosthttp.LimitedByHost || r.header.Get("RateLimit") == "" {
		t.Errorf("failed-authentication 429: limited_by %q, RateLimit %q; want host, and the header", p.LimitedBy, r.header.Get("RateLimit"))
	}
}
