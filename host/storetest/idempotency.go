package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testIdempotency(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "idem")

	claim := host.IdempotencyRecord{TenantID: tn.ID, Key: "k1", RequestHash: "h1", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	running := claim
	running.State = host.IdempotencyRunning

	t.Run("Claim", func(t *testing.T) {
		existing, claimed, err := s.ClaimIdempotency(ctx, claim)
		must(t, "ClaimIdempotency", err)
		if !claimed || existing != nil {
			t.Fatalf("first claim: claimed %v existing %+v, want claimed and no existing", claimed, existing)
		}
		got, err := s.GetIdempotency(ctx, tn.ID, "k1")
		must(t, "GetIdempotency", err)
		diff(t, "GetIdempotency", running, got)
	})

	t.Run("ClaimWhileRunning", func(t *testing.T) {
		again := claim
		again.RequestHash = "h-other"
		again.CreatedAt = at(time.Minute)
		existing, claimed, err := s.ClaimIdempotency(ctx, again)
		must(t, "ClaimIdempotency", err)
		if claimed {
			t.Fatalf("second claim of a live key was claimed")
		}
		diff(t, "existing", &running, existing)
	})

	done := running
	done.State, done.StatusCode, done.Response = host.IdempotencyDone, 201, []byte(`{"external_id":"42"}`)
	t.Run("CompleteAndReplay", func(t *testing.T) {
		must(t, "CompleteIdempotency", s.CompleteIdempotency(ctx, tn.ID, "k1", 201, []byte(`{"external_id":"42"}`)))
		existing, claimed, err := s.ClaimIdempotency(ctx, host.IdempotencyRecord{TenantID: tn.ID, Key: "k1", RequestHash: "h1", CreatedAt: at(2 * time.Minute), ExpiresAt: at(2 * time.Hour)})
		must(t, "ClaimIdempotency", err)
		if claimed {
			t.Fatalf("claim of a done key was claimed")
		}
		diff(t, "existing", &done, existing)
	})

	t.Run("Release", func(t *testing.T) {
		r := host.IdempotencyRecord{TenantID: tn.ID, Key: "k2", RequestHash: "h2", CreatedAt: t0, ExpiresAt: at(time.Hour)}
		_, claimed, err := s.ClaimIdempotency(ctx, r)
		must(t, "ClaimIdempotency", err)
		if !claimed {
			t.Fatalf("fresh key not claimed")
		}
		must(t, "ReleaseIdempotency", s.ReleaseIdempotency(ctx, tn.ID, "k2"))
		_, err = s.GetIdempotency(ctx, tn.ID, "k2")
		wantCode(t, "GetIdempotency after release", err, host.CodeNotFound)
		_, claimed, err = s.ClaimIdempotency(ctx, r)
		must(t, "ClaimIdempotency", err)
		if !claimed {
			t.Errorf("released key not claimable again")
		}
	})

	t.Run("ExpiredIsReplaced", func(t *testing.T) {
		// k1 is done and expires at t0+1h; a claim at exactly that time
		// replaces it with a fresh running claim.
		fresh := host.IdempotencyRecord{TenantID: tn.ID, Key: "k1", RequestHash: "h-new", CreatedAt: at(time.Hour), ExpiresAt: at(3 * time.Hour)}
		existing, claimed, err := s.ClaimIdempotency(ctx, fresh)
		must(t, "ClaimIdempotency", err)
		if !claimed || existing != nil {
			t.Fatalf("claim of an expired key: claimed %v existing %+v, want claimed", claimed, existing)
		}
		got, err := s.GetIdempotency(ctx, tn.ID, "k1")
		must(t, "GetIdempotency", err)
		want := fresh
		want.State = host.IdempotencyRunning
		diff(t, "replaced record (no old response)", want, got)
	})

	t.Run("Stamp", func(t *testing.T) {
		r := host.IdempotencyRecord{TenantID: tn.ID, Key: "k-now", RequestHash: "h", ExpiresAt: time.Now().Add(time.Hour)}
		_, claimed, err := s.ClaimIdempotency(ctx, r)
		must(t, "ClaimIdempotency", err)
		if !claimed {
			t.Fatalf("fresh key not claimed")
		}
		got, err := s.GetIdempotency(ctx, tn.ID, "k-now")
		must(t, "GetIdempotency", err)
		checkStamp(t, "CreatedAt", got.CreatedAt)
	})

	t.Run("Prune", func(t *testing.T) {
		// Live now: k1 (expires t0+3h), k2 (t0+1h), k-now (now+1h).
		for i, d := range []time.Duration{-2 * time.Hour, -time.Hour} {
			_, claimed, err := s.ClaimIdempotency(ctx, host.IdempotencyRecord{TenantID: tn.ID, Key: name("old", i), RequestHash: "h", CreatedAt: at(d - time.Hour), ExpiresAt: at(d)})
			must(t, "ClaimIdempotency", err)
			if !claimed {
				t.Fatalf("old key %d not claimed", i)
			}
		}
		_, err := s.PruneIdempotency(ctx, at(-time.Hour), 0)
		wantCode(t, "PruneIdempotency limit 0", err, host.CodeInvalid)
		n, err := s.PruneIdempotency(ctx, at(-time.Hour), 10)
		must(t, "PruneIdempotency", err)
		diff(t, "pruned before t0-1h (exclusive)", int64(1), n)
		// Two are due (old-01, k2); a batch of one takes the soonest
		// expired, old-01, and the next the other.
		n, err = s.PruneIdempotency(ctx, at(time.Hour+1), 1)
		must(t, "PruneIdempotency", err)
		diff(t, "first batch of one", int64(1), n)
		wantCode(t, "GetIdempotency old-01 after the first batch", get(ctx, s, tn.ID, "old-01"), host.CodeNotFound)
		if err := get(ctx, s, tn.ID, "k2"); err != nil {
			t.Errorf("GetIdempotency k2 after the first batch of one: %v (want it left for the next batch)", err)
		}
		n, err = host.PruneBatches(ctx, 1, func(ctx context.Context, limit int) (int64, error) {
			return s.PruneIdempotency(ctx, at(time.Hour+1), limit)
		})
		must(t, "PruneBatches", err)
		diff(t, "pruned by the remaining batches", int64(1), n)
		for _, k := range []string{"old-00", "old-01", "k2"} {
			_, err := s.GetIdempotency(ctx, tn.ID, k)
			wantCode(t, "GetIdempotency "+k, err, host.CodeNotFound)
		}
		for _, k := range []string{"k1", "k-now"} {
			if _, err := s.GetIdempotency(ctx, tn.ID, k); err != nil {
				t.Errorf("GetIdempotency %s after prune: %v", k, err)
			}
		}
	})

	runErrors(t, []errorCase{
		{"CompleteMissing", func(ctx context.Context) error {
			return s.CompleteIdempotency(ctx, tn.ID, "nosuch", 200, nil)
		}, host.CodeNotFound},
		{"CompleteTwice", func(ctx context.Context) error {
			if err := s.CompleteIdempotency(ctx, tn.ID, "k1", 200, []byte("a")); err != nil {
				return err
			}
			return s.CompleteIdempotency(ctx, tn.ID, "k1", 200, []byte("b"))
		}, host.CodeConflict},
		{"ReleaseDone", func(ctx context.Context) error {
			return s.ReleaseIdempotency(ctx, tn.ID, "k1") // done above
		}, host.CodeNotFound},
		{"ReleaseMissing", func(ctx context.Context) error {
			return s.ReleaseIdempotency(ctx, tn.ID, "nosuch")
		}, host.CodeNotFound},
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetIdempotency(ctx, tn.ID, "nosuch")
			return err
		}, host.CodeNotFound},
		{"ClaimUnknownTenant", func(ctx context.Context) error {
			r := claim
			r.TenantID = "ten_missing"
			_, _, err := s.ClaimIdempotency(ctx, r)
			return err
		}, host.CodeNotFound},
		{"ClaimNoKey", func(ctx context.Context) error {
			r := claim
			r.Key = ""
			_, _, err := s.ClaimIdempotency(ctx, r)
			return err
		}, host.CodeInvalid},
		{"ClaimNoHash", func(ctx context.Context) error {
			r := claim
			r.RequestHash = ""
			_, _, err := s.ClaimIdempotency(ctx, r)
			return err
		}, host.CodeInvalid},
		{"ClaimExpiresBeforeCreated", func(ctx context.Context) error {
			r := claim
			r.Key = "k-bad"
			r.ExpiresAt = r.CreatedAt
			_, _, err := s.ClaimIdempotency(ctx, r)
			return err
		}, host.CodeInvalid},
	})

	t.Run("ReleaseDoneKeepsRecord", func(t *testing.T) {
		got, err := s.GetIdempotency(ctx, tn.ID, "k1")
		must(t, "GetIdempotency", err)
		diff(t, "state", host.IdempotencyDone, got.State)
		diff(t, "response", []byte("a"), got.Response)
	})
}

// testIdempotencyRace has n requests claim one key at once (exactly one
// wins, the others see its running claim), then n claim an expired key at
// once (again exactly one wins).
func testIdempotencyRace(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "idem-race")
	const n = 16

	race := func(t *testing.T, key string, now time.Time) {
		t.Helper()
		var wg sync.WaitGroup
		claimed := make([]bool, n)
		existing := make([]*host.IdempotencyRecord, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				existing[i], claimed[i], errs[i] = s.ClaimIdempotency(ctx, host.IdempotencyRecord{
					TenantID: tn.ID, Key: key, RequestHash: name("h", i), CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
			})
		}
		wg.Wait()
		winner := -1
		for i := range n {
			switch {
			case errs[i] != nil:
				t.Errorf("claimer %d: %v", i, errs[i])
			case claimed[i] && winner >= 0:
				t.Errorf("claimers %d and %d both claimed %q", winner, i, key)
			case claimed[i]:
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("nobody claimed %q", key)
		}
		for i := range n {
			if i == winner || errs[i] != nil {
				continue
			}
			if existing[i] == nil {
				t.Errorf("claimer %d lost but got no existing record", i)
				continue
			}
			diff(t, "existing hash seen by a loser", name("h", winner), existing[i].RequestHash)
			diff(t, "existing state seen by a loser", host.IdempotencyRunning, existing[i].State)
		}
	}

	t.Run("Fresh", func(t *testing.T) { race(t, "race", t0) })
	t.Run("Expired", func(t *testing.T) { race(t, "race", at(2*time.Hour)) })
}

// get is GetIdempotency's error alone.
func get(ctx context.Context, s host.Store, tenantID, key string) error {
	_, err := s.GetIdempotency(ctx, tenantID, key)
	return err
}
