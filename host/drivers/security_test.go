package drivers_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"crmhost.dev/host"
	"crmhost.dev/host/drivers"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

// copyFile copies src to dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// pluginDir returns a fresh plugin directory (mode 0755) holding a copy of
// the test driver as crm-driver-testdriver.
func pluginDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, testBinary, filepath.Join(dir, "crm-driver-testdriver"), 0o755)
	return dir
}

// TestDriverEnvironment: a driver process starts with an empty environment
// plus the allowlist: none of the host's secrets, database or cache URLs,
// or cloud credentials reach it, even though the host has them all.
func TestDriverEnvironment(t *testing.T) {
	// Values long and odd enough never to occur by chance in another
	// variable (go-plugin's certificate is base64).
	secrets := map[string]string{
		"CRM_CREDENTIAL_ENCRYPTION_KEY": "value-of-the-credential-key", "CRM_CREDENTIAL_OLD_KEYS": "value-of-the-old-keys",
		"CRMHOST_OPERATOR_TOKEN": "value-of-the-operator-token", "CRMHOST_JWT_HS256_SECRET": "value-of-the-jwt-secret",
		"DATABASE_URL": "postgres://user:value-of-the-db-password@db/x", "REDIS_URL": "redis://:value-of-the-redis-password@cache:6379/0",
		"AWS_ACCESS_KEY_ID": "value-of-the-aws-key-id", "AWS_SECRET_ACCESS_KEY": "value-of-the-aws-secret", "AWS_SESSION_TOKEN": "value-of-the-aws-session",
		"PGPASSWORD": "value-of-the-pg-password", "HOME": "/home/value-of-home", "HTTPS_PROXY": "http://proxy.internal:3128", "TZ": "Europe/Paris",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	environ := func(t *testing.T, o drivers.Options) map[string]string {
		t.Helper()
		m := newManager(t, o, "")
		var rec *sdk.Record
		err := m.Call(t.Context(), "testdriver", "lookup_customer", func(ctx context.Context, d *sdk.Client) error {
			r, err := d.LookupCustomer(ctx, sdk.Connection{}, sdk.LookupQuery{Email: "env@example.com"})
			rec = r.Customer
			return err
		})
		if err != nil || rec == nil {
			t.Fatalf("env lookup: %v", err)
		}
		out := map[string]string{}
		for _, kv := range strings.Split(rec.Fields["env"].(string), "\x00") {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
		return out
	}
	// go-plugin's own handshake variables; none is a host secret.
	plugin := []string{"CRMHOST_DRIVER_PLUGIN", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT", "PLUGIN_PROTOCOL_VERSIONS", "PLUGIN_CLIENT_CERT"}
	check := func(t *testing.T, env map[string]string, allowed []string) {
		t.Helper()
		for k := range env {
			if !slices.Contains(allowed, k) && !slices.Contains(plugin, k) {
				t.Errorf("the driver inherited %s", k)
			}
		}
		for k, v := range secrets {
			for ek, ev := range env {
				if slices.Contains(allowed, k) {
					continue
				}
				if ek == k || strings.Contains(ev, v) {
					t.Errorf("host variable %s reached the driver (as %s)", k, ek)
				}
			}
		}
		if env["PATH"] != os.Getenv("PATH") || env["TZ"] != "Europe/Paris" {
			t.Errorf("allowlisted PATH/TZ not passed: %q %q", env["PATH"], env["TZ"])
		}
	}
	t.Run("default", func(t *testing.T) {
		env := environ(t, drivers.Options{})
		check(t, env, sdk.BaseDriverEnv)
		if _, ok := env["HTTPS_PROXY"]; ok {
			t.Error("proxy settings passed without the operator opting in")
		}
	})
	t.Run("proxy opted in", func(t *testing.T) {
		env := environ(t, drivers.Options{DriverEnv: append(sdk.ProxyDriverEnv, "DATABASE_URL", "AWS_SECRET_ACCESS_KEY")})
		check(t, env, append(slices.Clone(sdk.BaseDriverEnv), sdk.ProxyDriverEnv...))
		if env["HTTPS_PROXY"] != "http://proxy.internal:3128" {
			t.Errorf("HTTPS_PROXY = %q, want the host's", env["HTTPS_PROXY"])
		}
	})
}

// memCatalog is an in-memory Registrar and Catalog.
type memCatalog struct {
	mu      sync.Mutex
	entries map[string]host.DriverEntry
}

func (c *memCatalog) RegisterDriver(_ context.Context, e host.DriverEntry) (host.DriverEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[e.Slug] = e
	return e, nil
}

func (c *memCatalog) GetDriver(_ context.Context, slug string) (host.DriverEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[slug]
	if !ok {
		return host.DriverEntry{}, host.NotFound("driver %q not found", slug)
	}
	return e, nil
}

// TestRegister: a binary is registered only from the plugin directory, by
// file name, after the host hashed, launched and asked it; every refusal is
// an invalid naming its field and stores nothing.
func TestRegister(t *testing.T) {
	dir := pluginDir(t)
	outside := filepath.Join(t.TempDir(), "crm-driver-outside")
	copyFile(t, testBinary, outside, 0o755)
	if err := os.Symlink(outside, filepath.Join(dir, "crm-driver-link")); err != nil {
		t.Fatal(err)
	}
	copyFile(t, testBinary, filepath.Join(dir, "crm-driver-groupw"), 0o775)
	copyFile(t, testBinary, filepath.Join(dir, "crm-driver-noexec"), 0o644)
	copyFile(t, "/bin/true", filepath.Join(dir, "not-a-driver"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "script"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cat := &memCatalog{entries: map[string]host.DriverEntry{}}
	m := drivers.NewManager(cat, drivers.Options{PluginDir: dir, Aliases: map[string]string{"testdriver-alias": "testdriver"}})
	t.Cleanup(m.Close)

	refusals := []struct{ file, slug, field, says string }{
		{"../" + filepath.Base(filepath.Dir(outside)) + "/crm-driver-outside", "", "file", "not a file name"},
		{outside, "", "file", "not a file name"},
		{"/bin/sh", "", "file", "not a file name"},
		{"..", "", "file", "not a file name"},
		{"", "", "file", "not a file name"},
		{"sh", "", "file", "no file"},
		{"crm-driver-link", "", "file", "symbolic link"},
		{"crm-driver-groupw", "", "file", "writable by group or others"},
		{"crm-driver-noexec", "", "file", "not executable"},
		{"not-a-driver", "", "file", "not a working crmhost driver"},
		{"script", "", "file", "not a working crmhost driver"},
		{"crm-driver-testdriver", "acme", "slug", `not "acme"`},
	}
	for _, r := range refusals {
		t.Run("refuse "+r.file, func(t *testing.T) {
			_, err := m.Register(t.Context(), cat, r.file, r.slug)
			var he *host.Error
			if !errors.As(err, &he) || he.Code != host.CodeInvalid || he.Field != r.field || !strings.Contains(he.Message, r.says) {
				t.Fatalf("Register(%q) = %v, want invalid %s saying %q", r.file, err, r.field, r.says)
			}
			if strings.Contains(he.Message, dir) {
				t.Errorf("refusal %q names the plugin directory's path", he.Message)
			}
			if len(cat.entries) != 0 {
				t.Errorf("a refused registration stored %v", cat.entries)
			}
		})
	}

	t.Run("registers what it hashed and launched", func(t *testing.T) {
		e, err := m.Register(t.Context(), cat, "crm-driver-testdriver", "testdriver")
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := sdk.FileSHA256(testBinary)
		want := host.DriverEntry{Slug: "testdriver", Version: "1.2.3", Command: "crm-driver-testdriver", SHA256: sum, ProtocolVersions: []int{sdk.ProtocolVersion}}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("entry (-want +got):\n%s", diff)
		}
		if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
			t.Fatalf("call to the registered driver: %v", err)
		}
	})

	t.Run("group-writable directory", func(t *testing.T) {
		if err := os.Chmod(dir, 0o775); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		_, err := m.Register(t.Context(), cat, "crm-driver-testdriver", "")
		if host.CodeOf(err) != host.CodeInvalid || !strings.Contains(err.Error(), "plugin directory is writable") {
			t.Fatalf("Register from a group-writable directory: %v", err)
		}
		m.Forget("testdriver")
		if err := lookup(m, t.Context(), "testdriver", "a@example.com"); host.CodeOf(err) != host.CodeDriverUnavailable {
			t.Fatalf("launch from a group-writable directory: %v, want driver_unavailable", err)
		}
	})
}

// TestLegacyCommandOutsidePluginDir: a catalog row naming a binary outside
// the plugin directory (a database writer's /bin/sh, say) is never run.
func TestLegacyCommandOutsidePluginDir(t *testing.T) {
	dir := pluginDir(t)
	sum, _ := sdk.FileSHA256(testBinary)
	for _, cmd := range []string{testBinary, "/bin/sh", filepath.Join(dir, "..", filepath.Base(dir), "..", "x")} {
		cat := &memCatalog{entries: map[string]host.DriverEntry{"testdriver": {Slug: "testdriver", Command: cmd, SHA256: sum}}}
		m := drivers.NewManager(cat, drivers.Options{PluginDir: dir})
		err := lookup(m, t.Context(), "testdriver", "a@example.com")
		m.Close()
		if host.CodeOf(err) != host.CodeDriverUnavailable || strings.Contains(err.Error(), cmd) {
			t.Errorf("command %q: %v, want driver_unavailable naming no path", cmd, err)
		}
	}
	// An absolute path inside the plugin directory (older catalogs) runs.
	cat := &memCatalog{entries: map[string]host.DriverEntry{"testdriver": {Slug: "testdriver", Command: filepath.Join(dir, "crm-driver-testdriver"), SHA256: sum}}}
	m := drivers.NewManager(cat, drivers.Options{PluginDir: dir})
	defer m.Close()
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
		t.Fatalf("absolute command inside the plugin directory: %v", err)
	}
}

// TestExecWhatWasHashed: a binary replaced in the plugin directory after
// the host hashed it is not what runs: the host executes the file it
// opened and hashed.
func TestExecWhatWasHashed(t *testing.T) {
	dir := pluginDir(t)
	path := filepath.Join(dir, "crm-driver-testdriver")
	want, _ := sdk.FileSHA256(path)
	impostor := filepath.Join(dir, ".impostor")
	if err := os.WriteFile(impostor, []byte("#!/bin/sh\necho pwned > "+filepath.Join(dir, "pwned")+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	slug, sum, err := drivers.LaunchSwapped(dir, "crm-driver-testdriver", func() {
		if err := os.Rename(impostor, path); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil || slug != "testdriver" || sum != want {
		t.Fatalf("launch after the swap: slug %q sum %s err %v, want the hashed testdriver", slug, sum, err)
	}
	if now, _ := sdk.FileSHA256(path); now == want {
		t.Fatal("the swap did not happen")
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("the swapped-in file ran")
	}
}

// TestStatus: the operator's view of each driver process.
func TestStatus(t *testing.T) {
	m := newManager(t, drivers.Options{}, "")
	if st := m.Status(); len(st) != 0 {
		t.Fatalf("status before any call = %v, want empty (idle drivers are not listed)", st)
	}
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	st := m.Status()["testdriver"]
	if st.State != drivers.StateRunning || st.PID != m.PID("testdriver") || st.Version != "1.2.3" || st.Starts != 1 {
		t.Fatalf("status = %+v", st)
	}
}
