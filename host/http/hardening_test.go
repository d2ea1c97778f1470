package http_test

import (
	"context"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
	hosthttp "crmhost.dev/host/http"
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/host/internal/redistest"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/ratelimit"
	"github.com/golang-jwt/jwt/v5"
)

// TestNamedOperatorsAudited: each operator signs in with a token of its
// own; every mutation it makes is audited under its name, and a revoked
// operator is refused at once.
func TestNamedOperatorsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ops := operators.New(e.store, nil)
	alice, _, err := ops.Issue(t.Context(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	as := func(method, path string, body any) resp {
		t.Helper()
		return e.do(method, "/api/operator"+path, alice, body)
	}
	r := as(nethttp.MethodPost, "/tenants", map[string]string{"name": "Acme"})
	wantStatus(t, r, nethttp.StatusCreated)
	tenant := r.object(t)["id"].(string)
	wantStatus(t, as(nethttp.MethodPut, "/tenants/"+tenant+"/connection", map[string]any{"provider": "mem",
		"credentials": map[string]string{"account": "acme", "api_key": memdriver.GoodKey}}), 200)
	wantStatus(t, as(nethttp.MethodPost, "/tenants/"+tenant+"/connection/test", nil), 200)
	wantStatus(t, as(nethttp.MethodPut, "/tenants/"+tenant+"/mappings/read/customer.nickname", map[string]string{"target": "notes"}), 200)
	wantStatus(t, as(nethttp.MethodDelete, "/tenants/"+tenant+"/mappings/read/customer.nickname", nil), 204)
	r = as(nethttp.MethodPost, "/tenants/"+tenant+"/api-keys", map[string]any{"scopes": []string{"crm:read"}})
	wantStatus(t, r, nethttp.StatusCreated)
	wantStatus(t, as(nethttp.MethodDelete, "/tenants/"+tenant+"/api-keys/"+r.object(t)["id"].(string), nil), 204)
	wantStatus(t, as(nethttp.MethodPost, "/drivers", map[string]string{"file": filepath.Base(memBinary)}), 201)
	if _, err := e.store.RegisterDriver(t.Context(), host.DriverEntry{Slug: "spare", Command: filepath.Base(memBinary), SHA256: memSHA}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, as(nethttp.MethodDelete, "/drivers/spare", nil), 204)
	wantStatus(t, as(nethttp.MethodDelete, "/tenants/"+tenant, nil), 204)

	var got []string
	for _, row := range e.auditRows("") {
		if row.ActorType == host.ActorOperator {
			if row.ActorID != "alice@example.com" {
				t.Errorf("audit row %s by %q, want alice@example.com", row.Action, row.ActorID)
			}
			got = append(got, row.Action)
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	want := []string{"api_key.create", "api_key.revoke", "connection.account", "connection.connect", "connection.mirror", "connection.test", "credential.decrypt", "driver.register", "driver.remove",
		"mapping.delete", "mapping.set", "tenant.create", "tenant.delete"}
	if !slices.Equal(got, want) {
		t.Errorf("audited operator actions %q, want %q", got, want)
	}
	r = as(nethttp.MethodGet, "/audit?action=driver.remove", nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"actor_id":"alice@example.com"`) || !strings.Contains(string(r.body), `"detail":"spare"`) {
		t.Errorf("host-wide audit = %s", r.body)
	}

	if err := ops.Revoke(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	p := wantProblem(t, as(nethttp.MethodGet, "/tenants", nil), nethttp.StatusUnauthorized, "unauthenticated", "")
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("revoked operator: detail %q", p.Detail)
	}
	wantStatus(t, e.op(nethttp.MethodGet, "/tenants", nil), 200) // the other operator is unaffected
	for _, bad := range []string{"operator-token-for-tests", "crmo_testoperator_wrong", operatorToken + "x"} {
		wantProblem(t, e.do(nethttp.MethodGet, "/api/operator/tenants", bad, nil), nethttp.StatusUnauthorized, "unauthenticated", "")
	}
}

// TestAgentTokenClaims: a token must carry the host's issuer and
// audience, sub, iat and exp, and live no longer than the host allows; the
// clock skew is tolerated.
func TestAgentTokenClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	rw := hosthttp.ScopeRead + " " + hosthttp.ScopeWrite
	now := time.Now()
	with := func(f func(c *hosthttp.AgentClaims)) string {
		c := claims(tenant, rw)
		f(c)
		return sign(t, jwt.SigningMethodHS256, hsSecret, c)
	}
	for _, tc := range []struct {
		name   string
		token  string
		detail string // "" for a token that passes
	}{
		{"valid", with(func(*hosthttp.AgentClaims) {}), ""},
		{"no iss", with(func(c *hosthttp.AgentClaims) { c.Issuer = "" }), "iss"},
		{"other iss", with(func(c *hosthttp.AgentClaims) { c.Issuer = "someone-else" }), "iss"},
		{"no aud", with(func(c *hosthttp.AgentClaims) { c.Audience = nil }), "aud"},
		{"other aud", with(func(c *hosthttp.AgentClaims) { c.Audience = jwt.ClaimStrings{"another-service"} }), "aud"},
		{"aud among others", with(func(c *hosthttp.AgentClaims) { c.Audience = jwt.ClaimStrings{"another-service", jwtAudience} }), ""},
		{"no iat", with(func(c *hosthttp.AgentClaims) { c.IssuedAt = nil }), "iat"},
		{"iat in the future", with(func(c *hosthttp.AgentClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(5 * time.Minute)) }), "iat"},
		{"iat within the clock skew", with(func(c *hosthttp.AgentClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(10 * time.Second)) }), ""},
		{"no sub", with(func(c *hosthttp.AgentClaims) { c.Subject = "" }), "sub"},
		{"no exp", with(func(c *hosthttp.AgentClaims) { c.ExpiresAt = nil }), "exp"},
		{"lives two hours", with(func(c *hosthttp.AgentClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(2 * time.Hour)) }), "at most 1h0m0s"},
		{"issued long ago, valid a year", with(func(c *hosthttp.AgentClaims) {
			c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(now.Add(-24*time.Hour)), jwt.NewNumericDate(now.Add(365*24*time.Hour))
		}), "at most"},
		{"lives exactly the maximum", with(func(c *hosthttp.AgentClaims) {
			c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(time.Hour))
		}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.tool("crm_lookup_customer", tc.token, map[string]string{"email": "nobody@example.com"})
			if tc.detail == "" {
				wantStatus(t, r, 200)
				return
			}
			p := wantProblem(t, r, nethttp.StatusUnauthorized, "unauthenticated", "")
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", p.Detail, tc.detail)
			}
		})
	}

	// A host without an issuer or audience accepts no token at all.
	for _, cfg := range []func(*hosthttp.Config){
		func(c *hosthttp.Config) { c.JWT.Issuer = "" },
		func(c *hosthttp.Config) { c.JWT.Audience = "" },
	} {
		bare := newEnv(t, func(o *envOptions) { o.config = cfg })
		ten, _ := bare.connected("Acme", "acme")
		p := wantProblem(t, bare.tool("crm_lookup_customer", agentToken(t, ten), map[string]string{"email": "a@example.com"}),
			nethttp.StatusUnauthorized, "unauthenticated", "")
		if !strings.Contains(p.Detail, "not configured") {
			t.Errorf("host without issuer/audience: detail %q", p.Detail)
		}
	}
}

// TestWWWAuthenticateOnEvery401: every 401, on the tool, operator, public
// and metrics routes, carries the Bearer challenge (RFC 9110 section
// 11.6.1), with error="invalid_token" when a credential was presented.
func TestWWWAuthenticateOnEvery401(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lookup := map[string]string{"email": "a@example.com"}
	for _, tc := range []struct {
		method, path, token string
		body                any
	}{
		{"POST", "/api/tools/crm_lookup_customer", "", lookup},
		{"POST", "/api/tools/crm_lookup_customer", "not.a.jwt", lookup},
		{"POST", "/api/tools/crm_create_record", operatorToken, lookup},
		{"GET", "/api/operator/tenants", "", nil},
		{"GET", "/api/operator/tenants", "crmo_nosuchprefix_secret", nil},
		{"DELETE", "/api/operator/drivers/mem", agentToken(t, "ten_x"), nil},
		{"GET", "/api/operator/health", "wrong", nil},
		{"POST", "/v1/crm/create-record", "", map[string]any{"object": "customer", "fields": map[string]any{"first_name": "A"}}},
		{"POST", "/v1/leads", "crmk_aaaaaaaaaaaa_wrong", map[string]any{"fields": map[string]any{"first_name": "A"}}},
		{"GET", "/v1/leads/lead_x", operatorToken, nil},
		{"GET", "/metrics", "", nil},
		{"GET", "/metrics", "wrong", nil},
	} {
		t.Run(tc.method+" "+tc.path+" "+strconv.FormatBool(tc.token != ""), func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.token, tc.body)
			wantProblem(t, r, nethttp.StatusUnauthorized, "unauthenticated", "")
			ch := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="crmhost"`) {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", ch)
			}
			if presented := strings.Contains(ch, `error="invalid_token"`); presented != (tc.token != "") {
				t.Errorf("WWW-Authenticate %q: error=invalid_token %v, want %v", ch, presented, tc.token != "")
			}
		})
	}
}

// clientFrom returns an HTTP client whose connections leave from the
// loopback address ip (127.0.0.0/8 is all loopback on Linux), so the host
// sees a distinct client address.
func clientFrom(t testing.TB, ip string) *nethttp.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &nethttp.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &nethttp.Client{Transport: tr, Timeout: 30 * time.Second}
}

// sendFrom sends a request with a bearer token through client.
func (e *env) sendFrom(client *nethttp.Client, method, path, token, body string) (int, nethttp.Header, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := nethttp.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header, nil
}

// TestFailedAuthenticationsThrottled is the abuse test: 1,000 wrong API
// keys from one address are refused with 401 up to the configured count,
// then with 429 (Retry-After) before any key is looked at, for that
// address only, on every authenticated route; meanwhile a valid key from
// another address keeps working. With the in-process limiter and, when
// CRMHOST_TEST_REDIS_URL is set, with Redis.
func TestFailedAuthenticationsThrottled(t *testing.T) {
	t.Parallel()
	limiters := map[string]func(t *testing.T) ratelimit.Limiter{
		"local": func(*testing.T) ratelimit.Limiter { return ratelimit.NewLocal(ratelimit.LocalOptions{}) },
		"redis": func(t *testing.T) ratelimit.Limiter {
			url := redistest.URL(t)
			client, err := ratelimit.NewRedisClient(url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = client.Close() })
			r, err := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: redistest.Prefix(t, url), Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
	}
	for name, newLimiter := range limiters {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const allowed = 10
			e := newEnv(t, withLimits(hosthttp.RateLimits{Limiter: newLimiter(t),
				APIKey:       ratelimit.Limit{Rate: 100_000, Period: time.Minute},
				Tool:         ratelimit.Limit{Rate: 100_000, Period: time.Minute},
				AuthFailures: ratelimit.Limit{Rate: allowed, Period: time.Hour}})) // no refill during the test
			tenant, _ := e.connected("Acme", "acme")
			e.mapLeads(tenant)
			key, _ := e.issueKey(tenant, "crm:write", "crm:read", "leads:write")
			attacker, other := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
			body := `{"object":"customer","fields":{"first_name":"Ada"}}`

			var unauthorized, throttled, goodOK int
			for i := range 1000 {
				wrong := fmt.Sprintf("crmk_%012d_wrongsecret%d", i, i)
				status, hdr, err := e.sendFrom(attacker, "POST", "/v1/crm/create-record", wrong, body)
				if err != nil {
					t.Fatal(err)
				}
				switch status {
				case nethttp.StatusUnauthorized:
					unauthorized++
				case nethttp.StatusTooManyRequests:
					throttled++
					if ra, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || ra < 1 {
						t.Fatalf("attempt %d: 429 with Retry-After %q", i, hdr.Get("Retry-After"))
					}
				default:
					t.Fatalf("attempt %d with a wrong key: status %d", i, status)
				}
				if i%50 == 0 {
					status, _, err := e.sendFrom(other, "POST", "/v1/crm/create-record", key, body)
					if err != nil || status != nethttp.StatusOK {
						t.Fatalf("the valid key from another address during the attack: %d, %v", status, err)
					}
					goodOK++
				}
			}
			if unauthorized != allowed || throttled != 1000-allowed {
				t.Errorf("1,000 wrong keys: %d answered 401 and %d 429, want %d and %d", unauthorized, throttled, allowed, 1000-allowed)
			}
			if goodOK != 20 {
				t.Errorf("%d of 20 valid requests from the other address passed", goodOK)
			}
			// The throttled address is refused everywhere, whatever it
			// presents: no credential is checked for it.
			for _, c := range []struct{ method, path, token, body string }{
				{"POST", "/v1/crm/create-record", key, body},
				{"GET", "/api/operator/tenants", operatorToken, ""},
				{"POST", "/api/tools/crm_lookup_customer", agentToken(t, tenant), `{"email":"a@example.com"}`},
			} {
				if status, _, err := e.sendFrom(attacker, c.method, c.path, c.token, c.body); err != nil || status != nethttp.StatusTooManyRequests {
					t.Errorf("%s %s from the throttled address: %d, %v; want 429", c.method, c.path, status, err)
				}
				if status, _, err := e.sendFrom(other, c.method, c.path, c.token, c.body); err != nil || status >= 400 {
					t.Errorf("%s %s from the other address: %d, %v; want success", c.method, c.path, status, err)
				}
			}
		})
	}
}

// TestRequestTimeout: a caller's Request-Timeout shortens the request's
// deadline: a lookup the CRM would hold for 10 s answers 504 timeout once
// it passes, and the driver's call is cancelled. The host's own deadline
// does the same for callers that ask for none, and so does the driver
// call's per-verb deadline (a lookup's is 4 s).
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	sleep := map[string]string{"email": memdriver.SleepEmail}
	start := time.Now()
	r := e.tool("crm_lookup_customer", token, sleep, "Request-Timeout", "0.5")
	took := time.Since(start)
	p := wantProblem(t, r, nethttp.StatusGatewayTimeout, "timeout", "")
	if !strings.Contains(p.Detail, "deadline") || took >= memdriver.SleepFor {
		t.Errorf("after %s: %s", took, r.body)
	}
	wantProblem(t, e.tool("crm_lookup_customer", token, sleep, "Request-Timeout", "soon"), nethttp.StatusBadRequest, "invalid", "Request-Timeout")
	wantProblem(t, e.tool("crm_lookup_customer", token, sleep, "Request-Timeout", "-1"), nethttp.StatusBadRequest, "invalid", "Request-Timeout")
	// A longer deadline than the host's is the host's; a generous one does
	// not get in the way of a quick call.
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "a@example.com"}, "Request-Timeout", "3600"), 200)

	short := newEnv(t, func(o *envOptions) {
		o.config = func(c *hosthttp.Config) { c.Timeouts.Request = 3 * time.Second } // shorter than the lookup's own deadline (4s)
	})
	_, tok := short.connected("Acme", "acme")
	start = time.Now()
	r = short.tool("crm_lookup_customer", tok, sleep)
	if took := time.Since(start); took >= memdriver.SleepFor {
		t.Errorf("the host's own deadline did not end the call (%s)", took)
	}
	wantProblem(t, r, nethttp.StatusGatewayTimeout, "timeout", "")
	// The driver process survives a call cut short and serves the next.
	wantStatus(t, short.tool("crm_lookup_customer", tok, map[string]string{"email": "a@example.com"}), 200)

	// The per-verb deadline, shorter than the request's.
	start = time.Now()
	p = wantProblem(t, e.tool("crm_lookup_customer", token, sleep), nethttp.StatusGatewayTimeout, "timeout", "")
	if took := time.Since(start); took >= memdriver.SleepFor || !strings.Contains(p.Detail, "CRM call") {
		t.Errorf("after %s: %q", took, p.Detail)
	}
}

// TestReadinessWithoutDrivers: a driver that cannot start costs its own
// calls, never the host's readiness; the operator's health route shows
// which driver fails and why, and lists registered drivers nobody has
// called as idle.
func TestReadinessWithoutDrivers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.store.RegisterDriver(t.Context(), host.DriverEntry{Slug: "broken", Command: filepath.Base(memBinary), SHA256: strings.Repeat("0", 64)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.RegisterDriver(t.Context(), host.DriverEntry{Slug: "unused", Command: filepath.Base(memBinary), SHA256: memSHA}); err != nil {
		t.Fatal(err)
	}
	_, token := e.connected("Acme", "acme")
	wantProblem(t, e.op(nethttp.MethodGet, "/drivers/broken", nil), nethttp.StatusServiceUnavailable, "driver_unavailable", "")
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "a@example.com"}), 200)

	r := e.do(nethttp.MethodGet, "/readyz", "", nil)
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), "broken") || strings.Contains(string(r.body), "driver") {
		t.Errorf("readyz tells about drivers: %s", r.body)
	}
	var health struct {
		Store   string `json:"store"`
		Drivers map[string]struct {
			State     string `json:"state"`
			PID       int    `json:"pid"`
			LastError string `json:"last_error"`
		} `json:"drivers"`
	}
	r = e.op(nethttp.MethodGet, "/health", nil)
	wantStatus(t, r, 200)
	r.decode(t, &health)
	if health.Store != "ok" || health.Drivers["mem"].State != "running" || health.Drivers["mem"].PID == 0 ||
		health.Drivers["broken"].State != "restarting" || !strings.Contains(health.Drivers["broken"].LastError, "sha256") ||
		health.Drivers["unused"].State != "idle" || len(health.Drivers) != 3 {
		t.Errorf("operator health = %s", r.body)
	}
}

// TestTenantFacingDetailsRedacted: what a driver says reaches the caller
// without URLs, addresses, paths, hashes or stack traces; the host's log
// keeps the whole message for operators.
func TestTenantFacingDetailsRedacted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	r := e.tool("crm_lookup_customer", token, map[string]string{"email": memdriver.LeakEmail})
	p := wantProblem(t, r, nethttp.StatusBadGateway, "unavailable", "")
	for _, leak := range []string{"api.example-crm.test", "k3y", "10.1.2.3", "192.168.0.7", "fe80::1", "db.internal.example",
		"/etc/crmhost", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "goroutine", "lookup.go", "0xc000123456"} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("the answer carries %q: %s", leak, p.Detail)
		}
	}
	if strings.Contains(p.Detail, "://") {
		t.Errorf("the detail carries a URL: %s", p.Detail)
	}
	if !strings.Contains(p.Detail, "connection refused") || !strings.Contains(p.Detail, "[redacted]") {
		t.Errorf("detail %q: want the words kept and the rest redacted", p.Detail)
	}
	e.logs.waitFor(t, "10.1.2.3:443", 1, 5*time.Second)
}

// TestOneCreateBudgetPerTenant: the agent's crm_create_record and the
// public /v1/crm/create-record spend one per-(tenant, tool) budget.
func TestOneCreateBudgetPerTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(hosthttp.RateLimits{Limiter: ratelimit.NewLocal(ratelimit.LocalOptions{}),
		APIKey: ratelimit.Limit{Rate: 1000, Period: time.Minute}, Tool: ratelimit.Limit{Rate: 4, Period: time.Hour}}))
	tenant, token := e.connected("Acme", "acme")
	key, _ := e.issueKey(tenant, "crm:write")
	var n atomic.Int32
	create := func(public bool) resp {
		body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": fmt.Sprintf("P%d", n.Add(1))}}
		if public {
			return e.do(nethttp.MethodPost, "/v1/crm/create-record", key, body)
		}
		return e.tool("crm_create_record", token, body)
	}
	for i, public := range []bool{false, true, false, true} {
		wantStatus(t, create(public), 200)
		_ = i
	}
	for _, public := range []bool{false, true} {
		p := wantProblem(t, create(public), nethttp.StatusTooManyRequests, "rate_limited", "")
		if !strings.Contains(p.Detail, `"tool"`) {
			t.Errorf("detail %q does not name the tool policy", p.Detail)
		}
	}
	// Another tool keeps its own budget.
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "a@example.com"}), 200)
	_ = context.Background
}
