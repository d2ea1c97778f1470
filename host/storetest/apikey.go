package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testAPIKeys(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn, other := mustTenant(t, s, "keys"), mustTenant(t, s, "keys-other")

	first := host.APIKey{TenantID: tn.ID, Prefix: "crm_live_aaaa", Hash: []byte{1, 2, 3}, Scopes: []string{"records:read", "records:write"}, CreatedAt: t0}
	t.Run("Create", func(t *testing.T) {
		got, err := s.CreateAPIKey(ctx, first)
		must(t, "CreateAPIKey", err)
		if !strings.HasPrefix(got.ID, host.APIKeyIDPrefix) {
			t.Errorf("generated ID %q lacks prefix %q", got.ID, host.APIKeyIDPrefix)
		}
		first.ID = got.ID
		diff(t, "CreateAPIKey", first, got)
		back, err := s.GetAPIKeyByPrefix(ctx, "crm_live_aaaa")
		must(t, "GetAPIKeyByPrefix", err)
		diff(t, "GetAPIKeyByPrefix", first, back)
	})

	second := host.APIKey{ID: "key_second", TenantID: tn.ID, Prefix: "crm_live_bbbb", Hash: []byte{4}, CreatedAt: at(time.Minute)}
	t.Run("List", func(t *testing.T) {
		_, err := s.CreateAPIKey(ctx, second)
		must(t, "CreateAPIKey", err)
		_, err = s.CreateAPIKey(ctx, host.APIKey{TenantID: other.ID, Prefix: "crm_live_cccc", Hash: []byte{5}})
		must(t, "CreateAPIKey", err)
		got, err := s.ListAPIKeys(ctx, tn.ID)
		must(t, "ListAPIKeys", err)
		diff(t, "ListAPIKeys", []host.APIKey{first, second}, got)
	})

	t.Run("Touch", func(t *testing.T) {
		for _, c := range []struct {
			at   time.Time
			want time.Time
		}{
			{at(time.Hour), at(time.Hour)},
			{at(2 * time.Hour), at(2 * time.Hour)},
			{at(90 * time.Minute), at(2 * time.Hour)}, // never backwards
		} {
			must(t, "TouchAPIKey", s.TouchAPIKey(ctx, first.ID, c.at))
			got, err := s.GetAPIKeyByPrefix(ctx, first.Prefix)
			must(t, "GetAPIKeyByPrefix", err)
			diff(t, "LastUsedAt", &c.want, got.LastUsedAt)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		must(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, tn.ID, first.ID, at(3*time.Hour)))
		must(t, "RevokeAPIKey again", s.RevokeAPIKey(ctx, tn.ID, first.ID, at(4*time.Hour)))
		got, err := s.GetAPIKeyByPrefix(ctx, first.Prefix)
		must(t, "GetAPIKeyByPrefix", err)
		diff(t, "RevokedAt (first revocation kept)", ptr(at(3*time.Hour)), got.RevokedAt)
		sec, err := s.GetAPIKeyByPrefix(ctx, second.Prefix)
		must(t, "GetAPIKeyByPrefix", err)
		if sec.RevokedAt != nil {
			t.Errorf("revoking one key revoked another")
		}
	})

	runErrors(t, []errorCase{
		{"DuplicatePrefix", func(ctx context.Context) error {
			_, err := s.CreateAPIKey(ctx, host.APIKey{TenantID: other.ID, Prefix: "crm_live_aaaa", Hash: []byte{9}})
			return err
		}, host.CodeConflict},
		{"DuplicateID", func(ctx context.Context) error {
			_, err := s.CreateAPIKey(ctx, host.APIKey{ID: "key_second", TenantID: tn.ID, Prefix: "crm_live_dddd", Hash: []byte{9}})
			return err
		}, host.CodeConflict},
		{"UnknownTenant", func(ctx context.Context) error {
			_, err := s.CreateAPIKey(ctx, host.APIKey{TenantID: "ten_missing", Prefix: "crm_live_eeee", Hash: []byte{9}})
			return err
		}, host.CodeNotFound},
		{"NoPrefix", func(ctx context.Context) error {
			_, err := s.CreateAPIKey(ctx, host.APIKey{TenantID: tn.ID, Hash: []byte{9}})
			return err
		}, host.CodeInvalid},
		{"NoHash", func(ctx context.Context) error {
			_, err := s.CreateAPIKey(ctx, host.APIKey{TenantID: tn.ID, Prefix: "crm_live_ffff"})
			return err
		}, host.CodeInvalid},
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetAPIKeyByPrefix(ctx, "crm_live_zzzz")
			return err
		}, host.CodeNotFound},
		{"RevokeOtherTenant", func(ctx context.Context) error {
			return s.RevokeAPIKey(ctx, other.ID, second.ID, t0)
		}, host.CodeNotFound},
		{"RevokeMissing", func(ctx context.Context) error {
			return s.RevokeAPIKey(ctx, tn.ID, "key_missing", t0)
		}, host.CodeNotFound},
		{"TouchMissing", func(ctx context.Context) error {
			return s.TouchAPIKey(ctx, "key_missing", t0)
		}, host.CodeNotFound},
	})
}
