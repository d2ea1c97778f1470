package http_test

import (
	"crypto/rand"
	"crypto/rsa"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"crmhost.dev/sdk"
)

// TestMain builds the in-memory reference driver once; every test's host
// launches it for real, registered with its real checksum.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "crmhost-http-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	memBinary = filepath.Join(dir, "crm-driver-mem")
	out, err := exec.Command("go", "build", "-o", memBinary, "crmhost.dev/host/internal/memdriver/cmd/crm-driver-mem").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	if memSHA, err = sdk.FileSHA256(memBinary); err != nil {
		panic(err)
	}
	if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	return m.Run()
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(nethttp.MethodGet, "/healthz", "", nil)
	wantStatus(t, r, nethttp.StatusOK)
	if r.header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID on /healthz")
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"}), nethttp.StatusOK)

	r := e.do(nethttp.MethodGet, "/readyz", "", nil)
	wantStatus(t, r, nethttp.StatusOK)
	if m := r.object(t); m["ready"] != true {
		t.Errorf("readyz = %s, want ready true", r.body)
	}

	e.closeStore.Do(func() { e.store.Close() })
	r = e.do(nethttp.MethodGet, "/readyz", "", nil)
	wantStatus(t, r, nethttp.StatusServiceUnavailable)
	var out struct {
		Ready  bool
		Checks struct{ Store string }
	}
	r.decode(t, &out)
	if out.Ready || out.Checks.Store != "unreachable" {
		t.Errorf("readyz with the store closed = %s", r.body)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, token := e.connected("Acme", "acme")
	wantStatus(t, e.tool("crm_lookup_customer", token, map[string]string{"email": "nobody@example.com"}), nethttp.StatusOK)
	r := e.do(nethttp.MethodGet, "/metrics", metricsToken, nil)
	wantStatus(t, r, nethttp.StatusOK)
	body := string(r.body)
	for _, want := range []string{
		`crmhost_http_requests_total{method="POST",route="/api/tools/crm_lookup_customer",status="200"} 1`,
		`crmhost_driver_calls_total{code="ok",driver="mem",verb="lookup_customer"} 1`,
		`crmhost_driver_calls_total{code="ok",driver="mem",verb="test_connection"} 1`,
		`crmhost_http_request_seconds_bucket`,
		`crmhost_driver_call_seconds_bucket`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantProblem(t, e.do(nethttp.MethodGet, "/api/nope", "", nil), nethttp.StatusNotFound, "not_found", "")
	wantProblem(t, e.do(nethttp.MethodGet, "/api/tools/crm_lookup_customer", "", nil), nethttp.StatusMethodNotAllowed, "method_not_allowed", "method")
}
