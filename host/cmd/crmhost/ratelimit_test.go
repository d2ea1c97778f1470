package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/host/internal/pgtest"

	"crmhost.dev/host/internal/redistest"
	"crmhost.dev/host/ratelimit"
	"crmhost.dev/host/secrets"
	"github.com/golang-jwt/jwt/v5"
)

const (
	metricsToken = "metrics-token-for-cmd-tests"
	jwtSecret    = "hs256-shared-secret-for-the-cmd-tests"
	jwtIssuer    = "cmd-tests"
	jwtAudience  = "crmhost"
)

// baseEnv is a clean environment for the host: nothing of the caller's
// configuration leaks in.
func baseEnv(t *testing.T, kv ...string) []string {
	t.Helper()
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + os.TempDir(),
		"CRMHOST_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), secrets.LocalKeyEnv + "=" + key,
		"CRMHOST_JWT_HS256_SECRET=" + jwtSecret, "CRMHOST_JWT_ISSUER=" + jwtIssuer, "CRMHOST_JWT_AUDIENCE=" + jwtAudience,
		"CRMHOST_PLUGIN_DIR=" + filepath.Dir(memBin)}
	// The schema is applied as an operator would, before anything else:
	// only `crmhost migrate` changes it. (With the base settings and the
	// database of kv only: tests pass bad settings in kv on purpose.)
	migrate := slices.Clone(env)
	for _, v := range kv {
		if strings.HasPrefix(v, "DATABASE_URL=") {
			migrate = append(migrate, v)
		}
	}
	cmd := exec.Command(binary, "migrate")
	cmd.Env = migrate
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crmhost migrate: %v\n%s", err, out)
	}
	return append(env, kv...)
}

// newOperator creates an operator named name in env's store with the CLI
// and returns its token.
func newOperator(t *testing.T, env []string, name string) string {
	t.Helper()
	cmd := exec.Command(binary, "operator", "create", name)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("crmhost operator create %s: %v\n%s", name, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// postgresDatabase creates a fresh database on CRMHOST_TEST_POSTGRES_URL's
// server (skipped when unset, failed when unset in CI or unreachable) and
// drops it when the test ends.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.Database(t)
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hostProcess is a running `crmhost serve`.
type hostProcess struct {
	name     string
	url      string
	cmd      *exec.Cmd
	logs     *syncBuffer
	exited   chan error
	stopOnce sync.Once
}

// stop shuts the host down gracefully (SIGINT), killing it after 25 s,
// and waits for it to exit; stopping it again does nothing.
func (h *hostProcess) stop() {
	h.stopOnce.Do(func() {
		_ = h.cmd.Process.Signal(os.Interrupt)
		select {
		case <-h.exited:
		case <-time.After(25 * time.Second):
			_ = h.cmd.Process.Kill()
			<-h.exited
		}
	})
}

// kill ends the host and its drivers at once (SIGKILL to the process
// group), as a machine that dies would, and waits for the host to exit.
func (h *hostProcess) kill() {
	h.stopOnce.Do(func() {
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		<-h.exited
	})
}

// startHost runs `crmhost serve` on a free loopback port and waits until
// it listens. It is stopped (SIGINT, then SIGKILL) when the test ends.
func startHost(t *testing.T, name string, env []string) *hostProcess {
	t.Helper()
	h := &hostProcess{name: name, logs: &syncBuffer{}}
	h.cmd = exec.Command(binary, "serve", "-addr", "127.0.0.1:0")
	h.cmd.Env = env
	// Its own process group, so kill can take its drivers down with it.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := h.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.cmd.Stdout = h.logs
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			h.logs.Write(append(line, '\n'))
			var l struct {
				Message string `json:"@message"`
				Addr    string `json:"addr"`
			}
			if json.Unmarshal(line, &l) == nil && l.Message == "listening" && l.Addr != "" {
				select {
				case addr <- l.Addr:
				default:
				}
			}
		}
		_, _ = io.Copy(h.logs, stderr)
	}()
	exited := make(chan error, 1)
	h.exited = exited
	go func() { exited <- h.cmd.Wait() }()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", h.name, h.logs.String())
		}
	})
	select {
	case a := <-addr:
		h.url = "http://" + a
	case err := <-exited:
		exited <- err
		h.stopOnce.Do(func() {})
		t.Fatalf("%s exited before listening (%v):\n%s", name, err, h.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not listen within 60s:\n%s", name, h.logs.String())
	}
	return h
}

// response is a buffered HTTP response.
type response struct {
	status int
	header nethttp.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

func (h *hostProcess) do(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := nethttp.NewRequest(method, h.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, h.name, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// metric reads one sample from the host's /metrics (-1 when absent).
func (h *hostProcess) metric(t *testing.T, name string) float64 {
	t.Helper()
	r := h.do(t, nethttp.MethodGet, "/metrics", metricsToken, nil)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

func agentToken(t *testing.T, tenant string) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"tenant_id": tenant, "scope": "crm:read crm:write", "sub": "agent-1", "iss": jwtIssuer, "aud": jwtAudience,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}).SignedString([]byte(jwtSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestTwoHostsShareRateLimits: two `crmhost serve` processes on one
// PostgreSQL database and one Redis enforce one per-(tenant, tool) limit:
// of 51 calls alternating between them, exactly 50 pass and the 51st is
// a 429 with Retry-After. The processes are the real binary, launching
// the real driver binary.
func TestTwoHostsShareRateLimits(t *testing.T) {
	t.Parallel()
	db := postgresDatabase(t)
	redisURL := redistest.URL(t)
	env := baseEnv(t, "DATABASE_URL="+db, "REDIS_URL="+redisURL,
		"CRMHOST_REDIS_PREFIX="+redistest.Prefix(t, redisURL),
		// 50 per hour rather than per minute: GCRA frees one unit every
		// Period/Rate, and 72s (not 1.2s) is sure to outlast 51 calls.
		"CRMHOST_RATE_LIMIT_TOOL=50/h", "CRMHOST_METRICS_TOKEN="+metricsToken,
		// A generous bound: this test is about sharing, and a timeout
		// would decide in-process instead.
		"CRMHOST_REDIS_TIMEOUT=1s")

	reg := exec.Command(binary, "driver", "register", filepath.Base(memBin))
	reg.Env = env
	if out, err := reg.CombinedOutput(); err != nil {
		t.Fatalf("crmhost driver register: %v\n%s", err, out)
	}
	operatorToken := newOperator(t, env, "ops")
	hosts := []*hostProcess{startHost(t, "host-1", env), startHost(t, "host-2", env)}

	r := hosts[0].do(t, nethttp.MethodPost, "/api/operator/tenants", operatorToken, map[string]string{"name": "Acme"})
	if r.status != nethttp.StatusCreated {
		t.Fatalf("create tenant: %s", r)
	}
	var tenant struct{ ID string }
	if err := json.Unmarshal(r.body, &tenant); err != nil {
		t.Fatal(err)
	}
	r = hosts[0].do(t, nethttp.MethodPut, "/api/operator/tenants/"+tenant.ID+"/connection", operatorToken,
		map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme", "api_key": "good-key"}})
	if r.status != nethttp.StatusOK || !strings.Contains(string(r.body), `"active"`) {
		t.Fatalf("connect: %s", r)
	}
	token := agentToken(t, tenant.ID)

	body := map[string]string{"email": "nobody@example.com"}
	for i := 0; i < 50; i++ {
		h := hosts[i%2]
		r := h.do(t, nethttp.MethodPost, "/api/tools/crm_lookup_customer", token, body)
		if r.status != nethttp.StatusOK {
			t.Fatalf("call %d on %s: %s, want 200 (50 of 50/h admitted)", i+1, h.name, r)
		}
		// Remaining counts down across both processes: one shared limit.
		if got, want := r.header.Get("RateLimit"), fmt.Sprintf(`"tool";r=%d;`, 49-i); !strings.HasPrefix(got, want) {
			t.Fatalf("call %d on %s: RateLimit %q, want it to start %s", i+1, h.name, got, want)
		}
	}
	r = hosts[0].do(t, nethttp.MethodPost, "/api/tools/crm_lookup_customer", token, body)
	if r.status != nethttp.StatusTooManyRequests {
		t.Fatalf("call 51: %s, want 429", r)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 72 {
		t.Errorf("call 51: Retry-After %q, want 1 to 72 seconds (one unit per 72s)", r.header.Get("Retry-After"))
	}
	var p struct{ Code, Detail string }
	if err := json.Unmarshal(r.body, &p); err != nil || p.Code != "rate_limited" || !strings.Contains(p.Detail, `"tool"`) {
		t.Errorf("call 51: problem %s, want code rate_limited naming the tool policy", r.body)
	}
	// The other process refuses too: the limit is spent for both.
	if r := hosts[1].do(t, nethttp.MethodPost, "/api/tools/crm_lookup_customer", token, body); r.status != nethttp.StatusTooManyRequests {
		t.Errorf("call 52 on host-2: %s, want 429", r)
	}
	for _, h := range hosts {
		if got := h.metric(t, ratelimit.FailuresMetric); got != 0 {
			t.Errorf("%s: %s = %v, want 0 (every decision made in Redis)", h.name, ratelimit.FailuresMetric, got)
		}
	}
}

// TestBadRateLimitConfigRefusesStart: negative, zero, absurd or unreadable
// rate-limit settings stop `crmhost serve` with a message naming the
// variable, before anything is opened or written.
func TestBadRateLimitConfigRefusesStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
	}{
		{"CRMHOST_RATE_LIMIT_API_KEY", "-5/min"},
		{"CRMHOST_RATE_LIMIT_API_KEY", "0/min"},
		{"CRMHOST_RATE_LIMIT_API_KEY", "200"},
		{"CRMHOST_RATE_LIMIT_API_KEY", "200/fortnight"},
		{"CRMHOST_RATE_LIMIT_API_KEY", "lots/min"},
		{"CRMHOST_RATE_LIMIT_API_KEY", "5000000/s"},
		{"CRMHOST_RATE_LIMIT_TOOL", "-1/s"},
		{"CRMHOST_RATE_LIMIT_TOOL", "0/h"},
		{"CRMHOST_RATE_LIMIT_TOOL", "1e9/min"},
		{"CRMHOST_RATE_LIMIT_TOOL", "99999999999999999999/min"},
		{"CRMHOST_REPLICAS", "2"},                             // no longer used: counted from heartbeats
		{"CRMHOST_OPERATOR_TOKEN", "a-shared-operator-token"}, // operators are named now
		{"CRMHOST_RATE_LIMIT_AUTH_FAILURES", "0/min"},
		{"CRMHOST_JWT_MAX_LIFETIME", "30d"},
		{"CRMHOST_JWT_MAX_LIFETIME", "48h"},
		{"CRMHOST_JWT_CLOCK_SKEW", "1h"},
		{"CRMHOST_REQUEST_TIMEOUT", "0s"},
		{"CRMHOST_HTTP_WRITE_TIMEOUT", "5s"}, // shorter than the request timeout
		{"CRMHOST_HTTP_IDLE_TIMEOUT", "forever"},
		{"CRMHOST_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"CRMHOST_METRICS_TOKEN", "short"},
		{"CRMHOST_DRIVER_ENV", "DATABASE_URL"},
		{"CRMHOST_DRIVER_ENV", "CRM_CREDENTIAL_ENCRYPTION_KEY"},
		{"CRMHOST_REDIS_TIMEOUT", "0"},
		{"CRMHOST_REDIS_TIMEOUT", "-5ms"},
		{"CRMHOST_REDIS_TIMEOUT", "5"},
		{"CRMHOST_REDIS_TIMEOUT", "10s"},
		{"CRMHOST_REDIS_TIMEOUT", "soon"},
		{"CRMHOST_REDIS_PREFIX", "has space:"},
		{"CRMHOST_REDIS_PREFIX", strings.Repeat("p", 200)},
		{"REDIS_URL", "postgres://127.0.0.1/x"},
		{"REDIS_URL", "redis://user:hunter2@[::1/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			env := baseEnv(t, tt.name+"="+tt.value)
			data := filepath.Join(t.TempDir(), "data")
			env = append(env, "CRMHOST_DATA_DIR="+data)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve", "-addr", "127.0.0.1:0")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("crmhost serve with %s=%q: %v, want exit status 1\n%s", tt.name, tt.value, err, out)
			}
			if !strings.Contains(string(out), tt.name) {
				t.Errorf("the message does not name %s:\n%s", tt.name, out)
			}
			if strings.Contains(string(out), "hunter2") {
				t.Errorf("the message shows the Redis password:\n%s", out)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("the refused start created %s (%v)", data, err)
			}
		})
	}
}
