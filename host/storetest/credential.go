package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"crmhost.dev/host"
)

func testCredentials(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "cred")

	v1 := host.Credential{
		TenantID:   tn.ID,
		Version:    99, // ignored
		Ciphertext: []byte("sealed-1"),
		WrappedDEK: []byte("dek-1"),
		KEKID:      "local:1",
		ExpiresAt:  ptr(at(time.Hour)),
		CreatedAt:  t0,
	}
	t.Run("Create", func(t *testing.T) {
		got, err := s.PutCredential(ctx, v1, 0)
		must(t, "PutCredential", err)
		want := v1
		want.Version = 1
		diff(t, "PutCredential", want, got)
		back, err := s.GetCredential(ctx, tn.ID)
		must(t, "GetCredential", err)
		diff(t, "GetCredential", want, back)
	})

	v2 := host.Credential{
		TenantID:   tn.ID,
		Ciphertext: []byte("sealed-2"),
		WrappedDEK: []byte("dek-2"),
		KEKID:      "local:1",
		RotatedAt:  ptr(at(time.Minute)),
	}
	t.Run("Replace", func(t *testing.T) {
		got, err := s.PutCredential(ctx, v2, 1)
		must(t, "PutCredential", err)
		checkStamp(t, "CreatedAt", got.CreatedAt)
		want := v2
		want.Version = 2
		want.CreatedAt = got.CreatedAt
		diff(t, "PutCredential", want, got)
		back, err := s.GetCredential(ctx, tn.ID)
		must(t, "GetCredential", err)
		diff(t, "GetCredential (ExpiresAt cleared)", want, back)
	})

	other := mustTenant(t, s, "cred-other")
	runErrors(t, []errorCase{
		{"CreateAgain", func(ctx context.Context) error {
			_, err := s.PutCredential(ctx, v1, 0)
			return err
		}, host.CodeConflict},
		{"StaleVersion", func(ctx context.Context) error {
			_, err := s.PutCredential(ctx, v1, 1)
			return err
		}, host.CodeConflict},
		{"FutureVersion", func(ctx context.Context) error {
			_, err := s.PutCredential(ctx, v1, 3)
			return err
		}, host.CodeConflict},
		{"ReplaceNone", func(ctx context.Context) error {
			c := v1
			c.TenantID = other.ID
			_, err := s.PutCredential(ctx, c, 1)
			return err
		}, host.CodeConflict},
		{"UnknownTenant", func(ctx context.Context) error {
			c := v1
			c.TenantID = "ten_missing"
			_, err := s.PutCredential(ctx, c, 0)
			return err
		}, host.CodeNotFound},
		{"NoCiphertext", func(ctx context.Context) error {
			c := v1
			c.Ciphertext = nil
			_, err := s.PutCredential(ctx, c, 0)
			return err
		}, host.CodeInvalid},
		{"NoKEK", func(ctx context.Context) error {
			c := v1
			c.KEKID = ""
			_, err := s.PutCredential(ctx, c, 0)
			return err
		}, host.CodeInvalid},
		{"GetMissing", func(ctx context.Context) error {
			_, err := s.GetCredential(ctx, other.ID)
			return err
		}, host.CodeNotFound},
		{"RewrapStale", func(ctx context.Context) error {
			return s.RewrapCredential(ctx, tn.ID, 1, []byte("dek-x"), "local:2", t0)
		}, host.CodeConflict},
		{"RewrapNone", func(ctx context.Context) error {
			return s.RewrapCredential(ctx, other.ID, 1, []byte("dek-x"), "local:2", t0)
		}, host.CodeNotFound},
		{"RewrapNoDEK", func(ctx context.Context) error {
			return s.RewrapCredential(ctx, tn.ID, 2, nil, "local:2", t0)
		}, host.CodeInvalid},
		{"DeleteMissing", func(ctx context.Context) error {
			return s.DeleteCredential(ctx, other.ID)
		}, host.CodeNotFound},
	})

	t.Run("Rewrap", func(t *testing.T) {
		before, err := s.GetCredential(ctx, tn.ID)
		must(t, "GetCredential", err)
		must(t, "RewrapCredential", s.RewrapCredential(ctx, tn.ID, 2, []byte("dek-2-under-kek-2"), "local:2", at(2*time.Hour)))
		got, err := s.GetCredential(ctx, tn.ID)
		must(t, "GetCredential", err)
		want := before
		want.WrappedDEK = []byte("dek-2-under-kek-2")
		want.KEKID = "local:2"
		want.RotatedAt = ptr(at(2 * time.Hour))
		diff(t, "after rewrap (version and ciphertext unchanged)", want, got)
	})

	t.Run("ListPages", func(t *testing.T) {
		lt := []string{"ten_list_c", "ten_list_a", "ten_list_b"}
		for _, id := range lt {
			_, err := s.CreateTenant(ctx, host.Tenant{ID: id, Name: id})
			must(t, "CreateTenant", err)
			_, err = s.PutCredential(ctx, host.Credential{TenantID: id, Ciphertext: []byte(id), WrappedDEK: []byte("d"), KEKID: "local:1", CreatedAt: t0}, 0)
			must(t, "PutCredential", err)
		}
		var got []string
		after := "ten_list_"
		for page := 0; page < 5; page++ {
			cs, err := s.ListCredentials(ctx, after, 2)
			must(t, "ListCredentials", err)
			if len(cs) > 2 {
				t.Fatalf("page of %d, limit 2", len(cs))
			}
			if len(cs) == 0 {
				break
			}
			for _, c := range cs {
				got = append(got, c.TenantID)
				if strings.HasPrefix(c.TenantID, "ten_list_") {
					diff(t, "ciphertext of "+c.TenantID, c.TenantID, string(c.Ciphertext))
				}
			}
			after = cs[len(cs)-1].TenantID
		}
		// Tenant IDs after "ten_list_" in order: the three listed here,
		// then any generated IDs ("ten_" + base32) sorting after them.
		var mine []string
		for _, id := range got {
			if strings.HasPrefix(id, "ten_list_") {
				mine = append(mine, id)
			}
		}
		diff(t, "listed tenants", []string{"ten_list_a", "ten_list_b", "ten_list_c"}, mine)

		all, err := s.ListCredentials(ctx, "", 0)
		must(t, "ListCredentials", err)
		diff(t, "all credentials", 4, len(all))
	})

	t.Run("Delete", func(t *testing.T) {
		must(t, "DeleteCredential", s.DeleteCredential(ctx, tn.ID))
		_, err := s.GetCredential(ctx, tn.ID)
		wantCode(t, "GetCredential after delete", err, host.CodeNotFound)
		got, err := s.PutCredential(ctx, v1, 0)
		must(t, "PutCredential after delete", err)
		diff(t, "version after re-create", 1, got.Version)
	})
}

// testCredentialRace has n writers replace the same version at once, as
// concurrent token refreshes would: exactly one must win.
func testCredentialRace(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "race")
	_, err := s.PutCredential(ctx, host.Credential{TenantID: tn.ID, Ciphertext: []byte("c0"), WrappedDEK: []byte("d"), KEKID: "k"}, 0)
	must(t, "PutCredential", err)

	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.PutCredential(ctx, host.Credential{TenantID: tn.ID, Ciphertext: []byte(name("c", i)), WrappedDEK: []byte("d"), KEKID: "k"}, 1)
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch host.CodeOf(err) {
		case "":
			won++
		case host.CodeConflict:
		default:
			t.Errorf("writer %d: %v, want nil or conflict", i, err)
		}
	}
	diff(t, "winners", 1, won)
	got, err := s.GetCredential(ctx, tn.ID)
	must(t, "GetCredential", err)
	diff(t, "version", 2, got.Version)
}
