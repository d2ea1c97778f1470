package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"crmhost.dev/host/secrets"
)

// TestVersionBound: a value sealed for version n of a row opens only as
// version n: not as another version, and not unversioned (nor the
// reverse), so an older version's ciphertext written back into a row
// fails to open.
func TestVersionBound(t *testing.T) {
	kr := secrets.NewKeyring(localKEK(t, "k1"))
	v := func(n int) secrets.AAD { a := testAAD; a.Version = n; return a }
	v2 := seal(t, kr, []byte("token-v2"), v(2))
	v3 := seal(t, kr, []byte("token-v3"), v(3))
	legacy := seal(t, kr, []byte("token-legacy"), v(0))
	for _, c := range []struct {
		name string
		s    secrets.Sealed
		aad  secrets.AAD
		want string
	}{
		{"current", v3, v(3), "token-v3"},
		{"old ciphertext in the current row", v2, v(3), ""},
		{"newer ciphertext as an old version", v3, v(2), ""},
		{"old ciphertext with its own version", v2, v(2), "token-v2"},
		{"versioned opened unversioned", v3, v(0), ""},
		{"unversioned opened as a version", legacy, v(1), ""},
		{"unversioned as such", legacy, v(0), "token-legacy"},
		{"old DEK with the current payload", secrets.Sealed{Ciphertext: v3.Ciphertext, WrappedDEK: v2.WrappedDEK, KEKID: v3.KEKID}, v(3), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := kr.Open(context.Background(), c.s, c.aad)
			if c.want == "" {
				if !errors.Is(err, secrets.ErrDecrypt) || got != nil {
					t.Fatalf("Open = %q, %v; want ErrDecrypt", got, err)
				}
				return
			}
			if err != nil || string(got) != c.want {
				t.Fatalf("Open = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	if _, err := kr.Seal(context.Background(), []byte("x"), v(-1)); !errors.Is(err, secrets.ErrInvalidAAD) {
		t.Errorf("Seal with a negative version: %v, want ErrInvalidAAD", err)
	}
	if got := v(3).String(); got != "tenant-1/tenant_credentials.secret/row-1@v3" {
		t.Errorf("String = %q", got)
	}
}

// TestReseal: Reseal replaces the data key (not only its wrapping) and
// moves the value to its new place and version; it needs the old KEK to
// read and seals under the primary.
func TestReseal(t *testing.T) {
	oldKEK, newKEK := localKEK(t, "old"), localKEK(t, "new")
	from, to := testAAD, testAAD
	from.Version, to.Version = 4, 5
	s := seal(t, secrets.NewKeyring(oldKEK), []byte("refresh-token"), from)

	if _, err := secrets.NewKeyring(newKEK).Reseal(context.Background(), s, from, to); !errors.Is(err, secrets.ErrUnknownKEK) {
		t.Fatalf("Reseal without the old KEK: %v, want ErrUnknownKEK", err)
	}
	kr := secrets.NewKeyring(newKEK, oldKEK)
	got, err := kr.Reseal(context.Background(), s, from, to)
	if err != nil {
		t.Fatal(err)
	}
	rewrapped, err := kr.Rewrap(context.Background(), s, from)
	if err != nil {
		t.Fatal(err)
	}
	if got.KEKID != newKEK.ID() || bytes.Equal(got.Ciphertext, s.Ciphertext) || bytes.Equal(got.Ciphertext, rewrapped.Ciphertext) {
		t.Fatalf("Reseal = %v: want the primary KEK and a new payload (new DEK)", got)
	}
	// The new DEK is not the old one: the old wrapped DEK cannot open the
	// new payload, even with the old KEK still held.
	mixed := secrets.Sealed{Ciphertext: got.Ciphertext, WrappedDEK: rewrapped.WrappedDEK, KEKID: rewrapped.KEKID}
	if _, err := kr.Open(context.Background(), mixed, to); !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatalf("the old DEK opens the resealed payload: %v", err)
	}
	pt, err := secrets.NewKeyring(newKEK).Open(context.Background(), got, to)
	if err != nil || string(pt) != "refresh-token" {
		t.Fatalf("new key alone opens %q, %v", pt, err)
	}
	if _, err := kr.Open(context.Background(), got, from); !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatalf("the resealed value opens as the old version: %v", err)
	}
}
