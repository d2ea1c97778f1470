package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/host/internal/pgtest"
	"crmhost.dev/host/secrets"
	"github.com/jackc/pgx/v5"
)

// output is a bytes.Buffer a process may write while the test reads it.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// serveOnce starts `crmhost serve` with c's environment, waits for
// /healthz, runs while (with the host's address), lets it run a moment
// (River elects a leader and runs its start-up prune), stops it with
// SIGTERM and returns its stderr. It fails the test if the host does not
// come up or exits with an error.
func serveOnce(t *testing.T, c *cli, while ...func(addr string)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(binary, "serve", "-addr", addr)
	cmd.Env = c.environ()
	var stderr output
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("crmhost serve exited (%v) before serving:\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("crmhost serve did not come up:\n%s", stderr.String())
		}
	}
	for _, f := range while {
		f(addr)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("crmhost serve: %v\n%s", err, stderr.String())
	}
	return stderr.String()
}

// environ is the environment c.run gives crmhost.
func (c *cli) environ() []string {
	cmd := exec.Command(binary)
	c.t.Helper()
	var env []string
	for _, kv := range cmd.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "CRMHOST_") {
			env = append(env, kv)
		}
	}
	return append(env, append([]string{"CRMHOST_DATA_DIR=" + c.dir}, c.env...)...)
}

// serveEnv is what `crmhost serve` needs besides a store: a credential key
// and the agent JWT settings.
func serveEnv(t *testing.T, kv ...string) []string {
	t.Helper()
	return append([]string{"CRM_CREDENTIAL_ENCRYPTION_KEY=" + devKey(t), "CRMHOST_JWT_HS256_SECRET=" + jwtSecret,
		"CRMHOST_JWT_ISSUER=" + jwtIssuer, "CRMHOST_JWT_AUDIENCE=" + jwtAudience}, kv...)
}

func devKey(t *testing.T) string {
	t.Helper()
	k, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestMigrateThenServe (SQLite): only `crmhost migrate` (or serve
// -migrate) changes the schema; serve and the store commands refuse a
// database behind them, saying what to run.
func TestMigrateThenServe(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, dir: t.TempDir(), env: serveEnv(t)}
	for _, args := range [][]string{{"serve", "-addr", "127.0.0.1:0"}, {"tenant", "list"}, {"driver", "list"}} {
		_, errOut, code := c.run(args...)
		if code != 1 || !strings.Contains(errOut, "crmhost migrate") || !strings.Contains(errOut, "0001_init.sql") {
			t.Errorf("crmhost %v on an unmigrated database: exit %d, %q; want a refusal naming the migrations and crmhost migrate", args, code, errOut)
		}
	}
	out := c.ok("migrate")
	if !strings.Contains(out, "job queue migrations [") {
		t.Errorf("migrate: %q, want the job queue's migrations applied", out)
	}
	if out := c.ok("migrate"); !strings.Contains(out, "job queue up to date") {
		t.Errorf("second migrate: %q, want nothing to apply", out)
	}
	log := serveOnce(t, c)
	if strings.Contains(log, `"@level":"error"`) {
		t.Errorf("serve logged errors:\n%s", log)
	}
	c.ok("tenant", "list")
}

// TestServeMigrateFlag: serve --migrate applies what is pending and serves.
func TestServeMigrateFlag(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, dir: t.TempDir(), env: serveEnv(t)}
	cmd := exec.Command(binary, "serve", "--migrate", "-addr", "127.0.0.1:0")
	cmd.Env = c.environ()
	var out output
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), `"listening"`) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("serve --migrate did not come up:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve --migrate: %v\n%s", err, out.String())
	}
	c.ok("tenant", "list") // the schema is current now
}

// TestLeastPrivilegeRuntimeRole (PostgreSQL): `crmhost migrate` runs as
// the database owner; `crmhost serve` then runs as a role that may read
// and write rows but not change the schema, job queue included.
func TestLeastPrivilegeRuntimeRole(t *testing.T) {
	t.Parallel()
	admin := pgtest.AdminURL(t)
	ctx := context.Background()
	role := "crmhost_rt_" + strings.ToLower(rand.Text()[:10])
	exec := func(url, sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(admin, fmt.Sprintf(`CREATE ROLE %s LOGIN`, role))
	// Registered before the database's drop, so it runs after it.
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err == nil {
			conn.Exec(ctx, "DROP ROLE IF EXISTS "+role)
			conn.Close(ctx)
		}
	})
	owner := pgtest.Fresh(t, admin)
	exec(owner, `REVOKE CREATE ON SCHEMA public FROM PUBLIC`)
	runtime := strings.Replace(owner, "postgres@", role+"@", 1)
	if runtime == owner {
		t.Skipf("cannot derive a URL for role %s from %s", role, owner)
	}
	asRuntime := &cli{t: t, dir: t.TempDir(), env: serveEnv(t, "DATABASE_URL="+runtime)}
	asOwner := &cli{t: t, dir: t.TempDir(), env: serveEnv(t, "DATABASE_URL="+owner)}

	exec(owner, fmt.Sprintf(`GRANT USAGE ON SCHEMA public TO %s`, role))
	if _, errOut, code := asRuntime.run("serve", "-addr", "127.0.0.1:0"); code != 1 || !strings.Contains(errOut, "crmhost migrate") {
		t.Fatalf("serve before migrate: exit %d, %q; want a refusal naming crmhost migrate", code, errOut)
	}
	if _, errOut, code := asRuntime.run("migrate"); code == 0 {
		t.Fatal("the runtime role could migrate: the test's role is not least-privilege")
	} else if !strings.Contains(errOut, "permission denied") {
		t.Logf("migrate as the runtime role: %s", errOut)
	}
	asOwner.ok("migrate")
	exec(owner, fmt.Sprintf(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %s;
		GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %s`, role, role))

	log := serveOnce(t, asRuntime)
	if strings.Contains(log, `"@level":"error"`) || strings.Contains(log, "permission denied") {
		t.Errorf("serve as the runtime role logged errors:\n%s", log)
	}
	asRuntime.ok("tenant", "create", "least-privilege")
}
