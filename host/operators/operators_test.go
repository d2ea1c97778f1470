package operators_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/sqlite"
)

func setup(t *testing.T) (*operators.Operators, host.Store, *time.Time) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return operators.New(s, func() time.Time { return now }), s, &now
}

func TestIssueAuthenticateRevoke(t *testing.T) {
	o, s, now := setup(t)
	tok, row, err := o.Issue(t.Context(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, operators.TokenPrefix) || row.Name != "alice@example.com" || strings.Contains(string(row.Hash), tok) {
		t.Fatalf("token %q, row %+v", tok, row)
	}
	got, err := o.Authenticate(t.Context(), tok)
	if err != nil || got.ID != row.ID || got.Name != "alice@example.com" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	ops, err := s.ListOperators(t.Context())
	if err != nil || len(ops) != 1 || ops[0].LastUsedAt == nil || !ops[0].LastUsedAt.Equal(*now) {
		t.Fatalf("after use: %+v, %v", ops, err)
	}

	other := "x" // the token with its last character changed
	if strings.HasSuffix(tok, other) {
		other = "y"
	}
	bad := []string{"", "crmo_", tok[:len(tok)-1] + other, "crmk_" + strings.TrimPrefix(tok, operators.TokenPrefix),
		operators.TokenPrefix + "zzzzzzzzzzzz_" + strings.Repeat("a", 26), tok + strings.Repeat("a", 200)}
	for _, b := range bad {
		if _, err := o.Authenticate(t.Context(), b); host.CodeOf(err) != host.CodeUnauthenticated || err.Error() != "unauthenticated: the operator token is not valid" {
			t.Errorf("Authenticate(%q) = %v, want the one unauthenticated answer", b, err)
		}
	}

	if _, _, err := o.Issue(t.Context(), "alice@example.com"); host.CodeOf(err) != host.CodeConflict {
		t.Fatalf("second active alice: %v, want conflict", err)
	}
	if _, _, err := o.Issue(t.Context(), "not a name"); host.CodeOf(err) != host.CodeInvalid {
		t.Fatalf("bad name: %v, want invalid", err)
	}
	if err := o.Revoke(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Authenticate(t.Context(), tok); host.CodeOf(err) != host.CodeUnauthenticated || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked token: %v", err)
	}
	if err := o.Revoke(t.Context(), "alice@example.com"); host.CodeOf(err) != host.CodeNotFound {
		t.Fatalf("revoke again: %v, want not_found", err)
	}
	// A new credential for the same person.
	tok2, _, err := o.Issue(t.Context(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Authenticate(t.Context(), tok2); err != nil {
		t.Fatalf("new token: %v", err)
	}
}
