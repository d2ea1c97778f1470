package http_test

import (
	nethttp "net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/memdriver"
	"github.com/google/go-cmp/cmp"
)

// waitRestart waits for the mem driver to run again under a new pid.
func (e *env) waitRestart(old int) int {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if pid := e.mgr.PID("mem"); pid != 0 && pid != old {
			return pid
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the mem driver (pid %d) was not restarted", old)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDriverKilledMidRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	pid := e.mgr.PID("mem")
	if pid == 0 {
		t.Fatal("the mem driver is not running after connect")
	}

	type result struct {
		r   resp
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		r, err := e.send(nethttp.MethodPost, "/api/tools/crm_lookup_customer", token,
			map[string]string{"email": memdriver.SleepEmail}, "X-Request-ID", "req-sleep-1")
		done <- result{r, err}
	}()
	// The driver logs when the call is inside it, with the request id the
	// host sent across the plugin boundary.
	e.logs.waitFor(t, memdriver.SleepingMessage, 1, 10*time.Second)
	if line := lineWith(e.logs.String(), memdriver.SleepingMessage); !strings.Contains(line, "req-sleep-1") {
		t.Errorf("the driver did not see the request id: %s", line)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(memdriver.SleepFor + 5*time.Second):
		t.Fatal("the call in flight did not return after the driver was killed")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if el := time.Since(start); el >= memdriver.SleepFor {
		t.Errorf("the call took %v: it waited for the sleep instead of failing on the kill", el)
	}
	p := wantProblem(t, res.r, nethttp.StatusServiceUnavailable, "driver_unavailable", "")
	if p.RequestID != "req-sleep-1" {
		t.Errorf("request_id %q", p.RequestID)
	}

	e.waitRestart(pid)
	r := e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"})
	wantStatus(t, r, 200)
	m := e.do(nethttp.MethodGet, "/metrics", metricsToken, nil)
	for _, want := range []string{
		`crmhost_driver_restarts_total{driver="mem"} 1`,
		`crmhost_driver_calls_total{code="driver_unavailable",driver="mem",verb="lookup_customer"} 1`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func lineWith(log, substr string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

func TestDriverExit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	pid := e.mgr.PID("mem")
	wantProblem(t, e.tool("crm_lookup_customer", token, map[string]string{"email": memdriver.ExitEmail}), nethttp.StatusServiceUnavailable, "driver_unavailable", "")
	e.waitRestart(pid)
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"}), 200)
}

func TestDriverPanic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	pid := e.mgr.PID("mem")
	r := e.tool("crm_lookup_customer", token, map[string]string{"email": memdriver.PanicEmail})
	p := wantProblem(t, r, nethttp.StatusInternalServerError, "internal", "")
	if strings.Contains(p.Detail, "panic") || strings.Contains(string(r.body), "goroutine") {
		t.Errorf("internal details leaked: %s", r.body)
	}
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"}), 200)
	if got := e.mgr.PID("mem"); got != pid {
		t.Errorf("driver pid changed from %d to %d: a panic must not cost the process", pid, got)
	}
}

func TestRefreshOnAuthError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")
	planted := e.plantSecret(tenant, map[string]string{"api_key": memdriver.ExpiredKey, "refresh_token": memdriver.RefreshToken})

	r := e.tool("crm_create_record", token, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "Ada"}})
	wantStatus(t, r, 200)
	cred, secret := e.openSecret(tenant)
	if cred.Version != planted.Version+1 {
		t.Errorf("credential version %d, want %d (one refresh)", cred.Version, planted.Version+1)
	}
	if diff := cmp.Diff(map[string]string{"api_key": memdriver.RefreshedKey, "refresh_token": memdriver.RefreshToken}, secret); diff != "" {
		t.Errorf("refreshed secret (-want +got):\n%s", diff)
	}
	if cred.ExpiresAt == nil || !cred.ExpiresAt.After(time.Now()) {
		t.Errorf("refreshed credential expires_at %v", cred.ExpiresAt)
	}
	refreshes := 0
	for _, row := range e.auditRows(tenant) {
		if row.Action == "credential.refresh" {
			refreshes++
			if row.Outcome != host.OutcomeOK {
				t.Errorf("refresh row %+v", row)
			}
		}
	}
	if refreshes != 1 {
		t.Errorf("%d credential.refresh rows, want 1", refreshes)
	}
	// The refreshed key serves the next call without another refresh.
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), 200)
	if c, _ := e.openSecret(tenant); c.Version != cred.Version {
		t.Errorf("a second refresh happened (version %d)", c.Version)
	}
	if n := len(e.records(token, "customer")); n != 1 {
		t.Errorf("%d records after a create retried across a refresh, want 1", n)
	}
}

func TestRefreshOnConnectionTest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, _ := e.connected("Acme", "acme")
	e.plantSecret(tenant, map[string]string{"api_key": memdriver.ExpiredKey, "refresh_token": memdriver.RefreshToken})
	r := e.op(nethttp.MethodPost, "/tenants/"+tenant+"/connection/test", nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"status":"active"`) || !strings.Contains(string(r.body), `"ok":true`) {
		t.Errorf("test after refresh = %s", r.body)
	}
}

func TestRefreshRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant, token := e.connected("Acme", "acme")

	// No refresh token: the CRM's refusal is a 502 auth_error.
	e.plantSecret(tenant, map[string]string{"api_key": memdriver.ExpiredKey})
	wantProblem(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), nethttp.StatusBadGateway, "auth_error", "")

	// A refresh token the CRM refuses: auth_error, then needs_reauth.
	e.plantSecret(tenant, map[string]string{"api_key": memdriver.ExpiredKey, "refresh_token": "stale"})
	wantProblem(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), nethttp.StatusBadGateway, "auth_error", "")
	r := e.op(nethttp.MethodGet, "/tenants/"+tenant+"/connection", nil)
	if !strings.Contains(string(r.body), `"status":"needs_reauth"`) {
		t.Errorf("connection after a refused refresh = %s", r.body)
	}
	p := wantProblem(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), nethttp.StatusConflict, "not_connected", "")
	if !strings.Contains(p.Detail, "reconnect") {
		t.Errorf("detail %q", p.Detail)
	}
	var failed bool
	for _, row := range e.auditRows(tenant) {
		failed = failed || (row.Action == "credential.refresh" && row.Outcome == host.OutcomeError)
	}
	if !failed {
		t.Error("no failed credential.refresh audit row")
	}

	// Reconnecting heals it.
	wantStatus(t, e.connect(tenant, map[string]string{"account": "acme", "api_key": "good-key"}), 200)
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "x@example.com"}), 200)
}
