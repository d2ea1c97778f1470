package drivers_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

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

// TestCloseLogsNoCrash: the processes a Close stops are not reported as
// drivers that crashed (the watcher sees them exit while Close holds
// them).
func TestCloseLogsNoCrash(t *testing.T) {
	var out syncBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Debug})
	for i := range 20 {
		m := newManager(t, drivers.Options{Logger: log, WatchInterval: time.Millisecond}, "")
		if err := lookup(m, context.Background(), "testdriver", "a@example.com"); err != nil {
			t.Fatal(err)
		}
		m.Close()
		if strings.Contains(out.String(), "[ERROR]") {
			t.Fatalf("close %d logged an error:\n%s", i, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
