package drivers_test

import (
	"context"
	"syscall"
	"testing"

	"crmhost.dev/host/drivers"
)

// TestDriverOutsideTheHostsProcessGroup: a signal to the host's process
// group (Ctrl-C, a group SIGTERM) does not reach the driver, which the
// host stops itself on shutdown.
func TestDriverOutsideTheHostsProcessGroup(t *testing.T) {
	m := newManager(t, drivers.Options{}, "")
	if err := lookup(m, context.Background(), "testdriver", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	pid := m.PID("testdriver")
	pgid, err := syscall.Getpgid(pid)
	if err != nil {
		t.Fatal(err)
	}
	if pgid == syscall.Getpgrp() {
		t.Fatalf("driver %d shares the host's process group %d", pid, pgid)
	}
	if pgid != pid {
		t.Errorf("driver %d is in group %d, want a group of its own", pid, pgid)
	}
	m.Close()
	if alive(pid) {
		t.Errorf("driver %d outlived the manager's Close", pid)
	}
}
