package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/memdriver"
)

// clock is a settable clock for the broker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// create calls POST /v1/crm/create-record with key as the API key.
func (e *env) create(key string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.do(nethttp.MethodPost, "/v1/crm/create-record", key, body, hdr...)
}

// wantReplay checks r repeats first byte for byte, marked replayed.
func wantReplay(t *testing.T, first, r resp) {
	t.Helper()
	if r.status != first.status || string(r.body) != string(first.body) {
		t.Errorf("replay %s, first %s", r, first)
	}
	if r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay lacks Idempotent-Replayed: true (headers %v)", r.header)
	}
	if r.header.Get("Content-Type") != first.header.Get("Content-Type") {
		t.Errorf("replay Content-Type %q, first %q", r.header.Get("Content-Type"), first.header.Get("Content-Type"))
	}
}

// driverCreates reads how many create_record calls reached the driver.
func (e *env) driverCreates() string {
	e.t.Helper()
	r := e.do(nethttp.MethodGet, "/metrics", metricsToken, nil)
	for _, line := range strings.Split(string(r.body), "\n") {
		if strings.HasPrefix(line, `crmhost_driver_calls_total{code="ok",driver="mem",verb="create_record"}`) {
			return strings.Fields(line)[1]
		}
	}
	return "0"
}

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "crm:write")
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada", "email": "ada@example.com"}, "idempotency_key": "order-1"}

	first := e.create(key, body)
	wantStatus(t, first, nethttp.StatusOK)
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the first answer is marked replayed")
	}
	wantReplay(t, first, e.create(key, body))
	// The same request spelled differently (key order, spacing, the key
	// in the header instead of the body, quoted as the IETF draft has it)
	// is the same request.
	respelled := `{ "idempotency_key":"order-1", "fields": {"email": "ada@example.com", "first_name": "Ada"}, "object": "customer" }`
	wantReplay(t, first, e.create(key, respelled))
	wantReplay(t, first, e.create(key, `{"object": "customer", "fields": {"first_name": "Ada", "email": "ada@example.com"}}`, "Idempotency-Key", "order-1"))
	wantReplay(t, first, e.create(key, `{"object": "customer", "fields": {"first_name": "Ada", "email": "ada@example.com"}}`, "Idempotency-Key", `"order-1"`))
	// The agent's tool shares the path, and the tenant's key space.
	wantReplay(t, first, e.tool("crm_create_record", agent, body))
	if n := len(e.records(agent, "customer")); n != 1 {
		t.Errorf("%d records after repeats, want 1", n)
	}
	if n := e.driverCreates(); n != "1" {
		t.Errorf("%s driver creates, want 1", n)
	}

	// 422: the same key with another request; nothing is written.
	other := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Grace"}, "idempotency_key": "order-1"}
	p := wantProblem(t, e.create(key, other), nethttp.StatusUnprocessableEntity, "idempotency_key_reused", "idempotency_key")
	if !strings.Contains(p.Detail, "order-1") {
		t.Errorf("422 detail %q", p.Detail)
	}
	wantProblem(t, e.tool("crm_create_record", agent, other), nethttp.StatusUnprocessableEntity, "idempotency_key_reused", "idempotency_key")
	if n := len(e.records(agent, "customer")); n != 1 {
		t.Errorf("%d records after a reused key, want 1", n)
	}

	// Keys are per tenant: another tenant's same key is its own.
	tenantB, agentB := e.connected("Globex", "globex")
	keyB, _ := e.apiKey(tenantB, "crm:write")
	rb := e.create(keyB, other)
	wantStatus(t, rb, nethttp.StatusOK)
	if rb.header.Get("Idempotent-Replayed") != "" || string(rb.body) == string(first.body) {
		t.Errorf("tenant B got tenant A's answer: %s", rb)
	}
	if n := len(e.records(agentB, "customer")); n != 1 {
		t.Errorf("tenant B: %d records, want 1", n)
	}

	rec, err := e.store.GetIdempotency(context.Background(), tenant, "order-1")
	if err != nil || rec.State != host.IdempotencyDone || rec.StatusCode != 200 || string(rec.Response) != string(first.body) {
		t.Errorf("stored record %+v, %v", rec, err)
	}
	if d := rec.ExpiresAt.Sub(rec.CreatedAt); d != 24*time.Hour {
		t.Errorf("key lives %v, want 24h by default", d)
	}
}

// TestIdempotencyKeyInput: the key's own rules, on both routes.
func TestIdempotencyKeyInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "crm:write")
	long := strings.Repeat("k", 256)
	create := func(k string) string {
		raw, _ := json.Marshal(k)
		return fmt.Sprintf(`{"object": "customer", "fields": {"first_name": "Ada"}, "idempotency_key": %s}`, raw)
	}
	for _, tc := range []struct {
		name   string
		body   string
		hdr    []string
		detail string
	}{
		{"body key too long", create(long), nil, "255"},
		{"header key too long", create(""), []string{"Idempotency-Key", long}, "255"},
		{"quoted header key too long", create(""), []string{"Idempotency-Key", `"` + long + `"`}, "255"},
		{"header and body differ", create("a"), []string{"Idempotency-Key", "b"}, "differ"},
		{"badly quoted header", create(""), []string{"Idempotency-Key", `"abc`}, "quoted"},
		{"empty quoted header", create(""), []string{"Idempotency-Key", `""`}, "empty"},
		{"control character", create("a\u0001b"), nil, "printable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []resp{e.create(key, tc.body, tc.hdr...), e.tool("crm_create_record", agent, tc.body, tc.hdr...)} {
				p := wantProblem(t, r, nethttp.StatusBadRequest, "invalid", "idempotency_key")
				if !strings.Contains(p.Detail, tc.detail) {
					t.Errorf("detail %q does not mention %q", p.Detail, tc.detail)
				}
			}
		})
	}
	if n := len(e.records(agent, "customer")); n != 0 {
		t.Errorf("bad keys created %d records", n)
	}
	// 255 is allowed; the same key in the header and the body is fine.
	max := strings.Repeat("k", 255)
	wantStatus(t, e.create(key, create(max)), nethttp.StatusOK)
	wantReplay(t, e.create(key, create(max)), e.create(key, create(max), "Idempotency-Key", max))
}

// TestIdempotencyInFlight: a repeat while the first request runs is a
// 409; once it is done the repeat replays it.
func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "crm:write")
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Slow", "email": memdriver.SleepEmail}, "idempotency_key": "slow-1"}

	done := make(chan resp, 1)
	go func() {
		r, err := e.send(nethttp.MethodPost, "/v1/crm/create-record", key, body)
		if err != nil {
			r = resp{status: -1, body: []byte(err.Error())}
		}
		done <- r
	}()
	e.logs.waitFor(t, memdriver.CreateSleepingMessage, 1, 10*time.Second)
	r := e.create(key, body)
	wantProblem(t, r, nethttp.StatusConflict, "idempotency_in_flight", "idempotency_key")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("409 without Retry-After")
	}
	wantProblem(t, e.tool("crm_create_record", agent, body), nethttp.StatusConflict, "idempotency_in_flight", "")
	// A different request with the running key is still a 422.
	other := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Other"}, "idempotency_key": "slow-1"}
	wantProblem(t, e.create(key, other), nethttp.StatusUnprocessableEntity, "idempotency_key_reused", "")

	var first resp
	select {
	case first = <-done:
	case <-time.After(memdriver.CreateSleepFor + 15*time.Second):
		t.Fatal("the slow create did not finish")
	}
	wantStatus(t, first, nethttp.StatusOK)
	wantReplay(t, first, e.create(key, body))
	if n := len(e.records(agent, "customer")); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}

// TestIdempotencyReleasedOnFailure: a first attempt that fails leaves
// nothing behind, so the same request retried runs for real.
func TestIdempotencyReleasedOnFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "crm:write")
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "retry-me"}

	e.plantSecret(tenant, map[string]string{"api_key": "rotated-away"})
	wantProblem(t, e.create(key, body), nethttp.StatusBadGateway, "auth_error", "")
	if _, err := e.store.GetIdempotency(context.Background(), tenant, "retry-me"); host.CodeOf(err) != host.CodeNotFound {
		t.Fatalf("a failed attempt kept its key: %v", err)
	}
	e.plantSecret(tenant, map[string]string{"api_key": memdriver.GoodKey})
	r := e.create(key, body)
	wantStatus(t, r, nethttp.StatusOK)
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Error("the retry after a failure was replayed")
	}
	wantReplay(t, r, e.create(key, body))
	if n := len(e.records(agent, "customer")); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}

// TestIdempotencyExpiry: after the TTL a key is free again, even for
// another request.
func TestIdempotencyExpiry(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now().UTC()}
	e := newEnv(t, func(o *envOptions) { o.idemTTL = time.Hour; o.now = clk.Now })
	tenant, agent := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "crm:write")
	ada := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "k-exp"}
	grace := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Grace"}, "idempotency_key": "k-exp"}

	first := e.create(key, ada)
	wantStatus(t, first, nethttp.StatusOK)
	clk.Add(59 * time.Minute)
	wantReplay(t, first, e.create(key, ada))
	wantProblem(t, e.create(key, grace), nethttp.StatusUnprocessableEntity, "idempotency_key_reused", "")

	// Expired, the key is free: the request runs again (a second driver
	// call). The driver still dedupes on the key at the provider, so it
	// answers with the record it made first.
	clk.Add(2 * time.Minute)
	r := e.create(key, grace)
	wantStatus(t, r, nethttp.StatusOK)
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("replayed after expiry: %s", r)
	}
	if n := e.driverCreates(); n != "2" {
		t.Errorf("%s driver creates, want 2: the expired key was not run again", n)
	}
	rec, err := e.store.GetIdempotency(context.Background(), tenant, "k-exp")
	if err != nil || !rec.ExpiresAt.Equal(clk.Now().Add(time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("renewed record %+v, %v", rec, err)
	}
	if n := len(e.records(agent, "customer")); n != 1 {
		t.Errorf("%d records, want 1 (the provider deduped)", n)
	}
	// The background prune removes what expired.
	clk.Add(2 * time.Hour)
	if n, err := e.store.PruneIdempotency(context.Background(), clk.Now(), 100); err != nil || n != 1 {
		t.Errorf("prune = %d, %v", n, err)
	}
}

// TestConcurrentDuplicates: 20 identical requests at once make one driver
// call; every answer is that call's answer or a 409.
func TestConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "crm:write")
	body := map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}, "idempotency_key": "burst-20"}
	results := make([]resp, 20)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := e.send(nethttp.MethodPost, "/v1/crm/create-record", key, body)
			if err != nil {
				r = resp{status: -1, body: []byte(err.Error())}
			}
			results[i] = r
		}()
	}
	close(start)
	wg.Wait()
	var ok []resp
	for _, r := range results {
		switch r.status {
		case nethttp.StatusOK:
			ok = append(ok, r)
		case nethttp.StatusConflict:
			wantProblem(t, r, nethttp.StatusConflict, "idempotency_in_flight", "")
		default:
			t.Errorf("concurrent duplicate: %s", r)
		}
	}
	if len(ok) == 0 {
		t.Fatal("no duplicate succeeded")
	}
	fresh := 0
	for _, r := range ok {
		if string(r.body) != string(ok[0].body) {
			t.Errorf("answers differ: %s vs %s", r.body, ok[0].body)
		}
		if r.header.Get("Idempotent-Replayed") == "" {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d answers not marked replayed, want exactly 1", fresh)
	}
	if n := e.driverCreates(); n != "1" {
		t.Errorf("%s driver creates, want 1", n)
	}
	if n := len(e.records(agent, "customer")); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}

// TestPublicBadBodies: oversized and non-JSON bodies on the public routes
// are refused before anything is written.
func TestPublicBadBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, agent := e.connected("Acme", "acme")
	key, _ := e.apiKey(tenant, "crm:write", "leads:write")
	auditBefore := len(e.auditRows(tenant))
	big := `{"object":"customer","fields":{"first_name":"` + strings.Repeat("x", 70<<10) + `"},"idempotency_key":"bad-big"}`
	for _, tc := range []struct {
		name, path, body string
		hdr              []string
		status           int
		code, field      string
	}{
		{"create too large", "/v1/crm/create-record", big, nil, 413, "too_large", "body"},
		{"create not json", "/v1/crm/create-record", `object=customer`, []string{"Idempotency-Key", "bad-form"}, 400, "invalid", "body"},
		{"create truncated", "/v1/crm/create-record", `{"object": "customer", "idempotency_key": "bad-trunc"`, nil, 400, "invalid", "body"},
		{"create wrong content type", "/v1/crm/create-record", `{"object": "customer", "fields": {"first_name": "A"}}`, []string{"Content-Type", "text/plain", "Idempotency-Key", "bad-ct"}, 415, "unsupported_media_type", "Content-Type"},
		{"create unknown field", "/v1/crm/create-record", `{"object": "customer", "fields": {}, "extra": 1, "idempotency_key": "bad-extra"}`, nil, 400, "invalid", "extra"},
		{"create unknown object", "/v1/crm/create-record", `{"object": "widget", "fields": {"x": 1}, "idempotency_key": "bad-object"}`, nil, 400, "invalid", "object"},
		{"lead too large", "/v1/leads", `{"fields":{"first_name":"` + strings.Repeat("x", 70<<10) + `"},"idempotency_key":"bad-big-lead"}`, nil, 413, "too_large", "body"},
		{"lead not json", "/v1/leads", `first_name=Ada`, []string{"Idempotency-Key", "bad-lead-form"}, 400, "invalid", "body"},
		{"lead empty", "/v1/leads", ``, []string{"Idempotency-Key", "bad-lead-empty"}, 400, "invalid", "body"},
		{"lead fields not an object", "/v1/leads", `{"fields": ["first_name"], "idempotency_key": "bad-lead-fields"}`, nil, 400, "invalid", "fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, e.do(nethttp.MethodPost, tc.path, key, tc.body, tc.hdr...), tc.status, tc.code, tc.field)
		})
	}
	if n := len(e.auditRows(tenant)); n != auditBefore {
		t.Errorf("bad bodies wrote %d audit rows", n-auditBefore)
	}
	for _, k := range []string{"bad-big", "bad-form", "bad-trunc", "bad-ct", "bad-extra", "bad-object", "bad-big-lead", "bad-lead-form", "bad-lead-empty", "bad-lead-fields"} {
		if _, err := e.store.GetIdempotency(context.Background(), tenant, k); host.CodeOf(err) != host.CodeNotFound {
			t.Errorf("idempotency key %s was stored (err %v)", k, err)
		}
	}
	if n := len(e.records(agent, "customer")); n != 0 {
		t.Errorf("bad bodies created %d records", n)
	}
	if leads, err := e.store.ListLeads(context.Background(), tenant, host.LeadFilter{}); err != nil || len(leads) != 0 {
		t.Errorf("bad bodies stored leads: %v, %v", leads, err)
	}
}
