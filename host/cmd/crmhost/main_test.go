package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
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
