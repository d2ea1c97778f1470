package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"crmhost.dev/dev"
	"github.com/google/go-cmp/cmp"
)

// The test binary plays both parts: crmhost-dev (roleEnv set) and, when
// crmhost-dev runs it as `<host> dev ...`, the host.
const (
	roleEnv     = "CRMHOST_DEV_TEST_MAIN"
	hostExitEnv = "CRMHOST_DEV_TEST_HOST_EXIT"
)

func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "" {
		os.Exit(m.Run())
	}
	if len(os.Args) > 1 && os.Args[1] == "dev" {
		fakeHost()
		return
	}
	main()
}

// hostReport is what the fake host saw.
type hostReport struct {
	Args      []string      `json:"args"`
	Fakes     dev.FakesFile `json:"fakes"`
	FakeCode  int           `json:"fake_code"`
	FakeError string        `json:"fake_error"`
}

// fakeHost records its arguments, fakes.json and whether the fake
// provider answers in <dir>/host.json, then exits with $hostExitEnv, or
// waits for SIGTERM and exits 7.
func fakeHost() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	args := os.Args[1:]
	dir, fakes := args[2], args[6]
	var rep hostReport
	rep.Args = args
	raw, err := os.ReadFile(fakes)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(raw, &rep.Fakes); err != nil {
		panic(err)
	}
	for _, p := range rep.Fakes.Providers {
		req, _ := http.NewRequest(http.MethodGet, p.Credentials["base_url"]+"/crm/v3/objects/contacts?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+p.Credentials["access_token"])
		if resp, err := http.DefaultClient.Do(req); err != nil {
			rep.FakeError = err.Error()
		} else {
			resp.Body.Close()
			rep.FakeCode = resp.StatusCode
		}
	}
	out, _ := json.Marshal(rep)
	if err := os.WriteFile(filepath.Join(dir, "host.json.tmp"), out, 0o600); err != nil {
		panic(err)
	}
	if err := os.Rename(filepath.Join(dir, "host.json.tmp"), filepath.Join(dir, "host.json")); err != nil {
		panic(err)
	}
	if os.Getenv(hostExitEnv) == "" {
		<-sigs
		os.Exit(7)
	}
	os.Exit(3)
}

// start runs the test binary as crmhost-dev with the test binary as host.
func start(t *testing.T, plugins, dir string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-host", os.Args[0], "-plugins", plugins, "-dir", dir, "--", "-addr", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), roleEnv+"=1"), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd
}

func readReport(t *testing.T, dir string) hostReport {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "host.json"))
		if err == nil {
			var rep hostReport
			if err := json.Unmarshal(raw, &rep); err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatal("the host never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func exitCodeOf(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatal("crmhost-dev did not exit")
	}
	return -1
}

func TestRunsHostWithFakesAndForwardsSignals(t *testing.T) {
	plugins, dir := t.TempDir(), filepath.Join(t.TempDir(), ".crmhost")
	if err := os.WriteFile(dev.DriverBinary(plugins, "hubspot"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := start(t, plugins, dir)
	rep := readReport(t, dir)

	fakes := filepath.Join(dir, "fakes.json")
	want := []string{"dev", "-dir", dir, "-plugins", plugins, "-fakes", fakes, "-addr", "127.0.0.1:0"}
	if diff := cmp.Diff(want, rep.Args); diff != "" {
		t.Errorf("host args (-want +got):\n%s", diff)
	}
	if len(rep.Fakes.Providers) != 1 || rep.Fakes.Providers[0].Slug != "hubspot" {
		t.Fatalf("fakes.json providers: %+v", rep.Fakes.Providers)
	}
	if rep.FakeCode != http.StatusOK {
		t.Errorf("the hubspot fake answered the host %d (%s), want 200", rep.FakeCode, rep.FakeError)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCodeOf(t, cmd); code != 7 {
		t.Errorf("exit code %d, want the host's 7", code)
	}
	// The fakes stopped with the host.
	if _, err := http.Get(rep.Fakes.Providers[0].Credentials["base_url"]); err == nil {
		t.Error("the hubspot fake still answers after crmhost-dev exited")
	}
}

func TestNoDriversStillRunsHostAndKeepsItsExitCode(t *testing.T) {
	plugins, dir := t.TempDir(), filepath.Join(t.TempDir(), ".crmhost")
	cmd := start(t, plugins, dir, hostExitEnv+"=1")
	rep := readReport(t, dir)
	if len(rep.Fakes.Providers) != 0 {
		t.Errorf("fakes for missing drivers: %+v", rep.Fakes.Providers)
	}
	if code := exitCodeOf(t, cmd); code != 3 {
		t.Errorf("exit code %d, want the host's 3", code)
	}
}
