package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testOperators(t *testing.T, s host.Store) {
	ctx := t.Context()

	alice := host.Operator{Name: "alice@example.com", Prefix: "opaaaaaaaaaa", Hash: []byte{1, 2, 3}, CreatedAt: t0}
	t.Run("Create", func(t *testing.T) {
		got, err := s.CreateOperator(ctx, alice)
		must(t, "CreateOperator", err)
		if !strings.HasPrefix(got.ID, host.OperatorIDPrefix) {
			t.Errorf("generated ID %q lacks prefix %q", got.ID, host.OperatorIDPrefix)
		}
		alice.ID = got.ID
		diff(t, "CreateOperator", alice, got)
		back, err := s.GetOperatorByPrefix(ctx, alice.Prefix)
		must(t, "GetOperatorByPrefix", err)
		diff(t, "GetOperatorByPrefix", alice, back)
	})

	bob := host.Operator{ID: "op_bob", Name: "bob", Prefix: "opbbbbbbbbbb", Hash: []byte{4}, CreatedAt: at(time.Minute)}
	t.Run("List", func(t *testing.T) {
		_, err := s.CreateOperator(ctx, bob)
		must(t, "CreateOperator", err)
		got, err := s.ListOperators(ctx)
		must(t, "ListOperators", err)
		diff(t, "ListOperators", []host.Operator{alice, bob}, got)
	})

	t.Run("Touch", func(t *testing.T) {
		for _, c := range []struct{ at, want time.Time }{
			{at(time.Hour), at(time.Hour)},
			{at(2 * time.Hour), at(2 * time.Hour)},
			{at(90 * time.Minute), at(2 * time.Hour)}, // never backwards
		} {
			must(t, "TouchOperator", s.TouchOperator(ctx, alice.ID, c.at))
			got, err := s.GetOperatorByPrefix(ctx, alice.Prefix)
			must(t, "GetOperatorByPrefix", err)
			diff(t, "LastUsedAt", &c.want, got.LastUsedAt)
		}
		alice.LastUsedAt = ptr(at(2 * time.Hour))
	})

	t.Run("RevokeThenReuseName", func(t *testing.T) {
		must(t, "RevokeOperator", s.RevokeOperator(ctx, "bob", at(3*time.Hour)))
		wantCode(t, "RevokeOperator again", s.RevokeOperator(ctx, "bob", at(4*time.Hour)), host.CodeNotFound)
		old, err := s.GetOperatorByPrefix(ctx, bob.Prefix)
		must(t, "GetOperatorByPrefix", err)
		diff(t, "RevokedAt", ptr(at(3*time.Hour)), old.RevokedAt)
		// A new credential for the same person: the name is free again.
		again, err := s.CreateOperator(ctx, host.Operator{Name: "bob", Prefix: "opcccccccccc", Hash: []byte{5}, CreatedAt: at(5 * time.Hour)})
		must(t, "CreateOperator (reused name)", err)
		got, err := s.ListOperators(ctx)
		must(t, "ListOperators", err)
		bob.RevokedAt = old.RevokedAt
		diff(t, "ListOperators keeps the revoked row", []host.Operator{alice, bob, again}, got)
		a, err := s.GetOperatorByPrefix(ctx, alice.Prefix)
		must(t, "GetOperatorByPrefix", err)
		if a.RevokedAt != nil {
			t.Errorf("revoking bob revoked alice")
		}
	})

	runErrors(t, []errorCase{
		{"ActiveNameTaken", func(ctx context.Context) error {
			_, err := s.CreateOperator(ctx, host.Operator{Name: "alice@example.com", Prefix: "opdddddddddd", Hash: []byte{9}})
			return err
		}, host.CodeConflict},
		{"DuplicatePrefix", func(ctx context.Context) error {
			_, err := s.CreateOperator(ctx, host.Operator{Name: "carol", Prefix: alice.Prefix, Hash: []byte{9}})
			return err
		}, host.CodeConflict},
		{"DuplicateID", func(ctx context.Context) error {
			_, err := s.CreateOperator(ctx, host.Operator{ID: alice.ID, Name: "dave", Prefix: "opeeeeeeeeee", Hash: []byte{9}})
			return err
		}, host.CodeConflict},
		{"BadName", func(ctx context.Context) error {
			_, err := s.CreateOperator(ctx, host.Operator{Name: "eve smith", Prefix: "opffffffffff", Hash: []byte{9}})
			return err
		}, host.CodeInvalid},
		{"EmptyName", func(ctx context.Context) error {
			_, err := s.CreateOperator(ctx, host.Operator{Prefix: "opgggggggggg", Hash: []byte{9}})
			return err
		}, host.CodeInvalid},
		{"NoHash", func(ctx context.Context) error {
			_, err := s.CreateOperator(ctx, host.Operator{Name: "frank", Prefix: "ophhhhhhhhhh"})
			return err
		}, host.CodeInvalid},
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetOperatorByPrefix(ctx, "opzzzzzzzzzz")
			return err
		}, host.CodeNotFound},
		{"RevokeMissing", func(ctx context.Context) error {
			return s.RevokeOperator(ctx, "nobody", t0)
		}, host.CodeNotFound},
		{"TouchMissing", func(ctx context.Context) error {
			return s.TouchOperator(ctx, "op_missing", t0)
		}, host.CodeNotFound},
	})
}

func testReplicas(t *testing.T, s host.Store) {
	ctx := t.Context()
	count := func(since time.Time) int {
		t.Helper()
		n, err := s.LiveReplicas(ctx, since)
		must(t, "LiveReplicas", err)
		return n
	}
	if n := count(t0); n != 0 {
		t.Fatalf("LiveReplicas on an empty store = %d", n)
	}
	must(t, "HeartbeatReplica a", s.HeartbeatReplica(ctx, "a", at(10*time.Second)))
	must(t, "HeartbeatReplica b", s.HeartbeatReplica(ctx, "b", at(20*time.Second)))
	must(t, "HeartbeatReplica a again", s.HeartbeatReplica(ctx, "a", at(30*time.Second)))
	must(t, "HeartbeatReplica a late", s.HeartbeatReplica(ctx, "a", at(5*time.Second))) // never backwards
	for _, c := range []struct {
		since time.Time
		want  int
	}{
		{t0, 2},
		{at(20 * time.Second), 2}, // inclusive
		{at(20*time.Second + time.Microsecond), 1},
		{at(31 * time.Second), 0},
	} {
		if n := count(c.since); n != c.want {
			t.Errorf("LiveReplicas(since %s) = %d, want %d", c.since.Sub(t0), n, c.want)
		}
	}
	must(t, "RemoveReplica", s.RemoveReplica(ctx, "a"))
	must(t, "RemoveReplica unknown", s.RemoveReplica(ctx, "nosuch"))
	if n := count(t0); n != 1 {
		t.Errorf("after removing a: %d live, want 1", n)
	}
	// A heartbeat a day after b's forgets b.
	must(t, "HeartbeatReplica c", s.HeartbeatReplica(ctx, "c", at(20*time.Second+host.ReplicaRetention+time.Second)))
	if n := count(time.Time{}); n != 1 {
		t.Errorf("after a day: %d replicas kept, want only c", n)
	}
	wantCode(t, "HeartbeatReplica empty id", s.HeartbeatReplica(ctx, "", t0), host.CodeInvalid)
}
