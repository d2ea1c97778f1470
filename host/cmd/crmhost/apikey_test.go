package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
	"crmhost.dev/host/sqlite"
)

// cli runs crmhost with the data directory dir and extra environment.
type cli struct {
	t   *testing.T
	dir string
	env []string
}

// newCLI returns a CLI on a fresh data directory, migrated as an operator
// would before anything else.
func newCLI(t *testing.T) *cli {
	c := &cli{t: t, dir: t.TempDir()}
	c.ok("migrate")
	return c
}

// run runs crmhost args and returns stdout, stderr and the exit status.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "CRMHOST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append([]string{"CRMHOST_DATA_DIR=" + c.dir}, c.env...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	c.t.Fatalf("crmhost %v: %v", args, err)
	return "", "", -1
}

// ok runs crmhost args and fails unless it succeeds.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("crmhost %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// store opens the CLI's SQLite file.
func (c *cli) store() *sqlite.Store {
	c.t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(c.dir, "crmhost.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	return s
}

func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tenant := strings.TrimSpace(c.ok("tenant", "create", "Acme"))

	out, errOut, code := c.run("apikey", "create", "--tenant", tenant, "--scope", "leads:write", "--scope", "crm:write")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, "crmk_") || strings.Contains(key, "\n") {
		t.Fatalf("create printed %q on stdout, want the key alone", out)
	}
	if !strings.Contains(errOut, "shown only now") || strings.Contains(errOut, key) {
		t.Errorf("create's stderr: %q", errOut)
	}

	ctx := context.Background()
	keys := apikeys.New(c.store(), nil)
	row, err := keys.Authenticate(ctx, key)
	if err != nil || row.TenantID != tenant || strings.Join(row.Scopes, " ") != "crm:write leads:write" {
		t.Fatalf("the printed key does not authenticate: %+v, %v", row, err)
	}

	list := c.ok("apikey", "list", "--tenant", tenant)
	secret := key[strings.LastIndex(key, "_")+1:]
	if !strings.Contains(list, row.ID) || !strings.Contains(list, apikeys.Shown(row)) || strings.Contains(list, secret) {
		t.Errorf("list:\n%s", list)
	}
	var listed struct {
		APIKeys []struct {
			ID, Prefix string
			Scopes     []string
			RevokedAt  *string `json:"revoked_at"`
		} `json:"api_keys"`
	}
	if err := json.Unmarshal([]byte(c.ok("apikey", "list", "--tenant", tenant, "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.APIKeys) != 1 || listed.APIKeys[0].ID != row.ID || listed.APIKeys[0].RevokedAt != nil {
		t.Errorf("list --json: %+v", listed)
	}

	var created struct{ ID, Key string }
	if err := json.Unmarshal([]byte(c.ok("apikey", "create", "--json", "--tenant", tenant, "--scope", "crm:read")), &created); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Authenticate(ctx, created.Key); err != nil {
		t.Errorf("the --json key: %v", err)
	}

	// Flags may follow the id.
	if out := c.ok("apikey", "revoke", row.ID, "--tenant", tenant); !strings.Contains(out, row.ID) {
		t.Errorf("revoke printed %q", out)
	}
	if _, err := keys.Authenticate(ctx, key); host.CodeOf(err) != host.CodeUnauthenticated {
		t.Errorf("revoked key: %v", err)
	}
	if _, err := keys.Authenticate(ctx, created.Key); err != nil {
		t.Errorf("revoking one key touched another: %v", err)
	}
	for _, line := range strings.Split(c.ok("apikey", "list", "--tenant", tenant), "\n") {
		if revoked := strings.HasSuffix(strings.TrimSpace(line), "-"); strings.HasPrefix(line, row.ID) && revoked ||
			strings.HasPrefix(line, created.ID) && !revoked {
			t.Errorf("list after revoke: %q", line)
		}
	}

	rows, err := c.store().ListAudit(ctx, host.AuditFilter{TenantID: tenant})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range rows {
		actions = append(actions, r.Action)
		if r.ActorType != host.ActorOperator || !strings.HasPrefix(r.ActorID, "cli") || strings.Contains(r.Detail, secret) {
			t.Errorf("audit row %+v", r)
		}
	}
	if got := strings.Join(actions, " "); got != "api_key.revoke api_key.create api_key.create tenant.create" {
		t.Errorf("audit actions %q", got)
	}
}

func TestAPIKeyCommandsBadInput(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tenant := strings.TrimSpace(c.ok("tenant", "create", "Acme"))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown scope", []string{"apikey", "create", "--tenant", tenant, "--scope", "crm:admin"}, 1, `"crm:admin" is not a scope`},
		{"no scope", []string{"apikey", "create", "--tenant", tenant}, 2, "missing flags: --scope"},
		{"no tenant", []string{"apikey", "create", "--scope", "crm:write"}, 2, "missing flags: --tenant"},
		{"unknown tenant", []string{"apikey", "create", "--tenant", "ten_nosuch", "--scope", "crm:write"}, 1, "not_found"},
		{"revoke without id", []string{"apikey", "revoke", "--tenant", tenant}, 2, `expected "<id>"`},
		{"revoke unknown", []string{"apikey", "revoke", "--tenant", tenant, "key_nosuch"}, 1, "not_found"},
		{"list unknown tenant", []string{"apikey", "list", "--tenant", "ten_nosuch"}, 1, "not_found"},
		{"list with arguments", []string{"apikey", "list", "--tenant", tenant, "extra"}, 2, "unexpected argument extra"},
		{"unknown subcommand", []string{"apikey", "rotate", "--tenant", tenant}, 2, "unexpected argument rotate"},
		{"no subcommand", []string{"apikey"}, 2, `expected one of "create", "list", "revoke"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := c.run(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut, tc.code, tc.want)
			}
			if strings.Contains(out, "crmk_") {
				t.Errorf("printed a key: %q", out)
			}
		})
	}
	ks, err := c.store().ListAPIKeys(context.Background(), tenant)
	if err != nil || len(ks) != 0 {
		t.Errorf("bad input created keys: %v, %v", ks, err)
	}
}

// TestIdempotencyTTLConfig: CRMHOST_IDEMPOTENCY_TTL is a Go duration from
// 1m to 720h; anything else refuses to start.
func TestIdempotencyTTLConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"1m", true}, {"24h", true}, {"720h", true}, {"90m", true},
		{"59s", false}, {"721h", false}, {"0", false}, {"-1h", false}, {"a day", false}, {"24", false},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c := newCLI(t)
			c.env = []string{"CRMHOST_IDEMPOTENCY_TTL=" + tc.value}
			if tc.ok {
				c.ok("tenant", "list")
				return
			}
			for _, args := range [][]string{{"tenant", "list"}, {"serve", "--addr", "127.0.0.1:0"}} {
				_, errOut, code := c.run(args...)
				if code != 1 || !strings.Contains(errOut, "CRMHOST_IDEMPOTENCY_TTL") {
					t.Errorf("crmhost %v: exit %d, %q; want a refusal naming CRMHOST_IDEMPOTENCY_TTL", args, code, errOut)
				}
			}
		})
	}
}
