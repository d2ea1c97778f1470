package e2e_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// TestDriverKilledMidRequest kills the driver process while it holds a
// lookup: the caller gets a clean 503 driver_unavailable, the supervisor
// restarts the driver and the next lookup is served.
func TestDriverKilledMidRequest(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tenant := h.connectedTenant(t, "Kill Test")
	token := h.agentToken(t, tenant, "conv-kill")
	lookup := request{method: http.MethodPost, path: "/api/tools/crm_lookup_customer", token: token,
		body: map[string]string{"phone": "+1 415 555 0123"}}

	decode[lookupResult](t, h.send(t, lookup), http.StatusOK)
	pid := h.pid()
	if pid == 0 {
		t.Fatal("no driver process after a lookup")
	}

	// HubSpot holds the next request for 5 s: the lookup is in flight
	// inside the driver when it dies.
	h.fake.Inject(drivertest.Fault{Kind: drivertest.Latency, Latency: 5 * time.Second})
	seen := len(h.fake.Requests())
	type result struct {
		r   response
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := h.sendContext(t.Context(), lookup)
		done <- result{r, err}
	}()
	waitFor(t, "the lookup to reach HubSpot", func() bool { return len(h.fake.Requests()) > seen })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill driver %d: %v", pid, err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the lookup did not return after its driver was killed")
	}
	if res.err != nil {
		t.Fatalf("lookup: %v", res.err)
	}
	wantProblem(t, res.r, http.StatusServiceUnavailable, "driver_unavailable")

	waitFor(t, "the supervisor to restart the driver", func() bool {
		np := h.pid()
		return np != 0 && np != pid
	})
	if alive(pid) {
		t.Errorf("killed driver %d still running", pid)
	}
	decode[lookupResult](t, h.send(t, lookup), http.StatusOK)
}

// TestChecksumMismatchRefused registers the driver with a checksum its
// binary does not have: the host refuses to launch it, tells the caller
// why without the binary's path or either hash (they are for the
// operator: the host log and GET /api/operator/health have them), and
// writes nothing.
func TestChecksumMismatchRefused(t *testing.T) {
	wrong := strings.Repeat("0", 64)
	h := newHarness(t, harnessOptions{sha256: wrong})
	actual, err := sdk.FileSHA256(hubspotBinary)
	if err != nil {
		t.Fatal(err)
	}
	tenant := h.createTenant(t, "Checksum Test")

	p := wantProblem(t, h.connect(t, tenant, h.credentials()), http.StatusServiceUnavailable, "driver_unavailable")
	if !strings.Contains(p.Detail, "checksum") {
		t.Errorf("detail %q does not say the checksum does not match", p.Detail)
	}
	for _, leak := range []string{wrong, actual, hubspotBinary, filepath.Dir(hubspotBinary)} {
		if strings.Contains(p.Detail, leak) {
			t.Errorf("detail %q carries %q", p.Detail, leak)
		}
	}
	health := decode[struct {
		Drivers map[string]struct {
			State     string `json:"state"`
			LastError string `json:"last_error"`
		} `json:"drivers"`
	}](t, h.op(t, http.MethodGet, "/health", nil), http.StatusOK)
	if d := health.Drivers["hubspot"]; d.State != "restarting" || !strings.Contains(d.LastError, actual) || !strings.Contains(d.LastError, wrong) {
		t.Errorf("operator health of hubspot = %+v, want restarting with both checksums", d)
	}
	wantProblem(t, h.op(t, http.MethodGet, "/drivers/hubspot", nil), http.StatusServiceUnavailable, "driver_unavailable")
	if pid := h.pid(); pid != 0 {
		t.Errorf("a driver with the wrong checksum runs as pid %d", pid)
	}
	wantProblem(t, h.op(t, http.MethodGet, "/tenants/"+tenant+"/connection", nil), http.StatusNotFound, "not_found")
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("HubSpot received %d requests", n)
	}
}

// waitFor polls cond until it holds, failing the test after 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
