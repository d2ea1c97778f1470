package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/sqlite/internal/db"
)

// CreateOAuthState implements host.OAuthStore.
func (s *Store) CreateOAuthState(ctx context.Context, st host.OAuthState) error {
	if err := st.Validate(); err != nil {
		return err
	}
	cfg, err := marshalConfig(st.Config)
	if err != nil {
		return err
	}
	err = s.wq.CreateOAuthState(ctx, db.CreateOAuthStateParams{StateHash: st.StateHash, TenantID: st.TenantID, Provider: st.Provider,
		ActorID: st.ActorID, Config: cfg, CodeVerifier: st.CodeVerifier, RedirectUri: st.RedirectURI, ReturnTo: st.ReturnTo,
		CreatedAt: toMicros(s.stamp(st.CreatedAt)), ExpiresAt: toMicros(st.ExpiresAt)})
	return mapErr(err, st.TenantID, "", "oauth state already exists")
}

// TakeOAuthState implements host.OAuthStore.
func (s *Store) TakeOAuthState(ctx context.Context, stateHash string) (host.OAuthState, error) {
	r, err := s.wq.TakeOAuthState(ctx, stateHash)
	if err != nil {
		return host.OAuthState{}, mapErr(err, "", "oauth state not found (unknown, or already used)", "")
	}
	cfg := map[string]string{}
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return host.OAuthState{}, fmt.Errorf("sqlite: oauth state config: %w", err)
	}
	return host.OAuthState{StateHash: r.StateHash, TenantID: r.TenantID, Provider: r.Provider, ActorID: r.ActorID, Config: cfg,
		CodeVerifier: r.CodeVerifier, RedirectURI: r.RedirectUri, ReturnTo: r.ReturnTo,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt)}, nil
}

// PruneOAuthStates implements host.OAuthStore.
func (s *Store) PruneOAuthStates(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.wq.PruneOAuthStates(ctx, toMicros(before))
	return n, mapErr(err, "", "", "")
}

// MarkRefreshing implements host.OAuthStore.
func (s *Store) MarkRefreshing(ctx context.Context, tenantID string, version int, at time.Time) error {
	var stamp *time.Time
	if !at.IsZero() {
		t := s.stamp(at)
		stamp = &t
	}
	return s.inTx(ctx, func(q *db.Queries) error {
		n, err := q.MarkRefreshing(ctx, db.MarkRefreshingParams{RefreshingSince: toNullMicros(stamp), TenantID: tenantID, Version: int64(version)})
		if err != nil || n > 0 {
			return mapErr(err, tenantID, "", "")
		}
		cur, err := q.GetCredential(ctx, tenantID)
		if err != nil {
			return mapErr(err, tenantID, "credential of tenant "+quote(tenantID)+" not found", "")
		}
		return versionConflict(tenantID, version, int(cur.Version))
	})
}

// refreshLocks serialise refreshes per tenant: an SQLite store serves
// one process.
var refreshLocks sync.Map // tenant id -> chan struct{} (a one-slot semaphore)

// LockRefresh implements host.OAuthStore.
func (s *Store) LockRefresh(ctx context.Context, tenantID string) (func(), error) {
	v, _ := refreshLocks.LoadOrStore(tenantID, make(chan struct{}, 1))
	sem := v.(chan struct{})
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
