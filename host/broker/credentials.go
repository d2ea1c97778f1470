package broker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// maxUpdateTries bounds how often applyUpdate re-reads a credential that
// another call replaced meanwhile.
const maxUpdateTries = 4

// applyUpdate stores a credential update a driver sent (a fresh token, a
// session, config facts, the account id): it merges the update into the
// tenant's current secret and config, re-seals the secret under a new
// version (a concurrent writer's newer version is re-read and merged
// into, never overwritten), records the account id, audits the keys that
// changed (never their values), and updates the session so a retry uses
// the new secret. A driver's invalid update is refused and audited. A
// failure to store is logged and audited: the verb's own answer still
// stands (it happened at the provider), and the driver fetches a new token
// next time. It returns the error for callers that must not proceed
// (Refresh).
func (b *Broker) applyUpdate(ctx context.Context, a Actor, s *session, u sdk.CredentialUpdate, action string) error {
	ctx = context.WithoutCancel(ctx)
	tenant := s.conn.TenantID
	if err := b.checkUpdate(s, u); err != nil {
		b.record(ctx, a, tenant, action, host.OutcomeError, "refused: "+err.Error())
		b.log.Error("driver sent an invalid credential update", "tenant", tenant, "driver", s.desc.Slug, "error", err)
		return err
	}
	detail := updateDetail(u)
	if len(u.Secret) > 0 || !u.ExpiresAt.IsZero() {
		var err error
		for try := 0; ; try++ {
			merged := sdk.CredentialUpdate{Secret: u.Secret}.Apply(sdk.Connection{Secret: s.secret}).Secret
			expires := u.ExpiresAt
			if expires.IsZero() && s.cred.ExpiresAt != nil {
				expires = *s.cred.ExpiresAt
			}
			var nc host.Credential
			nc, err = b.seal(ctx, tenant, merged, expires, s.cred.Version)
			if err == nil {
				s.cred, s.secret = nc, merged
				detail = fmt.Sprintf("version %d; %s", nc.Version, detail)
				break
			}
			if host.CodeOf(err) != host.CodeConflict || try+1 >= maxUpdateTries {
				break
			}
			// Another call stored a newer version: merge into that one.
			cred, secret, derr := b.decrypt(ctx, a, tenant)
			if derr != nil {
				err = derr
				break
			}
			s.cred, s.secret = cred, secret
		}
		if err != nil {
			b.record(ctx, a, tenant, action, host.OutcomeError, string(host.CodeOf(err))+"; "+detail)
			b.log.Error("could not store the driver's credential update", "tenant", tenant, "error", err)
			return err
		}
	}
	if len(u.Config) > 0 {
		if err := b.mergeConfig(ctx, s, u.Config); err != nil {
			b.record(ctx, a, tenant, action, host.OutcomeError, string(host.CodeOf(err))+"; "+detail)
			return err
		}
	}
	if u.AccountID != "" && u.AccountID != s.conn.AccountID {
		if err := b.store.SetConnectionAccount(ctx, tenant, u.AccountID); err != nil {
			b.record(ctx, a, tenant, action, host.OutcomeError, string(host.CodeOf(err))+"; "+detail)
			return err
		}
		s.conn.AccountID = u.AccountID
	}
	b.Forget(tenant)
	b.record(ctx, a, tenant, action, host.OutcomeOK, detail)
	return nil
}

// checkUpdate refuses what no driver may send: an update the sdk would
// refuse, or a config key the driver declares secret (a secret must never
// land in the plain config).
func (b *Broker) checkUpdate(s *session, u sdk.CredentialUpdate) error {
	if err := u.Validate(); err != nil {
		return err
	}
	for k := range u.Config {
		for _, f := range s.desc.CredentialFields {
			if f.Name == k && f.Secret {
				return sdk.Invalid("credential_update.config."+k, "is a secret field; it belongs in the secret")
			}
		}
	}
	return nil
}

// updateDetail says what an update changes, by key names only.
func updateDetail(u sdk.CredentialUpdate) string {
	var parts []string
	if len(u.Secret) > 0 {
		parts = append(parts, "secret keys "+strings.Join(slices.Sorted(maps.Keys(u.Secret)), ","))
	}
	if !u.ExpiresAt.IsZero() {
		parts = append(parts, "expires "+u.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if len(u.Config) > 0 {
		parts = append(parts, "config keys "+strings.Join(slices.Sorted(maps.Keys(u.Config)), ","))
	}
	if u.AccountID != "" {
		parts = append(parts, "account "+u.AccountID)
	}
	return strings.Join(parts, "; ")
}

// mergeConfig sets (or, for empty values, removes) config keys of the
// tenant's connection.
func (b *Broker) mergeConfig(ctx context.Context, s *session, set map[string]string) error {
	conn, err := b.store.GetConnection(ctx, s.conn.TenantID)
	if err != nil {
		return err
	}
	conn.Config = sdk.CredentialUpdate{Config: set}.Apply(sdk.Connection{Config: conn.Config}).Config
	conn.UpdatedAt = zeroTime
	stored, err := b.store.PutConnection(ctx, conn)
	if err != nil {
		return err
	}
	s.conn.Config = stored.Config
	return nil
}

// refreshIfExpiring refreshes the session's secret when it expires within
// the refresh margin, for drivers that implement Refresh. A refresh that
// fails while the secret is still valid only logs: the call goes on with
// the current secret.
func (b *Broker) refreshIfExpiring(ctx context.Context, a Actor, s *session) error {
	if !s.desc.Capabilities.Refresh || s.refreshed || s.cred.ExpiresAt == nil || b.now().Add(b.margin).Before(*s.cred.ExpiresAt) {
		return nil
	}
	err := b.refreshSession(ctx, a, s)
	switch {
	case err == nil:
		return nil
	case host.CodeOf(err) == host.ErrorCode(sdk.CodeUnsupported):
		s.refreshed = true // nothing to refresh: do not ask again in this call
		return nil
	case b.now().Before(*s.cred.ExpiresAt) && sdk.CodeOf(err) != sdk.CodeAuth:
		b.log.Warn("proactive refresh failed; using the current secret until it expires", "tenant", s.conn.TenantID, "code", host.CodeOf(err))
		return nil
	}
	return err
}

// needsReauth marks the connection needs_reauth (audited): calls answer
// not_connected until an operator reconnects.
func (b *Broker) needsReauth(ctx context.Context, a Actor, s *session, reason string) {
	wctx := context.WithoutCancel(ctx)
	if err := b.store.SetConnectionStatus(wctx, s.conn.TenantID, host.ConnectionNeedsReauth, reason); err != nil {
		b.log.Error("could not mark the connection needs_reauth", "tenant", s.conn.TenantID, "error", err)
	}
	b.record(wctx, a, s.conn.TenantID, "connection.needs_reauth", host.OutcomeError, reason)
	b.Forget(s.conn.TenantID)
}

type refreshed struct {
	cred   host.Credential
	secret map[string]string
	conn   host.Connection
}

// refreshSession renews the session's secret through the driver's Refresh:
// once per tenant at a time in this process (single-flight), and across
// every process on the store (the store's refresh lock). Holding the
// lock, it re-reads the credential and uses another caller's newer
// version when it is not itself about to expire. Before the refresh token
// leaves, the credential version is marked refreshing (the refresh
// journal): a mark found later means a process died between sending the
// token and storing the answer, so the token may be spent and is never
// sent again; the connection needs re-authorizing instead. The driver's
// answer is merged like a credential update and stored (audited as
// credential.refresh, clearing the mark) before it is used. A refresh the
// provider refuses (auth_error) marks the connection needs_reauth.
func (b *Broker) refreshSession(ctx context.Context, a Actor, s *session) error {
	v, err, _ := b.refresh.Do(s.conn.TenantID, func() (any, error) {
		unlock, err := b.store.LockRefresh(ctx, s.conn.TenantID)
		if err != nil {
			return nil, err
		}
		defer unlock()
		cred, secret, err := b.decrypt(ctx, a, s.conn.TenantID)
		if err != nil {
			return nil, err
		}
		fresh := cred.ExpiresAt == nil || b.now().Add(b.margin).Before(*cred.ExpiresAt)
		if cred.Version != s.cred.Version && fresh {
			return refreshed{cred, secret, s.conn}, nil
		}
		if cred.RefreshingSince != nil {
			b.needsReauth(ctx, a, s, "an earlier refresh was interrupted before its answer was stored; the refresh token may be spent")
			return nil, sdk.Errorf(sdk.CodeAuth, "the credential must be re-authorized: an earlier refresh was interrupted")
		}
		rs := *s
		rs.cred, rs.secret = cred, secret
		wctx := context.WithoutCancel(ctx)
		if err := b.store.MarkRefreshing(wctx, s.conn.TenantID, cred.Version, b.now()); err != nil {
			return nil, err
		}
		var auth sdk.Authorization
		err = b.drivers.Call(ctx, s.conn.Provider, sdk.VerbRefresh, func(ctx context.Context, d *sdk.Client) error {
			var err error
			auth, err = d.Refresh(ctx, rs.sdkConn())
			return err
		})
		if err != nil {
			// The provider answered (or was never reached): the token was
			// not spent by a stored answer we lost. Clear the mark.
			if cerr := b.store.MarkRefreshing(wctx, s.conn.TenantID, cred.Version, time.Time{}); cerr != nil {
				b.log.Error("could not clear the refresh mark", "tenant", s.conn.TenantID, "error", cerr)
			}
			if sdk.CodeOf(err) == sdk.CodeUnsupported {
				return nil, err
			}
			b.record(ctx, a, s.conn.TenantID, "credential.refresh", host.OutcomeError, string(host.CodeOf(err)))
			if sdk.CodeOf(err) == sdk.CodeAuth {
				b.needsReauth(ctx, a, s, "the CRM refused to refresh the credential: "+sdk.AsError(err).Message)
			}
			return nil, err
		}
		u := sdk.CredentialUpdate{Secret: auth.Secret, Config: auth.Config, ExpiresAt: auth.ExpiresAt, AccountID: auth.AccountID}
		if err := b.applyUpdate(ctx, a, &rs, u, "credential.refresh"); err != nil {
			return nil, err
		}
		return refreshed{rs.cred, rs.secret, rs.conn}, nil
	})
	if err != nil {
		return err
	}
	r := v.(refreshed)
	s.cred, s.secret, s.refreshed = r.cred, r.secret, true
	s.conn.Config, s.conn.AccountID = r.conn.Config, r.conn.AccountID
	return nil
}
