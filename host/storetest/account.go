package storetest

import (
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// testAccounts covers a connection's provider account id and object list.
func testAccounts(t *testing.T, s host.Store) {
	ctx := t.Context()
	a := mustTenant(t, s, "acct-a")
	b := mustTenant(t, s, "acct-b")
	c := mustTenant(t, s, "acct-c")
	objs := []sdk.ObjectInfo{{Name: "Lead", Canonical: "lead", Verbs: []string{sdk.VerbCreateRecord},
		Unsupported: map[string]string{sdk.VerbDeleteRecord: "no"}, Custom: false},
		{Name: "Pet__c", Label: "Pets", Custom: true, DefaultFields: map[string]string{"pet.name": "Name"}}}

	t.Run("PutKeepsAccountAndObjects", func(t *testing.T) {
		in := host.Connection{TenantID: a.ID, Provider: "alpha", Status: host.ConnectionActive, AccountID: "org-1",
			Objects: objs, ObjectsAt: ptr(at(time.Minute)), CreatedAt: t0, UpdatedAt: t0}
		got, err := s.PutConnection(ctx, in)
		must(t, "PutConnection", err)
		diff(t, "PutConnection", in, got)
		back, err := s.GetConnection(ctx, a.ID)
		must(t, "GetConnection", err)
		diff(t, "GetConnection", in, back)
	})

	t.Run("EmptyObjectListIsNotNil", func(t *testing.T) {
		in := host.Connection{TenantID: c.ID, Provider: "alpha", Status: host.ConnectionActive, Objects: []sdk.ObjectInfo{}, ObjectsAt: ptr(t0)}
		_, err := s.PutConnection(ctx, in)
		must(t, "PutConnection", err)
		back, err := s.GetConnection(ctx, c.ID)
		must(t, "GetConnection", err)
		if back.Objects == nil || len(back.Objects) != 0 || back.ObjectsAt == nil {
			t.Errorf("objects = %#v at %v, want an empty, non-nil list with its time", back.Objects, back.ObjectsAt)
		}
	})

	t.Run("SetAccountAndFind", func(t *testing.T) {
		_, err := s.PutConnection(ctx, host.Connection{TenantID: b.ID, Provider: "alpha", Status: host.ConnectionActive})
		must(t, "PutConnection", err)
		must(t, "SetConnectionAccount", s.SetConnectionAccount(ctx, b.ID, "org-1"))
		got, err := s.ConnectionsByAccount(ctx, "alpha", "org-1")
		must(t, "ConnectionsByAccount", err)
		if len(got) != 2 || got[0].TenantID > got[1].TenantID {
			t.Fatalf("ConnectionsByAccount(alpha, org-1) = %d connections, want tenants a and b in order", len(got))
		}
		for _, none := range [][2]string{{"beta", "org-1"}, {"alpha", "org-2"}} {
			got, err := s.ConnectionsByAccount(ctx, none[0], none[1])
			must(t, "ConnectionsByAccount", err)
			if len(got) != 0 {
				t.Errorf("ConnectionsByAccount(%s, %s) = %d, want none", none[0], none[1], len(got))
			}
		}
		_, err = s.ConnectionsByAccount(ctx, "alpha", "")
		wantCode(t, "ConnectionsByAccount with no account", err, host.CodeInvalid)
		wantCode(t, "SetConnectionAccount of no connection", s.SetConnectionAccount(ctx, "ten_missing", "x"), host.CodeNotFound)
	})

	t.Run("SetObjects", func(t *testing.T) {
		must(t, "SetConnectionObjects", s.SetConnectionObjects(ctx, b.ID, objs[1:], at(2*time.Hour)))
		back, err := s.GetConnection(ctx, b.ID)
		must(t, "GetConnection", err)
		diff(t, "objects", objs[1:], back.Objects)
		if back.ObjectsAt == nil || !back.ObjectsAt.Equal(at(2*time.Hour)) {
			t.Errorf("ObjectsAt = %v, want %v", back.ObjectsAt, at(2*time.Hour))
		}
		must(t, "SetConnectionObjects(nil)", s.SetConnectionObjects(ctx, b.ID, nil, time.Time{}))
		back, err = s.GetConnection(ctx, b.ID)
		must(t, "GetConnection", err)
		if back.Objects != nil || back.ObjectsAt != nil {
			t.Errorf("after clearing: objects %v at %v, want nil", back.Objects, back.ObjectsAt)
		}
		wantCode(t, "SetConnectionObjects of no connection", s.SetConnectionObjects(ctx, "ten_missing", objs, t0), host.CodeNotFound)
	})
}

// testAppCredentials covers the drivers' sealed app credentials.
func testAppCredentials(t *testing.T, s host.Store) {
	ctx := t.Context()
	in := host.AppCredential{Slug: "alpha", Ciphertext: []byte("ct-1"), WrappedDEK: []byte("dek-1"), KEKID: "kek-1", CreatedAt: t0}
	got, err := s.PutAppCredential(ctx, in, 0)
	must(t, "PutAppCredential", err)
	want := in
	want.Version = 1
	diff(t, "PutAppCredential", want, got)

	_, err = s.PutAppCredential(ctx, in, 0)
	wantCode(t, "PutAppCredential again with version 0", err, host.CodeConflict)

	next := host.AppCredential{Slug: "alpha", Ciphertext: []byte("ct-2"), WrappedDEK: []byte("dek-2"), KEKID: "kek-1", CreatedAt: at(time.Hour)}
	got, err = s.PutAppCredential(ctx, next, 1)
	must(t, "PutAppCredential v2", err)
	if got.Version != 2 || string(got.Ciphertext) != "ct-2" {
		t.Errorf("replace = version %d %q, want 2 ct-2", got.Version, got.Ciphertext)
	}
	_, err = s.PutAppCredential(ctx, next, 1)
	wantCode(t, "PutAppCredential of a stale version", err, host.CodeConflict)

	must(t, "RewrapAppCredential", s.RewrapAppCredential(ctx, "alpha", 2, []byte("dek-3"), "kek-2", at(2*time.Hour)))
	back, err := s.GetAppCredential(ctx, "alpha")
	must(t, "GetAppCredential", err)
	if back.Version != 2 || string(back.WrappedDEK) != "dek-3" || back.KEKID != "kek-2" || back.RotatedAt == nil || !back.RotatedAt.Equal(at(2*time.Hour)) {
		t.Errorf("after rewrap = %+v", back)
	}
	wantCode(t, "RewrapAppCredential of a stale version", s.RewrapAppCredential(ctx, "alpha", 1, []byte("x"), "k", t0), host.CodeConflict)
	wantCode(t, "RewrapAppCredential of no driver", s.RewrapAppCredential(ctx, "nope", 1, []byte("x"), "k", t0), host.CodeNotFound)

	_, err = s.PutAppCredential(ctx, host.AppCredential{Slug: "beta", Ciphertext: []byte("b"), WrappedDEK: []byte("b"), KEKID: "kek-1"}, 0)
	must(t, "PutAppCredential beta", err)
	list, err := s.ListAppCredentials(ctx)
	must(t, "ListAppCredentials", err)
	if len(list) != 2 || list[0].Slug != "alpha" || list[1].Slug != "beta" {
		t.Errorf("ListAppCredentials = %d entries, want alpha then beta", len(list))
	}
	_, err = s.PutAppCredential(ctx, host.AppCredential{Slug: "gamma"}, 0)
	wantCode(t, "PutAppCredential without ciphertext", err, host.CodeInvalid)

	must(t, "DeleteAppCredential", s.DeleteAppCredential(ctx, "beta"))
	_, err = s.GetAppCredential(ctx, "beta")
	wantCode(t, "GetAppCredential after delete", err, host.CodeNotFound)
	wantCode(t, "DeleteAppCredential again", s.DeleteAppCredential(ctx, "beta"), host.CodeNotFound)
}
