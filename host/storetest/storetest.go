package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"crmhost.dev/host"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Run runs the conformance suite against the stores open returns. open
// must return a fresh, empty, migrated store and arrange (with t.Cleanup)
// for it to be closed; it is called once per top-level subtest, and the
// subtests below each share that store.
func Run(t *testing.T, open func(t *testing.T) host.Store) {
	t.Helper()
	suites := []struct {
		name string
		run  func(t *testing.T, s host.Store)
	}{
		{"Ping", testPing},
		{"Tenants", testTenants},
		{"TenantDeleteCascades", testTenantCascade},
		{"Connections", testConnections},
		{"Accounts", testAccounts},
		{"AppCredentials", testAppCredentials},
		{"OAuth", testOAuth},
		{"Credentials", testCredentials},
		{"CredentialRace", testCredentialRace},
		{"Mappings", testMappings},
		{"Audit", testAudit},
		{"Catalog", testCatalog},
		{"Idempotency", testIdempotency},
		{"IdempotencyRace", testIdempotencyRace},
		{"APIKeys", testAPIKeys},
		{"Leads", testLeads},
		{"Mirror", testMirror},
		{"PurgeProperty", testPurgeProperty},
		{"Incidents", testIncidents},
		{"Erasures", testErasures},
		{"Operators", testOperators},
		{"Replicas", testReplicas},
		{"InboundEvents", testInboundEvents},
		{"TriggerRules", testTriggerRules},
		{"Consents", testConsents},
		{"Decisions", testDecisions},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			s.run(t, open(t))
		})
	}
}

func testPing(t *testing.T, s host.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// t0 is the suite's reference time: microsecond precision, like stored
// times, and years before now, so a time the store stamped with its clock
// is after any t0-relative time the suite uses.
var t0 = time.Date(2021, 3, 4, 5, 6, 7, 123456000, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// diff compares want and got, treating nil and empty slices and maps alike.
func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	opts = append(opts, cmpopts.EquateEmpty())
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantCode fails unless err is a *host.Error with code; for not_found and
// conflict it must also wrap host.ErrNotFound or host.ErrConflict.
func wantCode(t *testing.T, what string, err error, code host.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got nil error, want %s", what, code)
		return
	}
	var he *host.Error
	if !errors.As(err, &he) {
		t.Errorf("%s: got %T %v, want *host.Error with code %s", what, err, err, code)
		return
	}
	if he.Code != code {
		t.Errorf("%s: got code %s (%v), want %s", what, he.Code, err, code)
	}
	switch code {
	case host.CodeNotFound:
		if !errors.Is(err, host.ErrNotFound) {
			t.Errorf("%s: %v does not wrap host.ErrNotFound", what, err)
		}
	case host.CodeConflict:
		if !errors.Is(err, host.ErrConflict) {
			t.Errorf("%s: %v does not wrap host.ErrConflict", what, err)
		}
	}
}

// errorCase is one row of an error table: call must fail with code.
type errorCase struct {
	name string
	call func(ctx context.Context) error
	code host.ErrorCode
}

// runErrors runs each error case as a subtest.
func runErrors(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, c.name, c.call(t.Context()), c.code)
		})
	}
}

// mustTenant creates a tenant named name with a generated ID.
func mustTenant(t *testing.T, s host.Store, name string) host.Tenant {
	t.Helper()
	tn, err := s.CreateTenant(t.Context(), host.Tenant{Name: name, CreatedAt: t0})
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", name, err)
	}
	return tn
}

// checkStamp fails unless got is a store-set time: non-zero, UTC and
// microsecond precision.
func checkStamp(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.IsZero() || got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v, want a non-zero UTC time in microseconds", what, got)
	}
}

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// name returns a distinct name for item i.
func name(prefix string, i int) string { return fmt.Sprintf("%s-%02d", prefix, i) }
