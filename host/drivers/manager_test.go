package drivers_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/drivers"
	"crmhost.dev/sdk"
)

var testBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crmhost-drivers-test")
	if err != nil {
		panic(err)
	}
	testBinary = filepath.Join(dir, "crm-driver-testdriver")
	out, err := exec.Command("go", "build", "-o", testBinary, "crmhost.dev/host/drivers/internal/testdriver").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type catalog struct {
	mu      sync.Mutex
	entries map[string]host.DriverEntry
}

func (c *catalog) GetDriver(_ context.Context, slug string) (host.DriverEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[slug]
	if !ok {
		return host.DriverEntry{}, host.NotFound("driver %q not found", slug)
	}
	return e, nil
}

func newManager(t *testing.T, o drivers.Options, sum string) *drivers.Manager {
	t.Helper()
	if sum == "" {
		var err error
		if sum, err = sdk.FileSHA256(testBinary); err != nil {
			t.Fatal(err)
		}
	}
	c := &catalog{entries: map[string]host.DriverEntry{"testdriver": {Slug: "testdriver", Command: filepath.Base(testBinary), SHA256: sum}}}
	o.Aliases = map[string]string{"alias": "testdriver"}
	if o.PluginDir == "" {
		o.PluginDir = filepath.Dir(testBinary)
	}
	m := drivers.NewManager(c, o)
	t.Cleanup(m.Close)
	return m
}

func lookup(m *drivers.Manager, ctx context.Context, slug, email string) error {
	return m.Call(ctx, slug, "lookup_customer", func(ctx context.Context, d *sdk.Client) error {
		_, err := d.LookupCustomer(ctx, sdk.Connection{}, sdk.LookupQuery{Email: email})
		return err
	})
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func TestLazyStartDescribeAndAlias(t *testing.T) {
	m := newManager(t, drivers.Options{}, "")
	if pid := m.PID("testdriver"); pid != 0 {
		t.Fatalf("driver running before first use (pid %d)", pid)
	}
	d, err := m.Describe(t.Context(), "alias")
	if err != nil {
		t.Fatal(err)
	}
	if d.Slug != "testdriver" || d.DriverVersion != "1.2.3" {
		t.Fatalf("describe = %+v", d)
	}
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := lookup(m, t.Context(), "nope", "a@example.com"); host.CodeOf(err) != host.CodeNotFound {
		t.Fatalf("unregistered slug: %v", err)
	}
}

func TestChecksumMismatchRefused(t *testing.T) {
	wrong := strings.Repeat("ab", 32)
	m := newManager(t, drivers.Options{}, wrong)
	err := lookup(m, t.Context(), "testdriver", "a@example.com")
	if host.CodeOf(err) != host.CodeDriverUnavailable || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("mismatched checksum: %v", err)
	}
	// What reaches a tenant names neither the binary's path nor a hash;
	// the operator's status does.
	got, _ := sdk.FileSHA256(testBinary)
	for _, leak := range []string{testBinary, filepath.Dir(testBinary), wrong, got} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("tenant-facing error %q carries %q", err, leak)
		}
	}
	if st := m.Status()["testdriver"]; st.State != drivers.StateRestarting || !strings.Contains(st.LastError, got) {
		t.Errorf("operator status %+v, want restarting with the checksums", st)
	}
	if m.PID("testdriver") != 0 {
		t.Fatal("a driver with a bad checksum was launched")
	}
}

func TestKilledMidRequestThenRestarts(t *testing.T) {
	m := newManager(t, drivers.Options{Backoff: 50 * time.Millisecond, WatchInterval: 20 * time.Millisecond}, "")
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	pid := m.PID("testdriver")
	errc := make(chan error, 1)
	go func() { errc <- lookup(m, t.Context(), "testdriver", "sleep@example.com") }()
	time.Sleep(200 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if host.CodeOf(err) != host.CodeDriverUnavailable {
			t.Fatalf("in-flight call got %v, want driver_unavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight call did not return after SIGKILL")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if np := m.PID("testdriver"); np != 0 && np != pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("driver was not restarted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
		t.Fatalf("call after restart: %v", err)
	}
}

func TestExitAndPanic(t *testing.T) {
	m := newManager(t, drivers.Options{Backoff: 20 * time.Millisecond, WatchInterval: 20 * time.Millisecond}, "")
	if err := lookup(m, t.Context(), "testdriver", "panic@example.com"); sdk.CodeOf(err) != sdk.CodeInternal {
		t.Fatalf("panic: %v", err)
	}
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
		t.Fatalf("after panic: %v", err)
	}
	if err := lookup(m, t.Context(), "testdriver", "exit@example.com"); host.CodeOf(err) != host.CodeDriverUnavailable {
		t.Fatalf("exit: %v", err)
	}
	var err error
	for i := 0; i < 100; i++ {
		if err = lookup(m, t.Context(), "testdriver", "a@example.com"); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never recovered after exit: %v", err)
}

func TestConcurrencyBoundAndDeadline(t *testing.T) {
	m := newManager(t, drivers.Options{MaxConcurrent: 1, CallTimeout: 2 * time.Second}, "")
	start := time.Now()
	err := lookup(m, t.Context(), "testdriver", "sleep@example.com")
	if err == nil || time.Since(start) > 6*time.Second {
		t.Fatalf("call past CallTimeout: %v after %v", err, time.Since(start))
	}
	go lookup(m, t.Context(), "testdriver", "sleep@example.com")
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = lookup(m, ctx, "testdriver", "a@example.com")
	if host.CodeOf(err) != host.CodeDriverUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("over the concurrency bound: %v", err)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	m := newManager(t, drivers.Options{}, "")
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	pid := m.PID("testdriver")
	if !alive(pid) {
		t.Fatalf("pid %d not alive", pid)
	}
	m.Close()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if time.Now().After(deadline) {
			t.Fatalf("driver pid %d still running after Close", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := lookup(m, t.Context(), "testdriver", "a@example.com"); host.CodeOf(err) != host.CodeDriverUnavailable {
		t.Fatalf("call after Close: %v", err)
	}
}

func TestUnregisteredSlugStaysNotFound(t *testing.T) {
	m := newManager(t, drivers.Options{Backoff: time.Hour}, "")
	for i := 0; i < 3; i++ {
		if err := lookup(m, t.Context(), "nosuch", "a@example.com"); host.CodeOf(err) != host.CodeNotFound {
			t.Fatalf("attempt %d: %v, want not_found every time (no back-off)", i, err)
		}
	}
}

// TestEgressAllowReachesTheDriver shows Options.EgressAllow arriving in the
// driver's call context (through the call envelope), and a caller's own
// allowlist taking precedence.
func TestEgressAllowReachesTheDriver(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	egress := func(m *drivers.Manager, ctx context.Context) string {
		t.Helper()
		var got string
		err := m.Call(ctx, "testdriver", "lookup_customer", func(ctx context.Context, d *sdk.Client) error {
			r, err := d.LookupCustomer(ctx, sdk.Connection{}, sdk.LookupQuery{Email: "egress@example.com"})
			if err == nil {
				got, _ = r.Customer.Fields["egress_allow"].(string)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := egress(newManager(t, drivers.Options{}, ""), t.Context()); got != "" {
		t.Errorf("without EgressAllow the driver saw %q, want none", got)
	}
	m := newManager(t, drivers.Options{EgressAllow: loopback}, "")
	if got := egress(m, t.Context()); got != "127.0.0.0/8,::1/128" {
		t.Errorf("with EgressAllow the driver saw %q", got)
	}
	own := sdk.WithEgressAllow(t.Context(), []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	if got := egress(m, own); got != "10.0.0.0/8" {
		t.Errorf("with the caller's own allowlist the driver saw %q", got)
	}
}
