package broker_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/host/internal/pgtest"
	"crmhost.dev/host/postgres"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
)

// rawCredentialWriter writes a credential row's ciphertext and wrapped DEK
// behind the store's back, keeping its version: what a database writer (or
// a restored backup of one column) can do.
type rawCredentialWriter func(ctx context.Context, tenant string, ciphertext, wrappedDEK []byte) error

// TestOldCiphertextWrittenBackFails: each version of a tenant's credential
// is sealed for that version, so an older version's ciphertext written
// back into the row (with the row's version kept, or through the store as
// a new version) fails to open, on SQLite and PostgreSQL. The call is
// refused, audited as a failed decrypt, and never reaches the driver with
// the old secret.
func TestOldCiphertextWrittenBackFails(t *testing.T) {
	stores := map[string]func(t *testing.T) (host.Store, rawCredentialWriter){
		"sqlite": func(t *testing.T) (host.Store, rawCredentialWriter) {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, func(ctx context.Context, tenant string, ct, dek []byte) error {
				_, err := s.DB().ExecContext(ctx, `UPDATE tenant_credentials SET ciphertext = ?, wrapped_dek = ? WHERE tenant_id = ?`, ct, dek, tenant)
				return err
			}
		},
		"postgres": func(t *testing.T) (host.Store, rawCredentialWriter) {
			s, err := postgres.Open(t.Context(), pgtest.Database(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, func(ctx context.Context, tenant string, ct, dek []byte) error {
				_, err := s.Pool().Exec(ctx, `UPDATE tenant_credentials SET ciphertext = $1, wrapped_dek = $2 WHERE tenant_id = $3`, ct, dek, tenant)
				return err
			}
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			st, writeRaw := open(t)
			if _, err := st.RegisterDriver(ctx, host.DriverEntry{Slug: "mem", Command: filepath.Base(memBinary), SHA256: memSHA}); err != nil {
				t.Fatal(err)
			}
			key, err := secrets.GenerateLocalKey()
			if err != nil {
				t.Fatal(err)
			}
			kek, err := secrets.NewLocalKEK(key)
			if err != nil {
				t.Fatal(err)
			}
			mgr := drivers.NewManager(st, drivers.Options{PluginDir: filepath.Dir(memBinary)})
			t.Cleanup(mgr.Close)
			b := broker.New(broker.Options{Store: st, Keyring: secrets.NewKeyring(kek), Drivers: mgr})
			ten, err := st.CreateTenant(ctx, host.Tenant{Name: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			connect := func(apiKey string) {
				t.Helper()
				if _, _, err := b.Connect(ctx, operator, ten.ID, broker.ConnectInput{Provider: "mem",
					Credentials: map[string]string{"account": "acme", "api_key": apiKey}}); err != nil {
					t.Fatal(err)
				}
			}
			lookup := func() error {
				_, err := b.LookupCustomer(ctx, agent, ten.ID, broker.LookupInput{Email: "nobody@example.com"})
				return err
			}
			connect("revoked-key") // version 1: a key the provider no longer takes
			v1, err := st.GetCredential(ctx, ten.ID)
			if err != nil {
				t.Fatal(err)
			}
			connect(memdriver.GoodKey) // version 2
			if err := lookup(); err != nil {
				t.Fatalf("lookup with version 2: %v", err)
			}

			// Written back with the row's version kept.
			if err := writeRaw(ctx, ten.ID, v1.Ciphertext, v1.WrappedDEK); err != nil {
				t.Fatal(err)
			}
			if err := lookup(); host.CodeOf(err) != host.CodeInternal || !strings.Contains(err.Error(), "could not be decrypted") {
				t.Fatalf("lookup with version 1's ciphertext in version 2's row: %v, want internal (cannot decrypt)", err)
			}
			// Written back through the store, as a new version.
			cur, err := st.GetCredential(ctx, ten.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.PutCredential(ctx, host.Credential{TenantID: ten.ID, Ciphertext: v1.Ciphertext, WrappedDEK: v1.WrappedDEK, KEKID: v1.KEKID}, cur.Version); err != nil {
				t.Fatal(err)
			}
			if err := lookup(); host.CodeOf(err) != host.CodeInternal {
				t.Fatalf("lookup with version 1's ciphertext as version 3: %v, want internal", err)
			}
			if err := b.FlushAudit(ctx); err != nil {
				t.Fatal(err)
			}
			rows, err := st.ListAudit(ctx, host.AuditFilter{TenantID: ten.ID, Action: "credential.decrypt"})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) < 2 || rows[0].Outcome != host.OutcomeError || rows[1].Outcome != host.OutcomeError {
				t.Fatalf("decrypt audit rows %+v, want the two refusals recorded as errors", rows)
			}
		})
	}
}
