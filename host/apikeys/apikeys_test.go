package apikeys_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
	"crmhost.dev/host/sqlite"
	"github.com/google/go-cmp/cmp"
)

func setup(t *testing.T) (*apikeys.Keys, host.Store, string, *time.Time) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ten, err := s.CreateTenant(t.Context(), host.Tenant{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return apikeys.New(s, func() time.Time { return now }), s, ten.ID, &now
}

func TestIssueAndAuthenticate(t *testing.T) {
	k, s, tenant, now := setup(t)
	raw, row, err := k.Issue(t.Context(), tenant, []string{"leads:write", "crm:write", "crm:write"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "crmk_") || strings.Contains(string(row.Hash), raw) {
		t.Fatalf("key %q / row %+v", raw, row)
	}
	if diff := cmp.Diff([]string{"crm:write", "leads:write"}, row.Scopes); diff != "" {
		t.Fatal(diff)
	}
	got, err := k.Authenticate(t.Context(), raw)
	if err != nil || got.ID != row.ID || got.TenantID != tenant {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	if !apikeys.HasScope(got, "crm:write") || apikeys.HasScope(got, "crm:read") {
		t.Fatal("HasScope")
	}
	keys, _ := s.ListAPIKeys(t.Context(), tenant)
	if len(keys) != 1 || keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(*now) {
		t.Fatalf("last used not recorded: %+v", keys)
	}

	for name, bad := range map[string]string{
		"empty":          "",
		"no prefix":      strings.TrimPrefix(raw, "crmk_"),
		"wrong secret":   raw[:len(raw)-1] + "x",
		"unknown prefix": "crmk_aaaaaaaaaaaa_" + raw[len(raw)-26:],
		"malformed":      "crmk_short",
		"huge":           raw + strings.Repeat("a", 200),
	} {
		if _, err := k.Authenticate(t.Context(), bad); host.CodeOf(err) != host.CodeUnauthenticated {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := s.RevokeAPIKey(t.Context(), tenant, row.ID, *now); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Authenticate(t.Context(), raw); host.CodeOf(err) != host.CodeUnauthenticated || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked key: %v", err)
	}
}

func TestScopes(t *testing.T) {
	k, _, tenant, _ := setup(t)
	for _, scopes := range [][]string{nil, {}, {"crm:admin"}, {"crm:write", "root"}} {
		if _, _, err := k.Issue(t.Context(), tenant, scopes); host.CodeOf(err) != host.CodeInvalid {
			t.Errorf("scopes %v: %v", scopes, err)
		}
	}
	if _, _, err := k.Issue(t.Context(), "ten_missing", []string{"crm:write"}); host.CodeOf(err) != host.CodeNotFound {
		t.Errorf("unknown tenant: %v", err)
	}
}
