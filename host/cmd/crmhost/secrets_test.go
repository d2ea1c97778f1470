package main_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/secrets"
)

func newKey(t *testing.T) (string, *secrets.LocalKEK) {
	t.Helper()
	raw, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := secrets.NewLocalKEK(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, k
}

// TestSecretsRotate: credentials sealed under the old key are re-wrapped
// under the new one with their payloads untouched, and then open with the
// new key alone.
func TestSecretsRotate(t *testing.T) {
	ctx := context.Background()
	c := newCLI(t)
	oldRaw, oldKEK := newKey(t)
	newRaw, newKEK := newKey(t)

	s := c.store()
	type row struct {
		tenant string
		sealed secrets.Sealed
	}
	var rows []row
	oldRing := secrets.NewKeyring(oldKEK)
	for _, name := range []string{"a", "b", "c"} {
		ten, err := s.CreateTenant(ctx, host.Tenant{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := secrets.SealJSON(ctx, oldRing, map[string]string{"api_key": "secret-" + name}, broker.CredentialAAD(ten.ID, 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutCredential(ctx, host.Credential{TenantID: ten.ID, Ciphertext: sealed.Ciphertext, WrappedDEK: sealed.WrappedDEK, KEKID: sealed.KEKID}, 0); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row{ten.ID, sealed})
	}

	// Without the old key the rotation cannot read the rows: it fails, and
	// changes nothing.
	c.env = []string{"CRM_CREDENTIAL_ENCRYPTION_KEY=" + newRaw}
	if _, errOut, code := c.run("secrets", "rotate"); code == 0 || strings.Contains(errOut, oldRaw) {
		t.Fatalf("rotate without the old key: exit %d, stderr %q", code, errOut)
	}

	c.env = []string{"CRM_CREDENTIAL_ENCRYPTION_KEY=" + newRaw, "CRM_CREDENTIAL_OLD_KEYS=" + oldRaw}
	out := c.ok("secrets", "rotate")
	if !strings.Contains(out, "3 credentials re-wrapped") {
		t.Fatalf("rotate said %q", out)
	}
	if out := c.ok("secrets", "rotate"); !strings.Contains(out, "0 credentials re-wrapped") || !strings.Contains(out, "3 already current") {
		t.Fatalf("second rotate said %q", out)
	}

	newRing := secrets.NewKeyring(newKEK)
	for _, r := range rows {
		cred, err := s.GetCredential(ctx, r.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cred.Ciphertext, r.sealed.Ciphertext) || cred.KEKID != newKEK.ID() || cred.RotatedAt == nil || cred.Version != 1 {
			t.Fatalf("tenant %s after rotate: kek %s rotated %v version %d, payload same %v", r.tenant, cred.KEKID, cred.RotatedAt, cred.Version,
				bytes.Equal(cred.Ciphertext, r.sealed.Ciphertext))
		}
		var secret map[string]string
		if err := secrets.OpenJSON(ctx, newRing, secrets.Sealed{Ciphertext: cred.Ciphertext, WrappedDEK: cred.WrappedDEK, KEKID: cred.KEKID}, broker.CredentialAAD(r.tenant, cred.Version), &secret); err != nil {
			t.Fatalf("new key alone cannot open tenant %s: %v", r.tenant, err)
		}
		if !strings.HasPrefix(secret["api_key"], "secret-") {
			t.Fatalf("secret = %v", secret)
		}
	}
}

func TestSecretsGenkeyAndBadKeys(t *testing.T) {
	c := newCLI(t)
	key := strings.TrimSpace(c.ok("secrets", "genkey"))
	if _, err := secrets.NewLocalKEK(key); err != nil {
		t.Fatalf("genkey printed an unusable key: %v", err)
	}
	for _, bad := range []string{"correct horse battery staple", "c2hvcnQ=", strings.Repeat("A", 44)} {
		c.env = []string{"CRM_CREDENTIAL_ENCRYPTION_KEY=" + bad}
		_, errOut, code := c.run("serve")
		if code == 0 || !strings.Contains(errOut, "CRM_CREDENTIAL_ENCRYPTION_KEY") || strings.Contains(errOut, bad) {
			t.Errorf("key %q: exit %d, stderr %q (must refuse, name the variable, not echo the value)", bad, code, errOut)
		}
	}
}

// TestSecretsReseal: rotate --reseal replaces every credential's data key,
// not only its wrapping: each row gets a new payload sealed for its next
// version under the new key, which opens with the new key alone, keeps its
// expiry, and no longer opens from what was there before. A row sealed
// before versions were bound is resealed by a plain rotate too.
func TestSecretsReseal(t *testing.T) {
	ctx := context.Background()
	c := newCLI(t)
	oldRaw, oldKEK := newKey(t)
	newRaw, newKEK := newKey(t)
	s := c.store()
	oldRing := secrets.NewKeyring(oldKEK)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var legacy string
	before := map[string]host.Credential{}
	for _, name := range []string{"bound", "legacy"} {
		ten, err := s.CreateTenant(ctx, host.Tenant{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		version := 1
		if name == "legacy" {
			version, legacy = 0, ten.ID // sealed as hosts did before version binding
		}
		sealed, err := secrets.SealJSON(ctx, oldRing, map[string]string{"api_key": "secret-" + name}, broker.CredentialAAD(ten.ID, version))
		if err != nil {
			t.Fatal(err)
		}
		cr, err := s.PutCredential(ctx, host.Credential{TenantID: ten.ID, Ciphertext: sealed.Ciphertext, WrappedDEK: sealed.WrappedDEK, KEKID: sealed.KEKID, ExpiresAt: &expires}, 0)
		if err != nil {
			t.Fatal(err)
		}
		before[ten.ID] = cr
	}

	c.env = []string{"CRM_CREDENTIAL_ENCRYPTION_KEY=" + newRaw, "CRM_CREDENTIAL_OLD_KEYS=" + oldRaw}
	if out := c.ok("secrets", "rotate"); !strings.Contains(out, "1 credentials re-wrapped, 1 resealed under new data keys (1 of them sealed before version binding)") {
		t.Fatalf("rotate said %q", out)
	}
	if cr, _ := s.GetCredential(ctx, legacy); cr.Version != 2 {
		t.Fatalf("the legacy row is at version %d after rotate, want 2 (resealed)", cr.Version)
	}
	mid := map[string]host.Credential{}
	for id := range before {
		mid[id], _ = s.GetCredential(ctx, id)
	}
	if out := c.ok("secrets", "rotate", "--reseal"); !strings.Contains(out, "2 resealed under new data keys (0 of them") {
		t.Fatalf("rotate --reseal said %q", out)
	}
	newRing := secrets.NewKeyring(newKEK)
	for id, old := range mid {
		cred, err := s.GetCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if cred.Version != old.Version+1 || cred.KEKID != newKEK.ID() || cred.RotatedAt == nil || !cred.ExpiresAt.Equal(expires) ||
			bytes.Equal(cred.Ciphertext, old.Ciphertext) || bytes.Equal(cred.WrappedDEK, old.WrappedDEK) {
			t.Fatalf("tenant %s after reseal: %+v, want version %d, new payload and key, expiry kept", id, cred, old.Version+1)
		}
		var secret map[string]string
		if err := secrets.OpenJSON(ctx, newRing, secrets.Sealed{Ciphertext: cred.Ciphertext, WrappedDEK: cred.WrappedDEK, KEKID: cred.KEKID},
			broker.CredentialAAD(id, cred.Version), &secret); err != nil || !strings.HasPrefix(secret["api_key"], "secret-") {
			t.Fatalf("new key alone opens tenant %s: %v, %v", id, secret, err)
		}
		// The previous version's payload written back into the row (its
		// version kept) does not open, with every key held.
		both := secrets.NewKeyring(newKEK, oldKEK)
		for _, prev := range []host.Credential{old, before[id]} {
			err := secrets.OpenJSON(ctx, both, secrets.Sealed{Ciphertext: prev.Ciphertext, WrappedDEK: prev.WrappedDEK, KEKID: prev.KEKID},
				broker.CredentialAAD(id, cred.Version), &secret)
			if !errors.Is(err, secrets.ErrDecrypt) {
				t.Fatalf("tenant %s: version %d's ciphertext opens in version %d's row: %v", id, prev.Version, cred.Version, err)
			}
		}
	}
}

// TestSecretsRotateAppCredentials: the drivers' app credentials move to
// the new key with the tenants' (re-wrapped, then resealed), so dropping
// the old key afterwards loses nothing.
func TestSecretsRotateAppCredentials(t *testing.T) {
	ctx := context.Background()
	c := newCLI(t)
	oldRaw, oldKEK := newKey(t)
	newRaw, newKEK := newKey(t)
	s := c.store()
	sealed, err := secrets.SealJSON(ctx, secrets.NewKeyring(oldKEK), map[string]string{"client_secret": "app-secret"}, broker.AppCredentialAAD("acme"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAppCredential(ctx, host.AppCredential{Slug: "acme", Ciphertext: sealed.Ciphertext, WrappedDEK: sealed.WrappedDEK, KEKID: sealed.KEKID}, 0); err != nil {
		t.Fatal(err)
	}
	c.env = []string{"CRM_CREDENTIAL_ENCRYPTION_KEY=" + newRaw, "CRM_CREDENTIAL_OLD_KEYS=" + oldRaw}
	for _, args := range [][]string{{"secrets", "rotate"}, {"secrets", "rotate", "--reseal"}} {
		if out := c.ok(args...); !strings.Contains(out, "1 drivers' app credentials rotated") {
			t.Fatalf("%v said %q", args, out)
		}
	}
	row, err := s.GetAppCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var app map[string]string
	if err := secrets.OpenJSON(ctx, secrets.NewKeyring(newKEK), secrets.Sealed{Ciphertext: row.Ciphertext, WrappedDEK: row.WrappedDEK, KEKID: row.KEKID},
		broker.AppCredentialAAD("acme"), &app); err != nil || app["client_secret"] != "app-secret" || row.Version != 2 || bytes.Equal(row.Ciphertext, sealed.Ciphertext) {
		t.Fatalf("app credentials after rotation: version %d, %v, %v", row.Version, app, err)
	}
	if out := c.ok("secrets", "rotate"); !strings.Contains(out, "0 drivers' app credentials rotated") {
		t.Fatalf("a third rotate said %q", out)
	}
}
