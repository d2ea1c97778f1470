package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
)

// testOAuth covers connect-flow states, the refresh journal and the
// refresh lock.
func testOAuth(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "oauth")

	t.Run("StatesAreSingleUse", func(t *testing.T) {
		st := host.OAuthState{StateHash: "hash-1", TenantID: tn.ID, Provider: "alpha", ActorID: "ops@example.com",
			Config: map[string]string{"dc": "eu"}, CodeVerifier: "verifier", RedirectURI: "https://host.example/oauth/callback",
			ReturnTo: "https://console.example/t", CreatedAt: t0, ExpiresAt: at(10 * time.Minute)}
		must(t, "CreateOAuthState", s.CreateOAuthState(ctx, st))
		wantCode(t, "CreateOAuthState twice", s.CreateOAuthState(ctx, st), host.CodeConflict)
		// Of concurrent takes, exactly one gets the state.
		var got atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				back, err := s.TakeOAuthState(ctx, "hash-1")
				if err == nil {
					got.Add(1)
					diff(t, "TakeOAuthState", st, back)
				} else if host.CodeOf(err) != host.CodeNotFound {
					t.Errorf("TakeOAuthState: %v", err)
				}
			}()
		}
		wg.Wait()
		if got.Load() != 1 {
			t.Errorf("%d concurrent takes got the state, want exactly 1", got.Load())
		}
		_, err := s.TakeOAuthState(ctx, "hash-1")
		wantCode(t, "TakeOAuthState of a used state", err, host.CodeNotFound)
		wantCode(t, "CreateOAuthState for no tenant", s.CreateOAuthState(ctx, host.OAuthState{StateHash: "h", TenantID: "ten_missing",
			Provider: "alpha", RedirectURI: "https://x", ExpiresAt: at(time.Minute)}), host.CodeNotFound)
		wantCode(t, "CreateOAuthState without redirect", s.CreateOAuthState(ctx, host.OAuthState{StateHash: "h", TenantID: tn.ID,
			Provider: "alpha", ExpiresAt: at(time.Minute)}), host.CodeInvalid)
	})

	t.Run("Prune", func(t *testing.T) {
		for i, exp := range []time.Duration{time.Minute, time.Hour} {
			must(t, "CreateOAuthState", s.CreateOAuthState(ctx, host.OAuthState{StateHash: "prune-" + string(rune('a'+i)), TenantID: tn.ID,
				Provider: "alpha", RedirectURI: "https://x", CreatedAt: t0, ExpiresAt: at(exp)}))
		}
		n, err := s.PruneOAuthStates(ctx, at(30*time.Minute))
		must(t, "PruneOAuthStates", err)
		if n != 1 {
			t.Errorf("PruneOAuthStates = %d, want 1", n)
		}
		if _, err := s.TakeOAuthState(ctx, "prune-b"); err != nil {
			t.Errorf("the unexpired state was pruned: %v", err)
		}
	})

	t.Run("RefreshJournal", func(t *testing.T) {
		c, err := s.PutCredential(ctx, host.Credential{TenantID: tn.ID, Ciphertext: []byte("c"), WrappedDEK: []byte("d"), KEKID: "k"}, 0)
		must(t, "PutCredential", err)
		must(t, "MarkRefreshing", s.MarkRefreshing(ctx, tn.ID, c.Version, at(time.Minute)))
		back, err := s.GetCredential(ctx, tn.ID)
		must(t, "GetCredential", err)
		if back.RefreshingSince == nil || !back.RefreshingSince.Equal(at(time.Minute)) {
			t.Errorf("RefreshingSince = %v, want %v", back.RefreshingSince, at(time.Minute))
		}
		wantCode(t, "MarkRefreshing of a stale version", s.MarkRefreshing(ctx, tn.ID, c.Version+1, t0), host.CodeConflict)
		next, err := s.PutCredential(ctx, host.Credential{TenantID: tn.ID, Ciphertext: []byte("c2"), WrappedDEK: []byte("d"), KEKID: "k"}, c.Version)
		must(t, "PutCredential", err)
		if next.RefreshingSince != nil {
			t.Errorf("a new version kept the refresh mark %v", next.RefreshingSince)
		}
		must(t, "MarkRefreshing", s.MarkRefreshing(ctx, tn.ID, next.Version, at(time.Hour)))
		must(t, "MarkRefreshing clear", s.MarkRefreshing(ctx, tn.ID, next.Version, time.Time{}))
		back, err = s.GetCredential(ctx, tn.ID)
		must(t, "GetCredential", err)
		if back.RefreshingSince != nil {
			t.Errorf("the cleared mark is %v", back.RefreshingSince)
		}
		wantCode(t, "MarkRefreshing of no credential", s.MarkRefreshing(ctx, "ten_missing", 1, t0), host.CodeNotFound)
	})

	t.Run("RefreshLockExcludes", func(t *testing.T) {
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlock, err := s.LockRefresh(ctx, tn.ID)
				if err != nil {
					t.Errorf("LockRefresh: %v", err)
					return
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				unlock()
			}()
		}
		wg.Wait()
		if most.Load() != 1 {
			t.Errorf("%d holders of one tenant's refresh lock at once, want 1", most.Load())
		}
		// Another tenant's lock is independent.
		unlock, err := s.LockRefresh(ctx, tn.ID)
		must(t, "LockRefresh", err)
		other, err := s.LockRefresh(ctx, "ten_other")
		must(t, "LockRefresh other tenant", err)
		other()
		unlock()
	})
}
