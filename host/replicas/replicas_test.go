package replicas_test

import (
	"path/filepath"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/internal/pgtest"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/replicas"
	"crmhost.dev/host/sqlite"
)

// TestCount: replicas sharing a store count each other from their
// heartbeats; one that closes drops out at the others' next beat.
func TestCount(t *testing.T) {
	stores := map[string]func(t *testing.T) host.Store{
		"sqlite": func(t *testing.T) host.Store {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "r.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) host.Store {
			s, err := postgres.Open(t.Context(), pgtest.Database(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			o := replicas.Options{Interval: 20 * time.Millisecond}
			var ts []*replicas.Tracker
			for range 3 {
				tr, err := replicas.Start(t.Context(), s, o)
				if err != nil {
					t.Fatal(err)
				}
				ts = append(ts, tr)
			}
			waitCount(t, ts[0], 3)
			if err := ts[2].Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			waitCount(t, ts[0], 2)
			waitCount(t, ts[1], 2)
			for _, tr := range ts[:2] {
				if err := tr.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.LiveReplicas(t.Context(), time.Time{}); err != nil || n != 0 {
				t.Fatalf("after every replica closed: %d live, %v", n, err)
			}
		})
	}
}

func waitCount(t *testing.T, tr *replicas.Tracker, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for tr.Count() != want {
		if time.Now().After(deadline) {
			t.Fatalf("replica %s counts %d, want %d", tr.ID(), tr.Count(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
