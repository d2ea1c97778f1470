package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/redistest"
	"crmhost.dev/host/sqlite"
	"github.com/golang-jwt/jwt/v5"
)

// runWith runs crmhost args with env and returns stdout, stderr and the
// exit status.
func runWith(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return stdout.String(), stderr.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("crmhost %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), 0
}

// TestServeRefusesWithoutJWTIssuerAndAudience: agent tokens are checked
// against an issuer and an audience, so serve does not start without them.
func TestServeRefusesWithoutJWTIssuerAndAudience(t *testing.T) {
	t.Parallel()
	for _, missing := range []string{"CRMHOST_JWT_ISSUER", "CRMHOST_JWT_AUDIENCE", "CRMHOST_JWT_HS256_SECRET"} {
		t.Run(missing, func(t *testing.T) {
			var env []string
			for _, kv := range baseEnv(t) {
				if !strings.HasPrefix(kv, missing+"=") {
					env = append(env, kv)
				}
			}
			_, errOut, code := runWith(t, env, "serve", "-addr", "127.0.0.1:0")
			if code != 1 || !strings.Contains(errOut, missing) {
				t.Fatalf("serve without %s: exit %d, %q; want a refusal naming it", missing, code, errOut)
			}
		})
	}
}

// TestOperatorCommands: operators are created (token shown once, stored
// hashed), listed and revoked on the command line, each step audited.
func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	tok := newOperator(t, env, "alice@example.com")
	if !strings.HasPrefix(tok, "crmo_") {
		t.Fatalf("token %q", tok)
	}
	if _, errOut, code := runWith(t, env, "operator", "create", "alice@example.com"); code != 1 || !strings.Contains(errOut, "conflict") {
		t.Errorf("a second active alice: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runWith(t, env, "operator", "create", "not a name"); code != 1 || !strings.Contains(errOut, "operator name") {
		t.Errorf("a bad name: exit %d, %q", code, errOut)
	}
	out, _, code := runWith(t, env, "operator", "list", "--json")
	var list struct {
		Operators []struct {
			Name      string     `json:"name"`
			RevokedAt *time.Time `json:"revoked_at"`
		} `json:"operators"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Operators) != 1 || list.Operators[0].Name != "alice@example.com" || strings.Contains(out, tok) {
		t.Fatalf("operator list: exit %d, %s", code, out)
	}
	if out, _, code := runWith(t, env, "operator", "revoke", "alice@example.com"); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: exit %d, %s", code, out)
	}
	if _, errOut, code := runWith(t, env, "operator", "revoke", "alice@example.com"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("revoke again: exit %d, %q", code, errOut)
	}

	s, err := sqlite.Open(t.Context(), filepath.Join(dataDir(env), "crmhost.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.ListAudit(t.Context(), host.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range rows {
		actions = append(actions, r.Action)
		if !strings.HasPrefix(r.ActorID, "cli") || strings.Contains(r.Detail, tok) {
			t.Errorf("audit row %+v", r)
		}
	}
	if !slices.Equal(actions, []string{"operator.revoke", "operator.create"}) {
		t.Errorf("audit actions %q", actions)
	}
}

// dataDir is env's CRMHOST_DATA_DIR.
func dataDir(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "CRMHOST_DATA_DIR="); ok {
			return v
		}
	}
	return ""
}

// TestDriverRegisterOnlyFromPluginDir: the CLI registers binaries of the
// plugin directory by file name (or a path into it), nothing else.
func TestDriverRegisterOnlyFromPluginDir(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	outside := filepath.Join(t.TempDir(), "crm-driver-mem")
	raw, err := os.ReadFile(memBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{outside, "/bin/sh", "../" + filepath.Base(filepath.Dir(memBin)) + "/x"} {
		if out, errOut, code := runWith(t, env, "driver", "register", arg); code != 1 || out != "" || !strings.Contains(errOut, "plugin directory") {
			t.Errorf("driver register %s: exit %d, %q %q; want a refusal naming the plugin directory", arg, code, out, errOut)
		}
	}
	for _, arg := range []string{memBin, filepath.Base(memBin), "mem"} {
		if out, errOut, code := runWith(t, env, "driver", "register", arg); code != 0 || !strings.Contains(out, "registered mem") {
			t.Errorf("driver register %s: exit %d, %s %s", arg, code, out, errOut)
		}
	}
}

// TestTokenCommand: crmhost token mints agent tokens the host accepts,
// with the configured issuer and audience and a lifetime within the
// host's maximum; --dir mints for a dev mode host.
func TestTokenCommand(t *testing.T) {
	t.Parallel()
	metricsPort := redistest.FreePort(t)
	env := baseEnv(t, fmt.Sprintf("CRMHOST_METRICS_ADDR=127.0.0.1:%d", metricsPort))
	if _, errOut, code := runWith(t, env, "driver", "register", "mem"); code != 0 {
		t.Fatal(errOut)
	}
	op := newOperator(t, env, "ops")
	h := startHost(t, "host", env)
	r := h.do(t, nethttp.MethodPost, "/api/operator/tenants", op, map[string]string{"name": "Acme"})
	var tenant struct{ ID string }
	if r.status != 201 || json.Unmarshal(r.body, &tenant) != nil {
		t.Fatalf("create tenant: %s", r)
	}
	r = h.do(t, nethttp.MethodPut, "/api/operator/tenants/"+tenant.ID+"/connection", op,
		map[string]any{"provider": "mem", "credentials": map[string]string{"account": "acme", "api_key": "good-key"}})
	if r.status != 200 {
		t.Fatalf("connect: %s", r)
	}

	out, errOut, code := runWith(t, env, "token", "--tenant", tenant.ID, "--scope", "crm:read", "--conversation", "conv-9")
	if code != 0 {
		t.Fatalf("token: exit %d: %s", code, errOut)
	}
	tok := strings.TrimSpace(out)
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(jwtSecret), nil }); err != nil {
		t.Fatal(err)
	}
	iat, exp := claims["iat"].(float64), claims["exp"].(float64)
	if claims["iss"] != jwtIssuer || claims["aud"] != jwtAudience && !slices.Contains(anySlice(claims["aud"]), jwtAudience) ||
		claims["tenant_id"] != tenant.ID || claims["sub"] != "agent" || claims["scope"] != "crm:read" || exp-iat != 3600 {
		t.Errorf("claims %v", claims)
	}
	if r := h.do(t, nethttp.MethodPost, "/api/tools/crm_lookup_customer", tok, map[string]string{"email": "a@example.com"}); r.status != 200 {
		t.Errorf("lookup with the minted token: %s", r)
	}
	if r := h.do(t, nethttp.MethodPost, "/api/tools/crm_create_record", tok, map[string]any{"object": "customer", "fields": map[string]any{"first_name": "A"}}); r.status != 403 {
		t.Errorf("create with a crm:read token: %s, want 403", r)
	}
	for _, bad := range [][]string{{"token"}, {"token", "--tenant", tenant.ID, "--ttl", "2h"}, {"token", "--tenant", tenant.ID, "--scope", "leads:write"}} {
		if out, _, code := runWith(t, env, bad...); code == 0 || out != "" {
			t.Errorf("crmhost %v: exit %d, printed %q", bad, code, out)
		}
	}

	// Metrics: on their own listener, not on the API's (no token set).
	if r := h.do(t, nethttp.MethodGet, "/metrics", "", nil); r.status != 404 {
		t.Errorf("/metrics on the API listener: %s, want 404", r)
	}
	res, err := nethttp.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "crmhost_http_requests_total") {
		t.Errorf("metrics listener: %d %.200s", res.StatusCode, body)
	}

	// Dev mode's tokens: its secret file, its issuer and audience.
	dev := t.TempDir()
	if err := os.WriteFile(filepath.Join(dev, "jwt.secret"), []byte("dev-secret-of-at-least-32-characters-x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runWith(t, env, "token", "--dir", dev, "--tenant", "ten_dev")
	if code != 0 {
		t.Fatalf("token --dir: %s", errOut)
	}
	claims = jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(strings.TrimSpace(out), claims, func(*jwt.Token) (any, error) {
		return []byte("dev-secret-of-at-least-32-characters-x"), nil
	}); err != nil || claims["iss"] != "crmhost-dev" || claims["scope"] != "crm:read crm:write" {
		t.Errorf("dev token %v, %v", claims, err)
	}
	if _, errOut, code := runWith(t, env, "token", "--dir", t.TempDir(), "--tenant", "ten_dev"); code != 1 || !strings.Contains(errOut, "crmhost dev") {
		t.Errorf("token --dir without dev state: exit %d, %q", code, errOut)
	}
}

func anySlice(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}
