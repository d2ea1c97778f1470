package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmhost.dev/host/secrets"
)

func TestSealOpenJSON(t *testing.T) {
	ctx := context.Background()
	kr := secrets.NewKeyring(localKEK(t, "k1"))
	creds := map[string]string{"client_id": "abc", "client_secret": "s3cr3t-value", "refresh_token": "1//0g"}

	s, err := secrets.SealJSON(ctx, kr, creds, testAAD)
	if err != nil {
		t.Fatalf("SealJSON: %v", err)
	}
	var got map[string]string
	if err := secrets.OpenJSON(ctx, kr, s, testAAD, &got); err != nil {
		t.Fatalf("OpenJSON: %v", err)
	}
	if diff := cmp.Diff(creds, got); diff != "" {
		t.Errorf("OpenJSON (-want +got):\n%s", diff)
	}

	t.Run("wrong place", func(t *testing.T) {
		other := testAAD
		other.RowID = "row-2"
		var out map[string]string
		if err := secrets.OpenJSON(ctx, kr, s, other, &out); !errors.Is(err, secrets.ErrDecrypt) || out != nil {
			t.Errorf("OpenJSON = %v, %v; want nil map, ErrDecrypt", out, err)
		}
	})
	t.Run("wrong shape does not quote the plaintext", func(t *testing.T) {
		var out map[string]int
		err := secrets.OpenJSON(ctx, kr, s, testAAD, &out)
		if err == nil || errors.Is(err, secrets.ErrDecrypt) {
			t.Fatalf("err = %v, want a decode error", err)
		}
		for _, v := range creds {
			if strings.Contains(err.Error(), v) {
				t.Errorf("err %q quotes a secret value", err)
			}
		}
	})
	t.Run("unencodable", func(t *testing.T) {
		if _, err := secrets.SealJSON(ctx, kr, func() {}, testAAD); err == nil {
			t.Error("SealJSON(func) succeeded")
		}
	})
}
