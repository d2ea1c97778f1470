package main_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
		sealed, err := secrets.SealJSON(ctx, oldRing, map[string]string{"api_key": "secret-" + name}, broker.CredentialAAD(ten.ID))
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
		if err := secrets.OpenJSON(ctx, newRing, secrets.Sealed{Ciphertext: cred.Ciphertext, WrappedDEK: cred.WrappedDEK, KEKID: cred.KEKID}, broker.CredentialAAD(r.tenant), &secret); err != nil {
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
