package secrets_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/host/secrets"
)

type stats struct{ Hits, Misses uint64 }

func cacheStats(kr *secrets.Keyring) stats {
	h, m := kr.CacheStats()
	return stats{h, m}
}

// rowsFor seals n rows with an uncached keyring so the cache under test starts cold.
func rowsFor(t *testing.T, kek secrets.KEK, n int) ([]secrets.Sealed, []secrets.AAD) {
	t.Helper()
	sealer := uncached(kek)
	var ss []secrets.Sealed
	var aads []secrets.AAD
	for i := range n {
		a := testAAD
		a.RowID = fmt.Sprintf("row-%d", i)
		ss = append(ss, seal(t, sealer, []byte("v"), a))
		aads = append(aads, a)
	}
	return ss, aads
}

func TestDEKCache(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance time.Duration
		row     int  // index into the sealed rows; -1 opens row 0 at another place
		wantErr bool // Open fails
		want    stats
	}
	tests := []struct {
		name    string
		size    int
		ttl     time.Duration
		steps   []step
		unwraps int
	}{
		{
			name: "hit after miss, expiry after ttl",
			size: 10, ttl: time.Minute,
			steps: []step{
				{row: 0, want: stats{0, 1}},
				{row: 0, want: stats{1, 1}},
				{advance: 59 * time.Second, row: 0, want: stats{2, 1}},
				{advance: 1 * time.Second, row: 0, want: stats{2, 2}}, // ttl counts from the unwrap
				{row: 0, want: stats{3, 2}},
			},
			unwraps: 2,
		},
		{
			name: "least recently used evicted at size",
			size: 2, ttl: time.Hour,
			steps: []step{
				{row: 0, want: stats{0, 1}},
				{row: 1, want: stats{0, 2}},
				{row: 0, want: stats{1, 2}},
				{row: 2, want: stats{1, 3}}, // evicts row 1
				{row: 0, want: stats{2, 3}},
				{row: 1, want: stats{2, 4}},
			},
			unwraps: 4,
		},
		{
			name: "a cached DEK is not served for another place",
			size: 10, ttl: time.Hour,
			steps: []step{
				{row: 0, want: stats{0, 1}},
				{row: -1, wantErr: true, want: stats{0, 2}},
				{row: 0, want: stats{1, 2}},
			},
			unwraps: 2,
		},
		{
			name: "disabled",
			size: 0, ttl: time.Hour,
			steps: []step{
				{row: 0, want: stats{0, 1}},
				{row: 0, want: stats{0, 2}},
			},
			unwraps: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kek := &countingKEK{KEK: localKEK(t, "k1")}
			rows, aads := rowsFor(t, kek, 3)
			clock := newFakeClock()
			kr := secrets.NewKeyringWithOptions(kek, nil, secrets.WithDEKCache(tt.size, tt.ttl), secrets.WithClock(clock.Now))
			for i, st := range tt.steps {
				clock.Advance(st.advance)
				s, a := rows[0], aads[0]
				if st.row >= 0 {
					s, a = rows[st.row], aads[st.row]
				} else {
					a.TenantID = "tenant-2"
				}
				_, err := kr.Open(ctx, s, a)
				if (err != nil) != st.wantErr {
					t.Fatalf("step %d: Open err = %v, wantErr %v", i, err, st.wantErr)
				}
				if diff := cmp.Diff(st.want, cacheStats(kr)); diff != "" {
					t.Fatalf("step %d: CacheStats (-want +got):\n%s", i, diff)
				}
			}
			if got := kek.Unwraps(); got != tt.unwraps {
				t.Errorf("KEK unwraps = %d, want %d", got, tt.unwraps)
			}
		})
	}
}

func TestDEKCacheNeverCachesFailures(t *testing.T) {
	ctx := context.Background()
	kek := &countingKEK{KEK: localKEK(t, "k1")}
	rows, aads := rowsFor(t, kek, 1)
	kr := secrets.NewKeyring(kek)

	// The wrapped DEK is genuine, so the unwrap succeeds, but the payload
	// is forged: that DEK must not be cached.
	forged := clone(rows[0])
	forged.Ciphertext[15] ^= 1
	for range 2 {
		if _, err := kr.Open(ctx, forged, aads[0]); !errors.Is(err, secrets.ErrDecrypt) {
			t.Fatalf("Open(forged) err = %v, want ErrDecrypt", err)
		}
	}
	if diff := cmp.Diff(stats{0, 2}, cacheStats(kr)); diff != "" {
		t.Errorf("after failures (-want +got):\n%s", diff)
	}
	if _, err := kr.Open(ctx, rows[0], aads[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(ctx, rows[0], aads[0]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stats{1, 3}, cacheStats(kr)); diff != "" {
		t.Errorf("after successes (-want +got):\n%s", diff)
	}
	if got := kek.Unwraps(); got != 3 {
		t.Errorf("KEK unwraps = %d, want 3", got)
	}
}

func TestSealAndRewrapWarmTheCache(t *testing.T) {
	ctx := context.Background()
	k1, k2 := localKEK(t, "k1"), &countingKEK{KEK: localKEK(t, "k2")}
	kr := secrets.NewKeyring(k2, k1)
	s := seal(t, kr, []byte("v"), testAAD)
	if _, err := kr.Open(ctx, s, testAAD); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stats{1, 0}, cacheStats(kr)); diff != "" {
		t.Errorf("Open after Seal (-want +got):\n%s", diff)
	}

	old := seal(t, secrets.NewKeyring(k1), []byte("v"), testAAD)
	moved, err := kr.Rewrap(ctx, old, testAAD)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(ctx, moved, testAAD); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stats{2, 1}, cacheStats(kr)); diff != "" {
		t.Errorf("Open after Rewrap (-want +got):\n%s", diff)
	}
	if k2.Unwraps() != 0 {
		t.Errorf("primary KEK unwrapped %d times, want 0", k2.Unwraps())
	}

	kr.PurgeCache()
	if _, err := kr.Open(ctx, moved, testAAD); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stats{2, 2}, cacheStats(kr)); diff != "" {
		t.Errorf("Open after PurgeCache (-want +got):\n%s", diff)
	}
}
