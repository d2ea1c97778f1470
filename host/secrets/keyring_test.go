package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/host/secrets"
)

func TestSealOpenRoundTrip(t *testing.T) {
	kr := secrets.NewKeyring(localKEK(t, "k1"))
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"token", []byte(`{"refresh_token":"1//0gAbC","client_secret":"s3cr3t"}`)},
		{"binary", bytes.Repeat([]byte{0xff, 0x00, 0x7f}, 100)},
		{"1 MiB", bytes.Repeat([]byte("x"), 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seal(t, kr, tt.plaintext, testAAD)
			if got, want := len(s.Ciphertext), 12+len(tt.plaintext)+16; got != want {
				t.Errorf("len(Ciphertext) = %d, want nonce+plaintext+tag = %d", got, want)
			}
			if s.KEKID != kr.PrimaryID() {
				t.Errorf("KEKID = %q, want primary %q", s.KEKID, kr.PrimaryID())
			}
			if len(tt.plaintext) >= 8 && bytes.Contains(s.Ciphertext, tt.plaintext[:8]) {
				t.Error("ciphertext contains plaintext")
			}
			got, err := kr.Open(context.Background(), s, testAAD)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got == nil || !bytes.Equal(got, tt.plaintext) { // cmp.Diff is slow on 1 MiB
				t.Errorf("Open mismatch (-want +got):\n%s", cmp.Diff(tt.plaintext, got))
			}
		})
	}
}

func TestSealIsRandomized(t *testing.T) {
	kr := secrets.NewKeyring(localKEK(t, "k1"))
	a := seal(t, kr, []byte("same"), testAAD)
	b := seal(t, kr, []byte("same"), testAAD)
	if bytes.Equal(a.Ciphertext, b.Ciphertext) || bytes.Equal(a.WrappedDEK, b.WrappedDEK) {
		t.Error("two seals of the same value are identical; want fresh DEK and nonce")
	}
}

// uncached returns a keyring without DEK cache, so every Open unwraps.
func uncached(primary secrets.KEK, old ...secrets.KEK) *secrets.Keyring {
	return secrets.NewKeyringWithOptions(primary, old, secrets.WithDEKCache(0, 0))
}

func TestOpenTamperedFails(t *testing.T) {
	plaintext := []byte("api-key-0123456789")
	kr := secrets.NewKeyring(localKEK(t, "k1")) // cached: a warm DEK must not mask tampering
	orig := seal(t, kr, plaintext, testAAD)
	if _, err := kr.Open(context.Background(), orig, testAAD); err != nil {
		t.Fatalf("Open(original): %v", err)
	}
	fields := []struct {
		name string
		get  func(*secrets.Sealed) []byte
	}{
		{"ciphertext", func(s *secrets.Sealed) []byte { return s.Ciphertext }},
		{"wrapped DEK", func(s *secrets.Sealed) []byte { return s.WrappedDEK }},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			n := len(f.get(&orig))
			for i := range n {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					s := clone(orig)
					f.get(&s)[i] ^= mask
					got, err := kr.Open(context.Background(), s, testAAD)
					if !errors.Is(err, secrets.ErrDecrypt) || got != nil {
						t.Fatalf("byte %d ^ %#x: Open = %q, %v; want nil, ErrDecrypt", i, mask, got, err)
					}
				}
			}
			truncated := clone(orig)
			b := f.get(&truncated)
			for _, cut := range []int{0, 1, len(b) / 2, len(b) - 1} {
				s := clone(orig)
				if f.name == "ciphertext" {
					s.Ciphertext = s.Ciphertext[:cut]
				} else {
					s.WrappedDEK = s.WrappedDEK[:cut]
				}
				if _, err := kr.Open(context.Background(), s, testAAD); !errors.Is(err, secrets.ErrDecrypt) {
					t.Errorf("truncated to %d: err = %v, want ErrDecrypt", cut, err)
				}
			}
		})
	}
}

func TestOpenWrongPlaceFails(t *testing.T) {
	kr := secrets.NewKeyring(localKEK(t, "k1"))
	s := seal(t, kr, []byte("secret"), testAAD)
	with := func(f func(*secrets.AAD)) secrets.AAD { a := testAAD; f(&a); return a }
	tests := []struct {
		name string
		aad  secrets.AAD
	}{
		{"other tenant", with(func(a *secrets.AAD) { a.TenantID = "tenant-2" })},
		{"other table", with(func(a *secrets.AAD) { a.Table = "connections" })},
		{"other column", with(func(a *secrets.AAD) { a.Column = "config" })},
		{"other row", with(func(a *secrets.AAD) { a.RowID = "row-2" })},
		{"shifted boundary", secrets.AAD{TenantID: "tenant-1tenant_credentials", Table: "", Column: "secret", RowID: "row-1"}},
		{"fields swapped", secrets.AAD{TenantID: testAAD.Table, Table: testAAD.TenantID, Column: testAAD.Column, RowID: testAAD.RowID}},
		{"case differs", with(func(a *secrets.AAD) { a.TenantID = "Tenant-1" })},
		{"empty row", with(func(a *secrets.AAD) { a.RowID = "" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kr.Open(context.Background(), s, tt.aad)
			if !errors.Is(err, secrets.ErrDecrypt) || got != nil {
				t.Errorf("Open = %q, %v; want nil, ErrDecrypt", got, err)
			}
		})
	}
}

func TestAADBoundaries(t *testing.T) {
	// Length prefixes keep "ab"+"c" apart from "a"+"bc".
	kr := uncached(localKEK(t, "k1"))
	a := secrets.AAD{TenantID: "ab", Table: "c", Column: "d", RowID: "e"}
	b := secrets.AAD{TenantID: "a", Table: "bc", Column: "d", RowID: "e"}
	s := seal(t, kr, []byte("x"), a)
	if _, err := kr.Open(context.Background(), s, b); !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("Open with re-split AAD: err = %v, want ErrDecrypt", err)
	}
}

func TestSealRejectsIncompleteAAD(t *testing.T) {
	kr := secrets.NewKeyring(localKEK(t, "k1"))
	for _, field := range []string{"TenantID", "Table", "Column", "RowID"} {
		t.Run(field, func(t *testing.T) {
			a := testAAD
			switch field {
			case "TenantID":
				a.TenantID = ""
			case "Table":
				a.Table = ""
			case "Column":
				a.Column = ""
			case "RowID":
				a.RowID = ""
			}
			_, err := kr.Seal(context.Background(), []byte("x"), a)
			if !errors.Is(err, secrets.ErrInvalidAAD) || !strings.Contains(err.Error(), field) {
				t.Errorf("Seal: err = %v, want ErrInvalidAAD naming %s", err, field)
			}
		})
	}
}

func TestOpenWrongKey(t *testing.T) {
	k1, k2 := localKEK(t, "k1"), localKEK(t, "k2")
	s := seal(t, secrets.NewKeyring(k1), []byte("secret"), testAAD)

	t.Run("unknown id", func(t *testing.T) {
		_, err := secrets.NewKeyring(k2).Open(context.Background(), s, testAAD)
		if !errors.Is(err, secrets.ErrDecrypt) || !errors.Is(err, secrets.ErrUnknownKEK) {
			t.Fatalf("err = %v, want ErrDecrypt and ErrUnknownKEK", err)
		}
		if !strings.Contains(err.Error(), k1.ID()) || !strings.Contains(err.Error(), k2.ID()) {
			t.Errorf("err = %q, want it to name the missing id %s and the held id %s", err, k1.ID(), k2.ID())
		}
	})
	t.Run("same id, other key", func(t *testing.T) {
		impostor := renamedKEK{KEK: k2, id: k1.ID()}
		_, err := uncached(impostor).Open(context.Background(), s, testAAD)
		if !errors.Is(err, secrets.ErrDecrypt) || errors.Is(err, secrets.ErrUnknownKEK) {
			t.Errorf("err = %v, want opaque ErrDecrypt", err)
		}
	})
	t.Run("forged long id is truncated", func(t *testing.T) {
		forged := clone(s)
		forged.KEKID = strings.Repeat("z", 10_000)
		_, err := secrets.NewKeyring(k1).Open(context.Background(), forged, testAAD)
		if !errors.Is(err, secrets.ErrUnknownKEK) || len(err.Error()) > 1000 {
			t.Errorf("err = %.100q (len %d), want short ErrUnknownKEK", err, len(err.Error()))
		}
	})
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	k1, k2 := localKEK(t, "k1"), localKEK(t, "k2")
	plaintext := []byte(`{"api_key":"abc"}`)

	old := seal(t, secrets.NewKeyring(k1), plaintext, testAAD)

	both := uncached(k2, k1)
	if !both.NeedsRewrap(old) {
		t.Fatal("NeedsRewrap(sealed under K1) = false with primary K2")
	}
	got, err := both.Open(ctx, old, testAAD)
	if err != nil {
		t.Fatalf("keyring(K2, K1).Open(K1 row): %v", err)
	}
	if diff := cmp.Diff(plaintext, got); diff != "" {
		t.Errorf("Open mismatch (-want +got):\n%s", diff)
	}

	moved, err := both.Rewrap(ctx, old, testAAD)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if moved.KEKID != k2.ID() {
		t.Errorf("rewrapped KEKID = %q, want %q", moved.KEKID, k2.ID())
	}
	if diff := cmp.Diff(old.Ciphertext, moved.Ciphertext); diff != "" {
		t.Errorf("Rewrap changed the ciphertext (-old +new):\n%s", diff)
	}
	if bytes.Equal(old.WrappedDEK, moved.WrappedDEK) {
		t.Error("Rewrap left the wrapped DEK unchanged")
	}
	if both.NeedsRewrap(moved) {
		t.Error("NeedsRewrap(rewrapped) = true")
	}

	again, err := both.Rewrap(ctx, moved, testAAD)
	if err != nil {
		t.Fatalf("Rewrap(already primary): %v", err)
	}
	if diff := cmp.Diff(moved, again); diff != "" {
		t.Errorf("Rewrap of a primary row changed it (-want +got):\n%s", diff)
	}

	onlyK2 := secrets.NewKeyring(k2)
	got, err = onlyK2.Open(ctx, moved, testAAD)
	if err != nil {
		t.Fatalf("keyring(K2).Open(rewrapped): %v", err)
	}
	if diff := cmp.Diff(plaintext, got); diff != "" {
		t.Errorf("Open mismatch (-want +got):\n%s", diff)
	}
	if _, err := onlyK2.Open(ctx, old, testAAD); !errors.Is(err, secrets.ErrUnknownKEK) {
		t.Errorf("keyring(K2).Open(old row): err = %v, want ErrUnknownKEK", err)
	}
	// A rewrapped row is still bound to its place.
	other := testAAD
	other.RowID = "row-2"
	if _, err := onlyK2.Open(ctx, moved, other); !errors.Is(err, secrets.ErrDecrypt) {
		t.Errorf("Open(rewrapped, other row): err = %v, want ErrDecrypt", err)
	}
}

func TestRewrapRefusesWhatDoesNotOpen(t *testing.T) {
	k1, k2 := localKEK(t, "k1"), localKEK(t, "k2")
	old := seal(t, secrets.NewKeyring(k1), []byte("secret"), testAAD)
	kr := uncached(k2, k1)
	tests := []struct {
		name   string
		mutate func(*secrets.Sealed, *secrets.AAD)
	}{
		{"tampered ciphertext", func(s *secrets.Sealed, _ *secrets.AAD) { s.Ciphertext[20] ^= 1 }},
		{"tampered wrapped DEK", func(s *secrets.Sealed, _ *secrets.AAD) { s.WrappedDEK[20] ^= 1 }},
		{"other row", func(_ *secrets.Sealed, a *secrets.AAD) { a.RowID = "row-9" }},
		{"unknown KEK", func(s *secrets.Sealed, _ *secrets.AAD) { s.KEKID = "local:0000000000000000" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, a := clone(old), testAAD
			tt.mutate(&s, &a)
			got, err := kr.Rewrap(context.Background(), s, a)
			if !errors.Is(err, secrets.ErrDecrypt) {
				t.Errorf("Rewrap: err = %v, want ErrDecrypt", err)
			}
			if diff := cmp.Diff(secrets.Sealed{}, got); diff != "" {
				t.Errorf("Rewrap returned a value on failure:\n%s", diff)
			}
		})
	}
}

func TestErrorsDoNotLeak(t *testing.T) {
	key := testKey("k1")
	k1 := localKEK(t, "k1")
	kr := secrets.NewKeyring(k1)
	plaintext := []byte("hunter2-very-secret-token")
	s := seal(t, kr, plaintext, testAAD)
	bad := clone(s)
	bad.Ciphertext[len(bad.Ciphertext)-1] ^= 1
	other := testAAD
	other.TenantID = "tenant-2"

	var errs []error
	_, err := kr.Open(context.Background(), bad, testAAD)
	errs = append(errs, err)
	_, err = kr.Open(context.Background(), s, other)
	errs = append(errs, err)
	_, err = secrets.NewKeyring(localKEK(t, "k2")).Open(context.Background(), s, testAAD)
	errs = append(errs, err)
	var m map[string]int
	err = secrets.OpenJSON(context.Background(), kr, s, testAAD, &m)
	errs = append(errs, err)

	forbidden := []string{
		string(plaintext), key,
		fmt.Sprintf("%x", s.Ciphertext), fmt.Sprintf("%x", s.WrappedDEK),
		string(s.Ciphertext), string(s.WrappedDEK),
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, f := range forbidden {
			if strings.Contains(err.Error(), f) {
				t.Errorf("case %d: error %q leaks secret material", i, err)
			}
		}
	}
}

func TestFormattingHidesBytes(t *testing.T) {
	k1 := localKEK(t, "k1")
	s := seal(t, secrets.NewKeyring(k1), []byte("secret"), testAAD)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		for name, v := range map[string]any{"Sealed": s, "*LocalKEK": k1} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, fmt.Sprintf("%x", s.Ciphertext[:8])) || strings.Contains(out, string(s.Ciphertext[:8])) {
				t.Errorf("Sprintf(%s, %s) = %q shows ciphertext", verb, name, out)
			}
		}
	}
	if got, want := fmt.Sprint(k1), "LocalKEK("+k1.ID()+")"; got != want {
		t.Errorf("fmt.Sprint(kek) = %q, want %q", got, want)
	}
}

func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	kek := &countingKEK{KEK: localKEK(t, "k1")}
	sealer := uncached(kek)
	// A tiny cache forces eviction and refill races alongside hits.
	kr := secrets.NewKeyringWithOptions(kek, nil, secrets.WithDEKCache(2, secrets.DefaultDEKCacheTTL))
	type row struct {
		s   secrets.Sealed
		aad secrets.AAD
		pt  []byte
	}
	var rows []row
	for i := range 5 {
		a := testAAD
		a.RowID = fmt.Sprintf("row-%d", i)
		pt := []byte(fmt.Sprintf("secret-%d", i))
		rows = append(rows, row{seal(t, sealer, pt, a), a, pt})
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				r := rows[(g+i)%len(rows)]
				got, err := kr.Open(ctx, r.s, r.aad)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				if !bytes.Equal(got, r.pt) {
					t.Errorf("Open = %q, want %q", got, r.pt)
					return
				}
				if i%50 == 0 {
					kr.PurgeCache()
				}
			}
		})
	}
	wg.Wait()
	hits, misses := kr.CacheStats()
	if hits+misses != 16*200 {
		t.Errorf("hits+misses = %d, want %d", hits+misses, 16*200)
	}
}
