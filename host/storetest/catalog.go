package storetest

import (
	"context"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testCatalog(t *testing.T, s host.Store) {
	ctx := t.Context()

	alpha := host.DriverEntry{
		Slug:             "alpha",
		Version:          "1.2.0",
		Command:          "crm-driver-alpha",
		SHA256:           "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		ProtocolVersions: []int{1, 2},
		RegisteredAt:     t0,
	}
	beta := host.DriverEntry{Slug: "beta", Version: "0.9.0", Command: "/opt/beta", SHA256: "ab", ProtocolVersions: []int{1}, RegisteredAt: t0}
	for _, e := range []host.DriverEntry{beta, alpha} {
		got, err := s.RegisterDriver(ctx, e)
		must(t, "RegisterDriver", err)
		diff(t, "RegisterDriver", e, got)
	}

	t.Run("Get", func(t *testing.T) {
		got, err := s.GetDriver(ctx, "alpha")
		must(t, "GetDriver", err)
		diff(t, "GetDriver", alpha, got)
	})

	t.Run("Upsert", func(t *testing.T) {
		upgraded := alpha
		upgraded.Version = "1.3.0"
		upgraded.Command = "crm-driver-alpha-1.3"
		upgraded.SHA256 = "cd"
		upgraded.ProtocolVersions = []int{2, 3}
		upgraded.RegisteredAt = at(time.Hour)
		got, err := s.RegisterDriver(ctx, upgraded)
		must(t, "RegisterDriver", err)
		diff(t, "RegisterDriver (upsert)", upgraded, got)
		back, err := s.GetDriver(ctx, "alpha")
		must(t, "GetDriver", err)
		diff(t, "GetDriver after upsert", upgraded, back)
		alpha = upgraded
	})

	t.Run("List", func(t *testing.T) {
		got, err := s.ListDrivers(ctx)
		must(t, "ListDrivers", err)
		diff(t, "ListDrivers", []host.DriverEntry{alpha, beta}, got)
	})

	t.Run("Stamp", func(t *testing.T) {
		got, err := s.RegisterDriver(ctx, host.DriverEntry{Slug: "webhook", Command: "/opt/webhook", SHA256: "ef"})
		must(t, "RegisterDriver", err)
		checkStamp(t, "RegisteredAt", got.RegisteredAt)
	})

	t.Run("OneBinaryTwoSlugs", func(t *testing.T) {
		// An alias is catalog data: an entry of its own naming another
		// slug's binary (a provider served by a configurable bridge).
		alias := host.DriverEntry{Slug: "partner", Version: "0.1.0", Command: "/opt/webhook", SHA256: "ef", RegisteredAt: at(2 * time.Hour)}
		got, err := s.RegisterDriver(ctx, alias)
		must(t, "RegisterDriver", err)
		diff(t, "RegisterDriver (alias)", alias, got)
		own, err := s.GetDriver(ctx, "webhook")
		must(t, "GetDriver", err)
		if own.Command != alias.Command || own.SHA256 != alias.SHA256 {
			t.Errorf("webhook entry %+v changed by its alias", own)
		}
		must(t, "RemoveDriver", s.RemoveDriver(ctx, "partner"))
		_, err = s.GetDriver(ctx, "webhook")
		must(t, "GetDriver after removing the alias", err)
	})

	t.Run("Remove", func(t *testing.T) {
		must(t, "RemoveDriver", s.RemoveDriver(ctx, "beta"))
		_, err := s.GetDriver(ctx, "beta")
		wantCode(t, "GetDriver after remove", err, host.CodeNotFound)
		got, err := s.ListDrivers(ctx)
		must(t, "ListDrivers", err)
		diff(t, "drivers left", 2, len(got))
	})

	runErrors(t, []errorCase{
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetDriver(ctx, "nosuch")
			return err
		}, host.CodeNotFound},
		{"RemoveMissing", func(ctx context.Context) error {
			return s.RemoveDriver(ctx, "beta")
		}, host.CodeNotFound},
		{"NoSlug", func(ctx context.Context) error {
			_, err := s.RegisterDriver(ctx, host.DriverEntry{Command: "/x", SHA256: "ab"})
			return err
		}, host.CodeInvalid},
		{"NoCommand", func(ctx context.Context) error {
			_, err := s.RegisterDriver(ctx, host.DriverEntry{Slug: "x", SHA256: "ab"})
			return err
		}, host.CodeInvalid},
		{"NoChecksum", func(ctx context.Context) error {
			_, err := s.RegisterDriver(ctx, host.DriverEntry{Slug: "x", Command: "/x"})
			return err
		}, host.CodeInvalid},
	})
}
