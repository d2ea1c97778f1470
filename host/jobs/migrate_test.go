package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/jobs"
	"github.com/hashicorp/go-hclog"
)

// TestMigrateIsExplicit: without Options.Migrate, New changes nothing and
// refuses a database lacking River's tables; Migrate applies them once.
func TestMigrateIsExplicit(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		o := jobs.Options{Store: st, Writer: newFakeCRM()}
		if _, err := jobs.New(t.Context(), o); !errors.Is(err, host.ErrSchemaOutdated) {
			t.Fatalf("New on an unmigrated database: %v, want ErrSchemaOutdated", err)
		}
		if _, err := jobs.New(t.Context(), o); !errors.Is(err, host.ErrSchemaOutdated) {
			t.Fatalf("a second New without Migrate: %v; the first changed the schema", err)
		}
		applied, err := jobs.Migrate(t.Context(), st, nil)
		if err != nil || len(applied) == 0 {
			t.Fatalf("Migrate = %v, %v; want the versions applied", applied, err)
		}
		if again, err := jobs.Migrate(t.Context(), st, nil); err != nil || len(again) != 0 {
			t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
		}
		r, err := jobs.New(t.Context(), o)
		if err != nil {
			t.Fatalf("New on a migrated database: %v", err)
		}
		if err := r.Stop(t.Context()); err != nil {
			t.Error(err)
		}
	})
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

// TestRiverLogsAtDebug: River's own info lines (migrations applied, the
// client started and stopped) appear at debug level, not at info.
func TestRiverLogsAtDebug(t *testing.T) {
	run := func(t *testing.T, level hclog.Level) string {
		var out syncBuffer
		log := hclog.New(&hclog.LoggerOptions{Level: level, Output: &out})
		st := openSQLite(t)
		if _, err := jobs.Migrate(t.Context(), st, log); err != nil {
			t.Fatal(err)
		}
		r, err := jobs.New(t.Context(), jobs.Options{Store: st, Writer: newFakeCRM(), Logger: log, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	info := run(t, hclog.Info)
	if strings.Contains(info, "river") {
		t.Errorf("River logged at info level:\n%s", info)
	}
	debug := run(t, hclog.Debug)
	for _, want := range []string{"Applied migration", "River client started", "River client stopped"} {
		if !strings.Contains(debug, "[DEBUG] river: "+want) && !strings.Contains(debug, want) {
			t.Errorf("debug log lacks %q:\n%s", want, debug)
		}
	}
	if !strings.Contains(debug, "[DEBUG]") || strings.Contains(debug, "[INFO]  river") {
		t.Errorf("River's lines are not at debug level:\n%s", debug)
	}
}
