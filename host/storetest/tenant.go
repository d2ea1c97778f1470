package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testTenants(t *testing.T, s host.Store) {
	ctx := t.Context()

	t.Run("CreateGenerated", func(t *testing.T) {
		got, err := s.CreateTenant(ctx, host.Tenant{Name: "Acme"})
		must(t, "CreateTenant", err)
		if !strings.HasPrefix(got.ID, host.TenantIDPrefix) || len(got.ID) <= len(host.TenantIDPrefix)+16 {
			t.Errorf("generated ID %q: want %q and at least 16 random characters", got.ID, host.TenantIDPrefix)
		}
		checkStamp(t, "CreatedAt", got.CreatedAt)
		back, err := s.GetTenant(ctx, got.ID)
		must(t, "GetTenant", err)
		diff(t, "GetTenant", got, back)

		other, err := s.CreateTenant(ctx, host.Tenant{Name: "Acme"})
		must(t, "CreateTenant", err)
		if other.ID == got.ID {
			t.Errorf("two tenants got the same ID %q", got.ID)
		}
	})

	t.Run("CreateExplicit", func(t *testing.T) {
		in := host.Tenant{ID: "ten_explicit", Name: "Explicit", CreatedAt: at(time.Hour).In(time.FixedZone("X", 3600)).Add(999)}
		got, err := s.CreateTenant(ctx, in)
		must(t, "CreateTenant", err)
		want := host.Tenant{ID: "ten_explicit", Name: "Explicit", CreatedAt: at(time.Hour)}
		diff(t, "CreateTenant", want, got)
		back, err := s.GetTenant(ctx, "ten_explicit")
		must(t, "GetTenant", err)
		diff(t, "GetTenant", want, back)
		if back.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location %v, want UTC", back.CreatedAt.Location())
		}
	})

	runErrors(t, []errorCase{
		{"CreateDuplicate", func(ctx context.Context) error {
			_, err := s.CreateTenant(ctx, host.Tenant{ID: "ten_explicit", Name: "again"})
			return err
		}, host.CodeConflict},
		{"CreateNoName", func(ctx context.Context) error {
			_, err := s.CreateTenant(ctx, host.Tenant{ID: "ten_noname"})
			return err
		}, host.CodeInvalid},
		{"CreateBlankName", func(ctx context.Context) error {
			_, err := s.CreateTenant(ctx, host.Tenant{ID: "ten_blank", Name: " \t "})
			return err
		}, host.CodeInvalid},
		{"CreateLongName", func(ctx context.Context) error {
			_, err := s.CreateTenant(ctx, host.Tenant{ID: "ten_long", Name: strings.Repeat("n", host.MaxTenantName+1)})
			return err
		}, host.CodeInvalid},
		{"CreateControlName", func(ctx context.Context) error {
			_, err := s.CreateTenant(ctx, host.Tenant{ID: "ten_ctl", Name: "Acme\x00Corp"})
			return err
		}, host.CodeInvalid},
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetTenant(ctx, "ten_missing")
			return err
		}, host.CodeNotFound},
		{"DeleteMissing", func(ctx context.Context) error {
			return s.DeleteTenant(ctx, "ten_missing")
		}, host.CodeNotFound},
	})

	t.Run("ListOldestFirst", func(t *testing.T) {
		before, err := s.ListTenants(ctx)
		must(t, "ListTenants", err)
		// Created out of order; listed by CreatedAt, then ID.
		var want []host.Tenant
		for _, c := range []struct {
			id string
			d  time.Duration
		}{{"ten_o_3", 3 * time.Hour}, {"ten_o_1", -time.Hour}, {"ten_o_2b", 2 * time.Hour}, {"ten_o_2a", 2 * time.Hour}} {
			_, err := s.CreateTenant(ctx, host.Tenant{ID: c.id, Name: c.id, CreatedAt: at(c.d)})
			must(t, "CreateTenant", err)
		}
		for _, c := range []struct {
			id string
			d  time.Duration
		}{{"ten_o_1", -time.Hour}, {"ten_o_2a", 2 * time.Hour}, {"ten_o_2b", 2 * time.Hour}, {"ten_o_3", 3 * time.Hour}} {
			want = append(want, host.Tenant{ID: c.id, Name: c.id, CreatedAt: at(c.d)})
		}
		got, err := s.ListTenants(ctx)
		must(t, "ListTenants", err)
		var mine []host.Tenant
		for _, tn := range got {
			if strings.HasPrefix(tn.ID, "ten_o_") { // generated IDs have no second "_"
				mine = append(mine, tn)
			}
		}
		diff(t, "ListTenants", want, mine)
		if len(got) != len(before)+4 {
			t.Errorf("ListTenants: %d tenants, want %d", len(got), len(before)+4)
		}
	})

	t.Run("Pages", func(t *testing.T) {
		all, err := s.ListTenants(ctx)
		must(t, "ListTenants", err)
		if len(all) < 5 {
			t.Fatalf("%d tenants; the pages need at least 5", len(all))
		}
		// Pages of 2 walk the whole list in ListTenants' order, ties on
		// CreatedAt (ten_o_2a, ten_o_2b) split across pages included.
		var walked []host.Tenant
		var after *host.TenantCursor
		for range len(all) {
			page, err := s.ListTenantsPage(ctx, host.TenantPage{After: after, Limit: 2})
			must(t, "ListTenantsPage", err)
			if len(page) > 2 {
				t.Fatalf("page of %d, want at most 2", len(page))
			}
			walked = append(walked, page...)
			if len(page) < 2 {
				break
			}
			after = host.CursorOf(page[len(page)-1])
		}
		diff(t, "the pages, end to end", all, walked)
		// A cursor between two tenants of the same CreatedAt.
		for i := range all[:len(all)-1] {
			if all[i].ID == "ten_o_2a" {
				page, err := s.ListTenantsPage(ctx, host.TenantPage{After: host.CursorOf(all[i]), Limit: 1})
				must(t, "ListTenantsPage", err)
				diff(t, "the page after ten_o_2a", all[i+1:i+2], page)
			}
		}
		// A cursor whose tenant was deleted still pages on from its place.
		gone := host.TenantCursor{CreatedAt: at(2*time.Hour + time.Minute), ID: "ten_deleted"}
		page, err := s.ListTenantsPage(ctx, host.TenantPage{After: &gone, Limit: 10})
		must(t, "ListTenantsPage", err)
		if len(page) == 0 || page[0].ID != "ten_o_3" {
			t.Errorf("page after a deleted tenant's cursor = %v, want it to start at ten_o_3", page)
		}
		// The default limit applies to zero.
		page, err = s.ListTenantsPage(ctx, host.TenantPage{})
		must(t, "ListTenantsPage", err)
		diff(t, "first page, default limit", all[:min(len(all), host.DefaultListLimit)], page)
	})

	t.Run("Delete", func(t *testing.T) {
		tn := mustTenant(t, s, "doomed")
		must(t, "DeleteTenant", s.DeleteTenant(ctx, tn.ID))
		_, err := s.GetTenant(ctx, tn.ID)
		wantCode(t, "GetTenant after delete", err, host.CodeNotFound)
		wantCode(t, "DeleteTenant twice", s.DeleteTenant(ctx, tn.ID), host.CodeNotFound)
	})
}

// testTenantCascade gives two tenants one row of every kind, deletes one,
// and checks that only its rows went, audit entries excepted.
func testTenantCascade(t *testing.T, s host.Store) {
	ctx := t.Context()
	doomed, kept := mustTenant(t, s, "doomed"), mustTenant(t, s, "kept")
	for i, tn := range []host.Tenant{doomed, kept} {
		_, err := s.PutConnection(ctx, host.Connection{TenantID: tn.ID, Provider: "alpha", Status: host.ConnectionActive})
		must(t, "PutConnection", err)
		_, err = s.PutCredential(ctx, host.Credential{TenantID: tn.ID, Ciphertext: []byte("c"), WrappedDEK: []byte("d"), KEKID: "k"}, 0)
		must(t, "PutCredential", err)
		_, err = s.SetMapping(ctx, host.FieldMapping{TenantID: tn.ID, Kind: host.MappingWrite, Key: "lead.x", Target: "x"})
		must(t, "SetMapping", err)
		_, err = s.CreateAPIKey(ctx, host.APIKey{TenantID: tn.ID, Prefix: name("cascade", i), Hash: []byte("h")})
		must(t, "CreateAPIKey", err)
		_, _, err = s.ClaimIdempotency(ctx, host.IdempotencyRecord{TenantID: tn.ID, Key: "k", RequestHash: "h", CreatedAt: t0, ExpiresAt: at(time.Hour)})
		must(t, "ClaimIdempotency", err)
		_, err = s.AppendAudit(ctx, host.AuditEntry{TenantID: tn.ID, ActorType: host.ActorSystem, Action: "tenant.test", Outcome: host.OutcomeOK})
		must(t, "AppendAudit", err)
	}

	must(t, "DeleteTenant", s.DeleteTenant(ctx, doomed.ID))

	for _, tc := range []struct {
		tenant host.Tenant
		gone   bool
	}{{doomed, true}, {kept, false}} {
		t.Run(tc.tenant.Name, func(t *testing.T) {
			code := host.ErrorCode("")
			if tc.gone {
				code = host.CodeNotFound
			}
			_, err := s.GetConnection(ctx, tc.tenant.ID)
			diff(t, "GetConnection code", code, host.CodeOf(err))
			_, err = s.GetCredential(ctx, tc.tenant.ID)
			diff(t, "GetCredential code", code, host.CodeOf(err))
			_, err = s.GetIdempotency(ctx, tc.tenant.ID, "k")
			diff(t, "GetIdempotency code", code, host.CodeOf(err))

			ms, err := s.ListMappings(ctx, tc.tenant.ID, "")
			must(t, "ListMappings", err)
			keys, err := s.ListAPIKeys(ctx, tc.tenant.ID)
			must(t, "ListAPIKeys", err)
			want := 1
			if tc.gone {
				want = 0
			}
			diff(t, "mappings", want, len(ms))
			diff(t, "API keys", want, len(keys))

			audit, err := s.ListAudit(ctx, host.AuditFilter{TenantID: tc.tenant.ID})
			must(t, "ListAudit", err)
			diff(t, "audit entries (kept after delete)", 1, len(audit))
		})
	}
}
