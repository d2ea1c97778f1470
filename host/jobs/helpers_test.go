package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host/internal/pgtest"

	"crmhost.dev/host"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/sqlite"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
)

// forEachStore runs test against a fresh SQLite file and a fresh
// PostgreSQL database. Without CRMHOST_TEST_POSTGRES_URL the PostgreSQL
// case is skipped, unless CI is set: there it fails.
func forEachStore(t *testing.T, test func(t *testing.T, st host.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, openSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, openPostgres(t))
	})
}

func openSQLite(t *testing.T) host.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crmhost.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t *testing.T) host.Store {
	t.Helper()
	u := pgtest.Database(t)
	st, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	// Registered after the drop, so it runs before it.
	t.Cleanup(func() { st.Close() })
	return st
}

// exec runs a statement on the store's database.
func exec(t *testing.T, st host.Store, sql string) {
	t.Helper()
	var err error
	switch s := st.(type) {
	case *sqlite.Store:
		_, err = s.DB().ExecContext(t.Context(), sql)
	case *postgres.Store:
		_, err = s.Pool().Exec(t.Context(), sql)
	}
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// count runs a count(*) query on the store's database.
func count(t *testing.T, st host.Store, sql string) int {
	t.Helper()
	var n int
	var err error
	switch s := st.(type) {
	case *sqlite.Store:
		err = s.DB().QueryRowContext(t.Context(), sql).Scan(&n)
	case *postgres.Store:
		err = s.Pool().QueryRow(t.Context(), sql).Scan(&n)
	}
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// fast are options that make retries and polling quick, on a database
// New migrates.
func fast(o jobs.Options) jobs.Options {
	o.Migrate = true
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
	}
	if o.Logger == nil {
		o.Logger = hclog.New(&hclog.LoggerOptions{Name: "jobs", Level: hclog.LevelFromString(os.Getenv("JOBS_TEST_LOG")), Output: testWriter{}})
	}
	return o
}

// testWriter discards logs; set JOBS_TEST_LOG to see them.
type testWriter struct{}

func (testWriter) Write(p []byte) (int, error) {
	if os.Getenv("JOBS_TEST_LOG") != "" {
		return os.Stderr.Write(p)
	}
	return len(p), nil
}

// newRunner returns a runner (not started) that is stopped when the test
// ends.
func newRunner(t *testing.T, o jobs.Options) *jobs.Runner {
	t.Helper()
	r, err := jobs.New(t.Context(), fast(o))
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

func start(t *testing.T, r *jobs.Runner) {
	t.Helper()
	if err := r.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func stop(t *testing.T, r *jobs.Runner, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func tenant(t *testing.T, st host.Store) string {
	t.Helper()
	tn, err := st.CreateTenant(t.Context(), host.Tenant{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func enqueue(t *testing.T, r *jobs.Runner, tenantID string) host.Lead {
	t.Helper()
	l, err := r.EnqueueLead(t.Context(), host.Lead{TenantID: tenantID, Fields: map[string]any{"email": "ada@example.com"}})
	if err != nil {
		t.Fatalf("EnqueueLead: %v", err)
	}
	if l.Status != host.LeadPending || l.Attempts != 0 {
		t.Fatalf("enqueued lead %+v, want pending with no attempts", l)
	}
	return l
}

// waitLead polls until the lead leaves pending, and returns it.
func waitLead(t *testing.T, st host.Store, l host.Lead) host.Lead {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := st.GetLead(t.Context(), l.TenantID, l.ID)
		if err != nil {
			t.Fatalf("GetLead: %v", err)
		}
		if got.Status != host.LeadPending {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("lead %s still pending after 30s: %+v", l.ID, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errLost makes the fake CRM apply the write and then fail, as when the
// response is lost on the way back.
var errLost = errors.New("lost response")

// call is one WriteLead call the fake CRM saw.
type call struct {
	leadID string
	at     time.Time
}

// fakeCRM is a LeadWriter that dedupes creates by idempotency key (the
// lead's ID), like a conforming driver, and fails as scripted.
type fakeCRM struct {
	mu      sync.Mutex
	script  []error // the error of call i; nil or past the end: success
	calls   []call
	records map[string]string // idempotency key -> external ID
	// block, when set, makes the first call wait for its context to end
	// (and closes started when it begins).
	block   bool
	started chan struct{}
}

func newFakeCRM(script ...error) *fakeCRM {
	return &fakeCRM{script: script, records: map[string]string{}, started: make(chan struct{})}
}

func (f *fakeCRM) WriteLead(ctx context.Context, l host.Lead) (string, string, error) {
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, call{leadID: l.ID, at: time.Now()})
	var err error
	if n < len(f.script) {
		err = f.script[n]
	}
	block := f.block && n == 0
	f.mu.Unlock()
	if block {
		close(f.started)
		<-ctx.Done()
		return "", "", sdk.Errorf(sdk.CodeUnavailable, "cancelled: %v", ctx.Err())
	}
	if err != nil && !errors.Is(err, errLost) {
		return "", "", err
	}
	f.mu.Lock()
	ext, ok := f.records[l.ID]
	if !ok {
		ext = fmt.Sprintf("crm-%d", len(f.records)+1)
		f.records[l.ID] = ext
	}
	f.mu.Unlock()
	if err != nil {
		return "", "", sdk.Errorf(sdk.CodeUnavailable, "the connection dropped before the provider answered")
	}
	return ext, "https://crm.example/" + ext, nil
}

func (f *fakeCRM) snapshot() ([]call, map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	recs := map[string]string{}
	for k, v := range f.records {
		recs[k] = v
	}
	return append([]call(nil), f.calls...), recs
}
