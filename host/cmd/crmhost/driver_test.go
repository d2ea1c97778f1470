package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"crmhost.dev/host/sqlite"
)

// TestDriverRegisterAs: a slug served by another slug's binary (a provider
// behind a configurable bridge's partner-side adapter) is catalog data:
// `driver register --as` stores an entry of its own naming the binary,
// beside the binary's own entry, and removing one leaves the other. A bad
// slug is refused.
func TestDriverRegisterAs(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	register := func(args ...string) string {
		t.Helper()
		out, errOut, code := runWith(t, env, append([]string{"driver", "register"}, args...)...)
		if code != 0 {
			t.Fatalf("driver register %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	register("mem")
	if out := register("--as", "memalias", filepath.Base(memBin)); !strings.Contains(out, "registered memalias") {
		t.Errorf("register --as printed %q", out)
	}
	var dataDir string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "CRMHOST_DATA_DIR="); ok {
			dataDir = v
		}
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dataDir, "crmhost.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	own, err := store.GetDriver(ctx, "mem")
	if err != nil {
		t.Fatal(err)
	}
	alias, err := store.GetDriver(ctx, "memalias")
	if err != nil {
		t.Fatal(err)
	}
	if alias.Command != own.Command || alias.SHA256 != own.SHA256 || alias.Version != own.Version {
		t.Errorf("alias entry %+v, want the binary of %+v", alias, own)
	}
	if _, errOut, code := runWith(t, env, "driver", "remove", "mem"); code != 0 {
		t.Fatal(errOut)
	}
	if _, err := store.GetDriver(ctx, "memalias"); err != nil {
		t.Errorf("the alias went with the binary's own entry: %v", err)
	}
	for bad, says := range map[string]string{"--as|Open Table|mem": "slug", "--as|mem": "<file>"} {
		args := append([]string{"driver", "register"}, strings.Split(bad, "|")...)
		if _, errOut, code := runWith(t, env, args...); code == 0 || !strings.Contains(errOut, says) {
			t.Errorf("crmhost %v: exit %d, stderr %q; want a refusal naming %s", args, code, errOut, says)
		}
	}
}
