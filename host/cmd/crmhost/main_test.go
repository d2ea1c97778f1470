package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The binaries TestMain builds, once for every test of the package: the
// host (binary), run as a user would, and the in-memory test driver
// (memBin) that `crmhost driver register` registers.
var binary, memBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "crmhost-cli-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	binary, memBin = filepath.Join(dir, "crmhost"), filepath.Join(dir, "crm-driver-mem")
	for bin, pkg := range map[string]string{
		binary: "crmhost.dev/host/cmd/crmhost",
		memBin: "crmhost.dev/host/internal/memdriver/cmd/crm-driver-mem",
	} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			os.Stderr.Write(out)
			panic(err)
		}
	}
	return m.Run()
}

// TestHelp: every command and subcommand answers --help with exit 0 and
// its usage on stdout (driver register --help once tried to open a file
// named crm-driver---help).
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"dev", "--help"}, {"migrate", "--help"},
		{"driver", "--help"}, {"driver", "register", "--help"}, {"driver", "list", "--help"}, {"driver", "remove", "--help"},
		{"tenant", "--help"}, {"tenant", "create", "--help"}, {"tenant", "list", "--help"},
		{"apikey", "--help"}, {"apikey", "create", "--help"}, {"apikey", "list", "--help"}, {"apikey", "revoke", "--help"},
		{"operator", "--help"}, {"operator", "create", "--help"}, {"operator", "list", "--help"}, {"operator", "revoke", "--help"},
		{"token", "--help"}, {"secrets", "--help"}, {"secrets", "genkey", "--help"}, {"secrets", "rotate", "-h"},
		{"install-completions", "--help"}} {
		out, err := exec.Command(binary, args...).Output()
		if err != nil || !strings.Contains(string(out), "Usage: crmhost") {
			t.Errorf("crmhost %s: %v, output %q", strings.Join(args, " "), err, out)
		}
	}
	// Completion: the shell sets COMP_LINE and runs the binary.
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), "COMP_LINE=crmhost driver re")
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "register") || !strings.Contains(string(out), "remove") {
		t.Errorf("completion of %q: %v, %q", "crmhost driver re", err, out)
	}
}
