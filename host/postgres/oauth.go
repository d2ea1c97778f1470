package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/postgres/internal/db"
)

// CreateOAuthState implements host.OAuthStore.
func (s *Store) CreateOAuthState(ctx context.Context, st host.OAuthState) error {
	if err := st.Validate(); err != nil {
		return err
	}
	cfg := st.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("postgres: oauth state config: %w", err)
	}
	err = s.q.CreateOAuthState(ctx, db.CreateOAuthStateParams{StateHash: st.StateHash, TenantID: st.TenantID, Provider: st.Provider,
		ActorID: st.ActorID, Config: raw, CodeVerifier: st.CodeVerifier, RedirectUri: st.RedirectURI, ReturnTo: st.ReturnTo,
		CreatedAt: s.stamp(st.CreatedAt), ExpiresAt: trunc(st.ExpiresAt)})
	return mapErr(err, st.TenantID, "", "oauth state already exists")
}

// TakeOAuthState implements host.OAuthStore.
func (s *Store) TakeOAuthState(ctx context.Context, stateHash string) (host.OAuthState, error) {
	r, err := s.q.TakeOAuthState(ctx, stateHash)
	if err != nil {
		return host.OAuthState{}, mapErr(err, "", "oauth state not found (unknown, or already used)", "")
	}
	cfg := map[string]string{}
	if err := json.Unmarshal(r.Config, &cfg); err != nil {
		return host.OAuthState{}, fmt.Errorf("postgres: oauth state config: %w", err)
	}
	return host.OAuthState{StateHash: r.StateHash, TenantID: r.TenantID, Provider: r.Provider, ActorID: r.ActorID, Config: cfg,
		CodeVerifier: r.CodeVerifier, RedirectURI: r.RedirectUri, ReturnTo: r.ReturnTo,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// PruneOAuthStates implements host.OAuthStore.
func (s *Store) PruneOAuthStates(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.q.PruneOAuthStates(ctx, before)
	return n, mapErr(err, "", "", "")
}

// MarkRefreshing implements host.OAuthStore.
func (s *Store) MarkRefreshing(ctx context.Context, tenantID string, version int, at time.Time) error {
	var stamp *time.Time
	if !at.IsZero() {
		t := s.stamp(at)
		stamp = &t
	}
	n, err := s.q.MarkRefreshing(ctx, db.MarkRefreshingParams{RefreshingSince: stamp, TenantID: tenantID, Version: int32(version)})
	if err != nil || n > 0 {
		return mapErr(err, tenantID, "", "")
	}
	cur, err := s.q.GetCredential(ctx, tenantID)
	if err != nil {
		return mapErr(err, tenantID, "credential of tenant "+quote(tenantID)+" not found", "")
	}
	return versionConflict(tenantID, version, int(cur.Version))
}

// refreshLockSpace keeps the refresh locks' advisory keys apart from any
// other advisory lock the database's users take.
const refreshLockSpace = "crmhost/refresh/"

// LockRefresh implements host.OAuthStore with a session-level advisory
// lock held on a connection of its own until unlock: every replica on the
// database waits for it.
func (s *Store) LockRefresh(ctx context.Context, tenantID string) (func(), error) {
	h := fnv.New64a()
	h.Write([]byte(refreshLockSpace + tenantID))
	key := int64(h.Sum64())
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		conn.Release()
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			// A connection that cannot unlock must not go back to the
			// pool holding the lock: closing it releases the lock.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}, nil
}
