package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/jobs"
	"crmhost.dev/host/sqlite"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

// A write that fails twice as unavailable (the second time after the CRM
// applied it: a lost response) and then succeeds leaves one CRM record and
// a written lead with three attempts.
func TestTransientFailuresRetryThenWrite(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		crm := newFakeCRM(sdk.Errorf(sdk.CodeUnavailable, "the provider answered 503"), errLost)
		r := newRunner(t, jobs.Options{Store: st, Writer: crm})
		start(t, r)
		l := enqueue(t, r, tenant(t, st))

		got := waitLead(t, st, l)
		if got.Status != host.LeadWritten || got.Attempts != 3 || got.ExternalID != "crm-1" ||
			got.RecordURL != "https://crm.example/crm-1" || got.LastError != "" || got.WrittenAt == nil {
			t.Errorf("lead after two transient failures: %+v", got)
		}
		calls, records := crm.snapshot()
		if len(calls) != 3 {
			t.Errorf("%d writes, want 3", len(calls))
		}
		for i, c := range calls {
			if c.leadID != l.ID {
				t.Errorf("write %d used idempotency key %q, want the lead ID %q", i, c.leadID, l.ID)
			}
		}
		if diff := cmp.Diff(map[string]string{l.ID: "crm-1"}, records); diff != "" {
			t.Errorf("CRM records (-want +got):\n%s", diff)
		}
	})
}

// A permanent error fails the lead at once, with the error recorded, and
// is not retried.
func TestPermanentErrorFailsAtOnce(t *testing.T) {
	errs := []struct {
		name string
		err  error
	}{
		{"invalid", sdk.Invalid("fields.email", "is not an email address")},
		{"auth_error", sdk.Errorf(sdk.CodeAuth, "api key revoked")},
		{"not_connected", host.Errorf(host.CodeNotConnected, "tenant must reconnect its CRM")},
		{"unsupported", sdk.Errorf(sdk.CodeUnsupported, "no lead object")},
	}
	forEachStore(t, func(t *testing.T, st host.Store) {
		for _, tc := range errs {
			t.Run(tc.name, func(t *testing.T) {
				crm := newFakeCRM(tc.err, tc.err, tc.err)
				r := newRunner(t, jobs.Options{Store: st, Writer: crm})
				start(t, r)
				l := enqueue(t, r, tenant(t, st))
				got := waitLead(t, st, l)
				if got.Status != host.LeadFailed || got.Attempts != 1 || got.LastError != tc.err.Error() {
					t.Errorf("lead after %s: %+v, want failed after 1 attempt with LastError %q", tc.name, got, tc.err.Error())
				}
				stop(t, r, 10*time.Second) // settles any retry that would have been due
				if calls, _ := crm.snapshot(); len(calls) != 1 {
					t.Errorf("%d writes, want 1", len(calls))
				}
			})
		}
	})
}

// Transient failures up to MaxAttempts fail the lead with the last error.
func TestRetriesExhaustedFail(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		down := sdk.Errorf(sdk.CodeUnavailable, "the provider answered 503")
		crm := newFakeCRM(down, down, down, down, down)
		r := newRunner(t, jobs.Options{Store: st, Writer: crm, MaxAttempts: 3})
		start(t, r)
		l := enqueue(t, r, tenant(t, st))
		got := waitLead(t, st, l)
		if got.Status != host.LeadFailed || got.Attempts != 3 || got.LastError != down.Error() {
			t.Errorf("lead after 3 failed attempts: %+v", got)
		}
		stop(t, r, 10*time.Second)
		if calls, _ := crm.snapshot(); len(calls) != 3 {
			t.Errorf("%d writes, want 3", len(calls))
		}
	})
}

// A rate-limited write is retried no sooner than the provider's
// Retry-After, even when the backoff is shorter.
func TestRateLimitedHonoursRetryAfter(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		const wait = 500 * time.Millisecond
		crm := newFakeCRM(sdk.RateLimited(wait, "slow down"))
		r := newRunner(t, jobs.Options{Store: st, Writer: crm})
		start(t, r)
		l := enqueue(t, r, tenant(t, st))
		got := waitLead(t, st, l)
		if got.Status != host.LeadWritten || got.Attempts != 2 {
			t.Errorf("lead after a rate limit: %+v", got)
		}
		calls, _ := crm.snapshot()
		if len(calls) != 2 {
			t.Fatalf("%d writes, want 2", len(calls))
		}
		if gap := calls[1].at.Sub(calls[0].at); gap < wait {
			t.Errorf("retried %s after a rate limit asking for %s", gap, wait)
		}
	})
}

// A job enqueued by a runner that stops before working it runs when a new
// runner starts on the same database.
func TestJobSurvivesRestart(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		first := newFakeCRM()
		r1 := newRunner(t, jobs.Options{Store: st, Writer: first})
		l := enqueue(t, r1, tenant(t, st))
		stop(t, r1, 10*time.Second)

		second := newFakeCRM()
		r2 := newRunner(t, jobs.Options{Store: st, Writer: second})
		start(t, r2)
		got := waitLead(t, st, l)
		if got.Status != host.LeadWritten || got.Attempts != 1 {
			t.Errorf("lead after restart: %+v", got)
		}
		if calls, _ := first.snapshot(); len(calls) != 0 {
			t.Errorf("the stopped runner wrote %d times", len(calls))
		}
		if calls, _ := second.snapshot(); len(calls) != 1 {
			t.Errorf("the new runner wrote %d times, want 1", len(calls))
		}
	})
}

// A write interrupted by a stop whose deadline passes is cancelled, not
// counted, and done by the next runner.
func TestInterruptedJobRunsAgain(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		stuck := newFakeCRM()
		stuck.block = true
		r1 := newRunner(t, jobs.Options{Store: st, Writer: stuck})
		start(t, r1)
		l := enqueue(t, r1, tenant(t, st))
		select {
		case <-stuck.started:
		case <-time.After(30 * time.Second):
			t.Fatal("the write never started")
		}
		stop(t, r1, 200*time.Millisecond) // cancels the stuck write
		if got, err := st.GetLead(t.Context(), l.TenantID, l.ID); err != nil || got.Status != host.LeadPending || got.Attempts != 0 {
			t.Fatalf("lead after an interrupted write: %+v, %v; want pending, no attempt", got, err)
		}

		crm := newFakeCRM()
		r2 := newRunner(t, jobs.Options{Store: st, Writer: crm})
		start(t, r2)
		got := waitLead(t, st, l)
		if got.Status != host.LeadWritten || got.Attempts != 1 {
			t.Errorf("lead after restart: %+v", got)
		}
	})
}

// EnqueueLead stores the lead and its job in one transaction: neither
// exists without the other.
func TestEnqueueIsAtomic(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		r := newRunner(t, jobs.Options{Store: st, Writer: newFakeCRM()})
		ten := tenant(t, st)
		const jobs = `SELECT count(*) FROM river_job WHERE kind = 'write_lead'`

		_, err := r.EnqueueLead(t.Context(), host.Lead{TenantID: "ten_missing", Fields: map[string]any{"a": "b"}})
		if host.CodeOf(err) != host.CodeNotFound {
			t.Errorf("EnqueueLead for a missing tenant: %v, want not_found", err)
		}
		_, err = r.EnqueueLead(t.Context(), host.Lead{TenantID: ten})
		if host.CodeOf(err) != host.CodeInvalid {
			t.Errorf("EnqueueLead without fields: %v, want invalid", err)
		}
		if n := count(t, st, jobs); n != 0 {
			t.Errorf("%d jobs enqueued for refused leads", n)
		}

		l := enqueue(t, r, ten)
		if n := count(t, st, jobs); n != 1 {
			t.Errorf("%d jobs after one lead, want 1", n)
		}

		// The enqueue fails: the lead is not stored either.
		exec(t, st, `ALTER TABLE river_job RENAME TO river_job_away`)
		_, err = r.EnqueueLead(t.Context(), host.Lead{TenantID: ten, Fields: map[string]any{"a": "b"}})
		exec(t, st, `ALTER TABLE river_job_away RENAME TO river_job`)
		if err == nil || !strings.Contains(err.Error(), "enqueue") {
			t.Errorf("EnqueueLead with the queue broken: %v, want the enqueue's error", err)
		}
		leads, err := st.ListLeads(t.Context(), ten, host.LeadFilter{})
		if err != nil || len(leads) != 1 || leads[0].ID != l.ID {
			t.Errorf("leads after a failed enqueue: %v, %v; want only %s", leads, err, l.ID)
		}
	})
}

// The periodic prune deletes expired idempotency keys and keeps live ones.
func TestPruneIdempotency(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		ten := tenant(t, st)
		now := time.Now()
		for key, exp := range map[string]time.Time{"old-1": now.Add(-time.Hour), "old-2": now.Add(-time.Minute), "live": now.Add(time.Hour)} {
			_, claimed, err := st.ClaimIdempotency(t.Context(), host.IdempotencyRecord{TenantID: ten, Key: key, RequestHash: "h",
				CreatedAt: exp.Add(-24 * time.Hour), ExpiresAt: exp})
			if err != nil || !claimed {
				t.Fatalf("ClaimIdempotency %s: %v, %v", key, claimed, err)
			}
		}
		r := newRunner(t, jobs.Options{Store: st, Writer: newFakeCRM(), PruneInterval: time.Hour})
		start(t, r) // a prune runs on start, then hourly
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err1 := st.GetIdempotency(t.Context(), ten, "old-1")
			_, err2 := st.GetIdempotency(t.Context(), ten, "old-2")
			if host.CodeOf(err1) == host.CodeNotFound && host.CodeOf(err2) == host.CodeNotFound {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("expired keys not pruned after 30s: %v, %v", err1, err2)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := st.GetIdempotency(t.Context(), ten, "live"); err != nil {
			t.Errorf("live key: %v", err)
		}
	})
}

// The periodic audit prune deletes entries older than the retention, in
// batches smaller than the backlog, and keeps the newer ones.
func TestPruneAudit(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		now := time.Now()
		var entries []host.AuditEntry
		for i := range 25 { // 20 past a 24h retention, 5 within it
			age := 48 * time.Hour
			if i >= 20 {
				age = time.Hour
			}
			entries = append(entries, host.AuditEntry{At: now.Add(-age), ActorType: host.ActorSystem, Action: "test.prune", Outcome: host.OutcomeOK,
				RequestID: fmt.Sprint("req-", i)})
		}
		if err := st.AppendAudits(t.Context(), entries); err != nil {
			t.Fatal(err)
		}
		r := newRunner(t, jobs.Options{Store: st, Writer: newFakeCRM(), AuditRetention: 24 * time.Hour, PruneBatch: 3})
		start(t, r) // a prune runs on start, then hourly
		deadline := time.Now().Add(30 * time.Second)
		for {
			left, err := st.ListAudit(t.Context(), host.AuditFilter{Action: "test.prune"})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) == 5 {
				for _, e := range left {
					if now.Sub(e.At) > 2*time.Hour {
						t.Errorf("entry %s of %s was kept past the retention", e.RequestID, e.At)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d audit entries left after 30s, want the 5 within the retention", len(left))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// A lead whose tenant is deleted before its write ends its job quietly.
func TestLeadOfDeletedTenant(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		crm := newFakeCRM()
		r := newRunner(t, jobs.Options{Store: st, Writer: crm})
		ten := tenant(t, st)
		enqueue(t, r, ten)
		if err := st.DeleteTenant(t.Context(), ten); err != nil {
			t.Fatal(err)
		}
		start(t, r)
		deadline := time.Now().Add(30 * time.Second)
		for count(t, st, `SELECT count(*) FROM river_job WHERE kind = 'write_lead' AND state = 'cancelled'`) != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the job of a deleted lead was not cancelled")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if calls, _ := crm.snapshot(); len(calls) != 0 {
			t.Errorf("%d writes of a deleted lead", len(calls))
		}
	})
}

// Runners created at once on a fresh database, as replicas starting
// together, all apply River's migrations without tripping on each other.
func TestNewConcurrently(t *testing.T) {
	forEachStore(t, func(t *testing.T, st host.Store) {
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r, err := jobs.New(t.Context(), fast(jobs.Options{Store: st, Writer: newFakeCRM()}))
				if err == nil {
					err = r.Stop(t.Context())
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("New %d: %v", i, err)
			}
		}
		if got := count(t, st, `SELECT count(*) FROM river_migration`); got == 0 || got != count(t, st, `SELECT count(DISTINCT version) FROM river_migration`) {
			t.Errorf("river_migration has %d rows, want one per version", got)
		}
	})
}

// Runners of several processes opening one new SQLite file at once (here:
// several stores on it) apply River's migrations once.
func TestNewConcurrentlySharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	const n = 3
	stores := make([]*sqlite.Store, n)
	for i := range stores {
		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			r, err := jobs.New(t.Context(), fast(jobs.Options{Store: st, Writer: newFakeCRM()}))
			if err == nil {
				err = r.Stop(t.Context())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("New %d: %v", i, err)
		}
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{sdk.Errorf(sdk.CodeUnavailable, "x"), true},
		{sdk.RateLimited(time.Second, "x"), true},
		{&sdk.Error{Code: sdk.CodeUnavailable, Cause: sdk.ErrDriverUnavailable}, true},
		{host.Errorf(host.CodeDriverUnavailable, "x"), true},
		{sdk.Errorf(sdk.CodeInternal, "x"), true},
		{context.DeadlineExceeded, true},
		{errors.New("connection reset"), true},
		{sdk.Invalid("fields.email", "x"), false},
		{sdk.Errorf(sdk.CodeAuth, "x"), false},
		{sdk.Errorf(sdk.CodeConflict, "x"), false},
		{sdk.Errorf(sdk.CodeNotFound, "x"), false},
		{sdk.Errorf(sdk.CodeDeleteUnsupported, "x"), false},
		{sdk.Errorf(sdk.CodeUnsupported, "x"), false},
		{host.Errorf(host.CodeNotConnected, "x"), false},
		{host.Errorf(host.CodeInvalid, "x"), false},
	}
	for _, tc := range tests {
		if got := jobs.Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestOptionsRefused(t *testing.T) {
	st := openSQLite(t)
	w := newFakeCRM()
	tests := []struct {
		name string
		o    jobs.Options
	}{
		{"NoStore", jobs.Options{Writer: w}},
		{"NoWriter", jobs.Options{Store: st}},
		{"NegativeAttempts", jobs.Options{Store: st, Writer: w, MaxAttempts: -1}},
		{"AbsurdAttempts", jobs.Options{Store: st, Writer: w, MaxAttempts: 1 << 20}},
		{"NegativeWorkers", jobs.Options{Store: st, Writer: w, Workers: -3}},
		{"AbsurdWorkers", jobs.Options{Store: st, Writer: w, Workers: 1 << 20}},
		{"NegativePrune", jobs.Options{Store: st, Writer: w, PruneInterval: -time.Second}},
		{"NegativeAuditRetention", jobs.Options{Store: st, Writer: w, AuditRetention: -time.Hour}},
		{"NegativePruneBatch", jobs.Options{Store: st, Writer: w, PruneBatch: -1}},
		{"TinyPoll", jobs.Options{Store: st, Writer: w, PollInterval: time.Nanosecond}},
		{"ForeignStore", jobs.Options{Store: otherStore{st}, Writer: w}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := jobs.New(t.Context(), tc.o)
			if host.CodeOf(err) != host.CodeInvalid || r != nil {
				t.Errorf("New = %v, %v; want a CodeInvalid error", r, err)
			}
		})
	}
}

// otherStore is a host.Store River cannot run on.
type otherStore struct{ host.Store }
