package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host/secrets"
	"crmhost.dev/plugins/hubspot/fake"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
)

// Replicas: real `crmhost serve` processes on one PostgreSQL database,
// launching the real HubSpot driver, against one HubSpot fake in this
// process (their shared provider).

const (
	replicaJWTSecret = "e2e-replicas-jwt-secret-0123456789abcdef"
	replicaIssuer    = "e2e-platform"
	replicaAudience  = "crmhost"
)

var (
	crmhostOnce sync.Once
	crmhostBin  string
	crmhostErr  error
)

// crmhostBinary builds the host once for the replica tests.
func crmhostBinary(t *testing.T) string {
	t.Helper()
	crmhostOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crmhost-e2e-host")
		if err != nil {
			crmhostErr = err
			return
		}
		crmhostBin = filepath.Join(dir, "crmhost")
		if out, err := exec.Command("go", "build", "-o", crmhostBin, "crmhost.dev/host/cmd/crmhost").CombinedOutput(); err != nil {
			crmhostErr = fmt.Errorf("build crmhost: %v\n%s", err, out)
		}
	})
	if crmhostErr != nil {
		t.Fatal(crmhostErr)
	}
	return crmhostBin
}

// freshDatabase creates an empty PostgreSQL database for the test and
// drops it afterwards; without CRMHOST_TEST_POSTGRES_URL the test skips,
// unless CI is set.
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("CRMHOST_TEST_POSTGRES_URL")
	if admin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CRMHOST_TEST_POSTGRES_URL is not set, and CI is: the replica tests must run in CI")
		}
		t.Skip("CRMHOST_TEST_POSTGRES_URL is not set: skipping the replica tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("CRMHOST_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: %v", err)
	}
	defer conn.Close(ctx)
	name := "crmhost_e2e_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// replicaEnv is the environment every replica of one test shares.
func replicaEnv(t *testing.T) []string {
	t.Helper()
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + os.TempDir(),
		"DATABASE_URL=" + freshDatabase(t), secrets.LocalKeyEnv + "=" + key,
		"CRMHOST_JWT_HS256_SECRET=" + replicaJWTSecret, "CRMHOST_JWT_ISSUER=" + replicaIssuer, "CRMHOST_JWT_AUDIENCE=" + replicaAudience,
		"CRMHOST_PLUGIN_DIR=" + filepath.Dir(hubspotBinary), "CRMHOST_DRIVER_EGRESS_ALLOW=127.0.0.0/8,::1/128",
		"CRMHOST_RATE_LIMIT_TOOL=1000000/min", "CRMHOST_RATE_LIMIT_API_KEY=1000000/min", "CRMHOST_LOG_LEVEL=debug"}
}

// crmhostRun runs a crmhost command and fails the test unless it succeeds.
func crmhostRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(crmhostBinary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("crmhost %v: %v\n%s", args, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// replica is one running `crmhost serve`.
type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	logs bytes.Buffer
}

func (r *replica) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

// startReplica runs `crmhost serve` on a free loopback port until the
// test ends (or kill).
func startReplica(t *testing.T, name string, env []string) *replica {
	t.Helper()
	r := &replica{name: name, done: make(chan struct{})}
	r.cmd = exec.Command(crmhostBinary(t), "serve", "-addr", "127.0.0.1:0")
	r.cmd.Env = env
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			r.mu.Lock()
			r.logs.Write(append(line, '\n'))
			r.mu.Unlock()
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
	}()
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(os.Interrupt)
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", r.name, r.log())
		}
	})
	select {
	case a := <-addr:
		r.url = "http://" + a
	case <-r.done:
		t.Fatalf("%s exited before listening:\n%s", name, r.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not listen within 60s:\n%s", name, r.log())
	}
	return r
}

// kill SIGKILLs the replica (its driver process dies with it).
func (r *replica) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

func (r *replica) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func replicaAgentToken(t *testing.T, tenant string) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"tenant_id": tenant, "scope": "crm:read crm:write",
		"sub": "agent-e2e", "iss": replicaIssuer, "aud": replicaAudience, "iat": now.Unix(), "exp": now.Add(30 * time.Minute).Unix()}).
		SignedString([]byte(replicaJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// oauthTenant prepares two replicas on one database and a tenant
// connected to the HubSpot fake through the OAuth sign-in on the first.
func oauthTenant(t *testing.T, f *fake.Server) (env []string, a, b *replica, operator, tenant string) {
	t.Helper()
	env = replicaEnv(t)
	crmhostRun(t, env, "migrate")
	crmhostRun(t, env, "driver", "register", "hubspot")
	operator = crmhostRun(t, env, "operator", "create", "ops")
	if i := strings.LastIndex(operator, "\n"); i >= 0 {
		operator = strings.TrimSpace(operator[i+1:])
	}
	a, b = startReplica(t, "replica-a", env), startReplica(t, "replica-b", env)
	if st, body := a.do(t, http.MethodPut, "/api/operator/drivers/hubspot/app-credentials", operator, map[string]any{"values": map[string]string{
		"client_id": fake.DefaultClientID, "client_secret": fake.DefaultClientSecret}}); st != 200 {
		t.Fatalf("app credentials: %d %s", st, body)
	}
	st, body := a.do(t, http.MethodPost, "/api/operator/tenants", operator, map[string]string{"name": "Acme"})
	var ten struct{ ID string }
	if st != 201 || json.Unmarshal(body, &ten) != nil {
		t.Fatalf("create tenant: %d %s", st, body)
	}
	tenant = ten.ID
	st, body = a.do(t, http.MethodPost, "/api/operator/tenants/"+tenant+"/connection/oauth", operator, map[string]any{"provider": "hubspot",
		"credentials": map[string]string{"base_url": f.URL, "app_base_url": f.URL}})
	var started struct {
		URL string `json:"authorize_url"`
	}
	if st != 200 || json.Unmarshal(body, &started) != nil {
		t.Fatalf("start sign-in: %d %s", st, body)
	}
	noFollow := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(started.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = noFollow.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "CRM connected") {
		t.Fatalf("sign-in callback: %d %s", res.StatusCode, page)
	}
	return env, a, b, operator, tenant
}

// refreshGrants is the number of refresh grants the fake answered.
func refreshGrants(f *fake.Server) (n int, tokens map[string]int) {
	tokens = f.RefreshGrants()
	for _, c := range tokens {
		n += c
	}
	return n, tokens
}

// TestRefreshAcrossReplicas: two replicas, 50 concurrent calls that all
// meet an expired token at once: exactly one refresh reaches the
// provider's token endpoint and every call succeeds.
func TestRefreshAcrossReplicas(t *testing.T) {
	f, err := fake.Start(fake.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	_, a, b, _, tenant := oauthTenant(t, f)
	token := replicaAgentToken(t, tenant)
	for _, r := range []*replica{a, b} { // both replicas' drivers up, tokens valid
		if st, body := r.do(t, http.MethodPost, "/api/tools/crm_lookup_customer", token, map[string]string{"email": "warm@example.com"}); st != 200 {
			t.Fatalf("%s warm-up: %d %s", r.name, st, body)
		}
	}
	before, _ := refreshGrants(f)
	f.ExpireAccessTokens()
	var wg sync.WaitGroup
	status := make([]int, 50)
	bodies := make([][]byte, 50)
	for i := range status {
		wg.Go(func() {
			r := a
			if i%2 == 1 {
				r = b
			}
			// Creates: HubSpot's 5/s search limit, which the host holds
			// lookups to, does not cover them.
			status[i], bodies[i] = r.do(t, http.MethodPost, "/api/tools/crm_create_record", token, map[string]any{"object": "customer",
				"fields": map[string]string{"email": fmt.Sprintf("p%d@example.com", i)}, "idempotency_key": fmt.Sprintf("replicas-%d", i)})
		})
	}
	wg.Wait()
	for i, st := range status {
		if st != 200 {
			t.Errorf("call %d: %d %s", i, st, bodies[i])
		}
	}
	if after, _ := refreshGrants(f); after-before != 1 {
		t.Errorf("%d refresh grants reached the token endpoint for 50 calls on two replicas, want exactly 1", after-before)
	}
}

// TestRefreshInterruptedByCrash: a replica is killed after the provider
// answered its refresh (the token is spent) and before it stored the
// answer. The refresh journal makes the other replica refuse to send the
// possibly spent refresh token again: the connection needs re-authorizing
// (audited) instead.
func TestRefreshInterruptedByCrash(t *testing.T) {
	f, err := fake.Start(fake.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	_, a, b, operator, tenant := oauthTenant(t, f)
	token := replicaAgentToken(t, tenant)
	f.ExpireAccessTokens()
	f.DelayRefresh(30 * time.Second)
	before, _ := refreshGrants(f)
	go func() { // its answer dies with the replica
		req, _ := http.NewRequest(http.MethodPost, a.url+"/api/tools/crm_lookup_customer", strings.NewReader(`{"email":"crash@example.com"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		if res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req); err == nil {
			res.Body.Close()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, _ := refreshGrants(f); n > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica a never refreshed:\n%s", a.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.kill()
	_, spent := refreshGrants(f)

	st, body := b.do(t, http.MethodPost, "/api/tools/crm_lookup_customer", token, map[string]string{"email": "after@example.com"})
	if st == 200 {
		t.Fatalf("a call after the interrupted refresh succeeded: %s", body)
	}
	_, now := refreshGrants(f)
	for rt, n := range now {
		if n > 1 {
			t.Errorf("refresh token %s… was sent %d times", rt[:min(8, len(rt))], n)
		}
	}
	if len(now) != len(spent) {
		t.Errorf("another refresh was attempted after the crash (%d refresh tokens used, %d before)", len(now), len(spent))
	}
	_, conn := b.do(t, http.MethodGet, "/api/operator/tenants/"+tenant+"/connection", operator, nil)
	if !strings.Contains(string(conn), `"status":"needs_reauth"`) {
		t.Errorf("connection after the interrupted refresh = %s, want needs_reauth", conn)
	}
	_, audit := b.do(t, http.MethodGet, "/api/operator/tenants/"+tenant+"/audit?action=connection.needs_reauth", operator, nil)
	if !strings.Contains(string(audit), "interrupted") {
		t.Errorf("no needs_reauth audit row explaining the interrupted refresh: %s", audit)
	}
}
