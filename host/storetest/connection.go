package storetest

import (
	"context"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testConnections(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "conn")

	t.Run("PutCreateAndReplace", func(t *testing.T) {
		first := host.Connection{
			TenantID:  tn.ID,
			Provider:  "alpha",
			Status:    host.ConnectionPending,
			Config:    map[string]string{"portal_id": "42", "dc": "eu"},
			CreatedAt: t0,
			UpdatedAt: t0,
		}
		got, err := s.PutConnection(ctx, first)
		must(t, "PutConnection", err)
		diff(t, "PutConnection (create)", first, got)
		back, err := s.GetConnection(ctx, tn.ID)
		must(t, "GetConnection", err)
		diff(t, "GetConnection", first, back)

		// Replacing keeps the original CreatedAt whatever the caller says.
		second := host.Connection{
			TenantID:     tn.ID,
			Provider:     "beta",
			Status:       host.ConnectionFailed,
			StatusReason: "bad data centre",
			Config:       map[string]string{"dc": "com"},
			CreatedAt:    at(time.Hour),
			UpdatedAt:    at(time.Minute),
		}
		got, err = s.PutConnection(ctx, second)
		must(t, "PutConnection", err)
		want := second
		want.CreatedAt = t0
		diff(t, "PutConnection (replace)", want, got)
		back, err = s.GetConnection(ctx, tn.ID)
		must(t, "GetConnection", err)
		diff(t, "GetConnection", want, back)
	})

	t.Run("NilConfigAndStamps", func(t *testing.T) {
		other := mustTenant(t, s, "conn-nil")
		got, err := s.PutConnection(ctx, host.Connection{TenantID: other.ID, Provider: "gamma", Status: host.ConnectionActive})
		must(t, "PutConnection", err)
		if got.Config == nil {
			t.Errorf("Config is nil, want an empty map")
		}
		checkStamp(t, "CreatedAt", got.CreatedAt)
		checkStamp(t, "UpdatedAt", got.UpdatedAt)
		back, err := s.GetConnection(ctx, other.ID)
		must(t, "GetConnection", err)
		diff(t, "GetConnection", got, back)
	})

	t.Run("SetStatus", func(t *testing.T) {
		must(t, "SetConnectionStatus", s.SetConnectionStatus(ctx, tn.ID, host.ConnectionNeedsReauth, "token revoked"))
		got, err := s.GetConnection(ctx, tn.ID)
		must(t, "GetConnection", err)
		diff(t, "status", host.ConnectionNeedsReauth, got.Status)
		diff(t, "reason", "token revoked", got.StatusReason)
		diff(t, "provider (unchanged)", "beta", got.Provider)
		diff(t, "config (unchanged)", map[string]string{"dc": "com"}, got.Config)
		diff(t, "created (unchanged)", t0, got.CreatedAt)
		if !got.UpdatedAt.After(at(time.Minute)) {
			t.Errorf("UpdatedAt %v was not moved to now", got.UpdatedAt)
		}
	})

	runErrors(t, []errorCase{
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetConnection(ctx, "ten_missing")
			return err
		}, host.CodeNotFound},
		{"PutUnknownTenant", func(ctx context.Context) error {
			_, err := s.PutConnection(ctx, host.Connection{TenantID: "ten_missing", Provider: "alpha", Status: host.ConnectionActive})
			return err
		}, host.CodeNotFound},
		{"PutBadStatus", func(ctx context.Context) error {
			_, err := s.PutConnection(ctx, host.Connection{TenantID: tn.ID, Provider: "alpha", Status: "dozing"})
			return err
		}, host.CodeInvalid},
		{"PutNoProvider", func(ctx context.Context) error {
			_, err := s.PutConnection(ctx, host.Connection{TenantID: tn.ID, Status: host.ConnectionActive})
			return err
		}, host.CodeInvalid},
		{"PutNoTenant", func(ctx context.Context) error {
			_, err := s.PutConnection(ctx, host.Connection{Provider: "alpha", Status: host.ConnectionActive})
			return err
		}, host.CodeInvalid},
		{"SetStatusMissing", func(ctx context.Context) error {
			return s.SetConnectionStatus(ctx, "ten_missing", host.ConnectionActive, "")
		}, host.CodeNotFound},
		{"SetStatusBad", func(ctx context.Context) error {
			return s.SetConnectionStatus(ctx, tn.ID, "dozing", "")
		}, host.CodeInvalid},
		{"DeleteMissing", func(ctx context.Context) error {
			return s.DeleteConnection(ctx, "ten_missing")
		}, host.CodeNotFound},
	})

	t.Run("Delete", func(t *testing.T) {
		must(t, "DeleteConnection", s.DeleteConnection(ctx, tn.ID))
		_, err := s.GetConnection(ctx, tn.ID)
		wantCode(t, "GetConnection after delete", err, host.CodeNotFound)
		if _, err := s.GetTenant(ctx, tn.ID); err != nil {
			t.Errorf("tenant went with its connection: %v", err)
		}
	})
}
