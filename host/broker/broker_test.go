package broker_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/host/secrets"
	"crmhost.dev/host/sqlite"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

var memBinary, memSHA string

// TestMain builds the in-memory reference driver; the tests launch it for
// real through the supervisor.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "crmhost-broker-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	memBinary = filepath.Join(dir, "crm-driver-mem")
	out, err := exec.Command("go", "build", "-o", memBinary, "crmhost.dev/host/internal/memdriver/cmd/crm-driver-mem").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	if memSHA, err = sdk.FileSHA256(memBinary); err != nil {
		panic(err)
	}
	return m.Run()
}

type fixture struct {
	t       *testing.T
	store   *sqlite.Store
	keyring *secrets.Keyring
	reg     *prometheus.Registry
	b       *broker.Broker
}

func newFixture(t *testing.T, o broker.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "crmhost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := secrets.GenerateLocalKey()
	if err != nil {
		t.Fatal(err)
	}
	kek, err := secrets.NewLocalKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RegisterDriver(ctx, host.DriverEntry{Slug: "mem", Command: memBinary, SHA256: memSHA}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: st, keyring: secrets.NewKeyring(kek), reg: prometheus.NewRegistry()}
	mgr := drivers.NewManager(st, drivers.Options{Registerer: f.reg, PluginDir: filepath.Dir(memBinary)})
	t.Cleanup(mgr.Close)
	o.Store, o.Keyring, o.Drivers = st, f.keyring, mgr
	f.b = broker.New(o)
	return f
}

var operator = broker.Actor{Type: host.ActorOperator, ID: "operator", RequestID: "req-op"}
var agent = broker.Actor{Type: host.ActorTool, ID: "agent-1", RequestID: "req-tool", ConversationID: "conv-1"}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// connected creates a tenant connected to account with the good key.
func (f *fixture) connected(account string) string {
	f.t.Helper()
	ten, err := f.store.CreateTenant(ctx(f.t), host.Tenant{Name: account})
	if err != nil {
		f.t.Fatal(err)
	}
	conn, res, err := f.b.Connect(ctx(f.t), operator, ten.ID, broker.ConnectInput{Provider: "mem",
		Credentials: map[string]string{"account": account, "api_key": memdriver.GoodKey}})
	if err != nil || !res.OK || conn.Status != host.ConnectionActive {
		f.t.Fatalf("connect = %+v, %+v, %v", conn, res, err)
	}
	return ten.ID
}

// plant replaces the tenant's stored secret.
func (f *fixture) plant(tenant string, secret map[string]string) host.Credential {
	f.t.Helper()
	old, err := f.store.GetCredential(ctx(f.t), tenant)
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := secrets.SealJSON(ctx(f.t), f.keyring, secret, broker.CredentialAAD(tenant, old.Version+1))
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := f.store.PutCredential(ctx(f.t), host.Credential{TenantID: tenant, Ciphertext: s.Ciphertext, WrappedDEK: s.WrappedDEK, KEKID: s.KEKID}, old.Version)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) secret(tenant string) (host.Credential, map[string]string) {
	f.t.Helper()
	c, err := f.store.GetCredential(ctx(f.t), tenant)
	if err != nil {
		f.t.Fatal(err)
	}
	var out map[string]string
	if err := secrets.OpenJSON(ctx(f.t), f.keyring, secrets.Sealed{Ciphertext: c.Ciphertext, WrappedDEK: c.WrappedDEK, KEKID: c.KEKID}, broker.CredentialAAD(tenant, c.Version), &out); err != nil {
		f.t.Fatal(err)
	}
	return c, out
}

func (f *fixture) audit(tenant, action string) []host.AuditEntry {
	f.t.Helper()
	rows, err := f.store.ListAudit(ctx(f.t), host.AuditFilter{TenantID: tenant, Action: action, Limit: host.MaxListLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	return rows
}

// driverCalls counts the driver calls of verb the supervisor made.
func (f *fixture) driverCalls(verb string) float64 {
	f.t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "crmhost_driver_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "verb" && l.GetValue() == verb {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func wantCode(t *testing.T, err error, code host.ErrorCode, field string) {
	t.Helper()
	if got := host.CodeOf(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
	if field == "" {
		return
	}
	var he *host.Error
	var se *sdk.Error
	switch {
	case errors.As(err, &he):
		if he.Field != field {
			t.Errorf("field %q, want %q", he.Field, field)
		}
	case errors.As(err, &se):
		if se.Field != field {
			t.Errorf("field %q, want %q", se.Field, field)
		}
	}
}

func TestConnectSplitsCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten, err := f.store.CreateTenant(ctx(t), host.Tenant{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.b.Connect(ctx(t), operator, ten.ID, broker.ConnectInput{Provider: "mem",
		Credentials: map[string]string{"account": "acme", "api_key": "good-key", "region": "moon"}})
	wantCode(t, err, host.CodeInvalid, "credentials.region")
	if _, err := f.store.GetConnection(ctx(t), ten.ID); host.CodeOf(err) != host.CodeNotFound {
		t.Errorf("a refused connect stored a connection (%v)", err)
	}

	conn, res, err := f.b.Connect(ctx(t), operator, ten.ID, broker.ConnectInput{Provider: "mem",
		Credentials: map[string]string{"account": "acme", "api_key": "good-key", "region": "us", "default_region": "GB"}})
	if err != nil || !res.OK {
		t.Fatalf("connect = %+v, %v", res, err)
	}
	if diff := cmp.Diff(map[string]string{"account": "acme", "region": "us", "default_region": "GB"}, conn.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	cred, secret := f.secret(ten.ID)
	if diff := cmp.Diff(map[string]string{"api_key": "good-key"}, secret); diff != "" {
		t.Errorf("secret (-want +got):\n%s", diff)
	}
	// default_region reaches the driver: a UK number written nationally.
	if _, err := f.b.CreateRecord(ctx(t), agent, ten.ID, broker.CreateInput{Object: "customer", Fields: map[string]any{"phone": "020 7946 0000"}}); err != nil {
		t.Fatal(err)
	}
	r, err := f.b.LookupCustomer(ctx(t), agent, ten.ID, broker.LookupInput{Phone: "+44 20 7946 0000"})
	if err != nil || r.MatchCount != 1 {
		t.Errorf("lookup in the default region = %+v, %v", r, err)
	}

	// Reconnecting replaces the credential with the next version.
	if _, _, err := f.b.Connect(ctx(t), operator, ten.ID, broker.ConnectInput{Provider: "mem",
		Credentials: map[string]string{"account": "acme", "api_key": memdriver.RefreshedKey}}); err != nil {
		t.Fatal(err)
	}
	if c, s := f.secret(ten.ID); c.Version != cred.Version+1 || s["api_key"] != memdriver.RefreshedKey {
		t.Errorf("after reconnect: version %d (was %d), secret %v", c.Version, cred.Version, s)
	}
}

func TestDeleteRecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten := f.connected("acme")
	c, err := f.b.CreateRecord(ctx(t), agent, ten, broker.CreateInput{Object: "customer", Fields: map[string]any{"first_name": "Ada"}})
	if err != nil {
		t.Fatal(err)
	}
	del, err := f.b.DeleteRecord(ctx(t), agent, ten, broker.DeleteInput{Object: "customer", ExternalID: c.ExternalID})
	if err != nil || !del.Deleted || !del.HardDeleted {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	r, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{ExternalID: c.ExternalID})
	if err != nil || r.Customer != nil {
		t.Errorf("lookup after delete = %+v, %v", r, err)
	}
	_, err = f.b.DeleteRecord(ctx(t), agent, ten, broker.DeleteInput{Object: "customer", ExternalID: c.ExternalID})
	wantCode(t, err, host.CodeNotFound, "")
	// Both attempts are audited: the delete, and the one the CRM refused.
	rows := f.audit(ten, "record.delete")
	if len(rows) != 2 || rows[0].Outcome != host.OutcomeError || rows[1].Outcome != host.OutcomeOK ||
		!strings.Contains(rows[1].Detail, c.ExternalID) || !strings.Contains(rows[0].Detail, "not_found") {
		t.Errorf("record.delete audit rows = %+v, want the delete (ok) then the refused one (not_found), newest first", rows)
	}

	calls := f.driverCalls("delete_record")
	_, err = f.b.DeleteRecord(ctx(t), agent, ten, broker.DeleteInput{Object: "customer", ExternalID: c.ExternalID, Erase: true})
	wantCode(t, err, host.ErrorCode(sdk.CodeDeleteUnsupported), "")
	if got := f.driverCalls("delete_record"); got != calls {
		t.Errorf("erase on a driver without Eraser made a driver call")
	}
}

// TestRefusedInputTouchesNoSecret: input refused by the mapping never
// decrypts the credential, so it writes no audit row.
func TestRefusedInputTouchesNoSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten := f.connected("acme")
	before := len(f.audit(ten, ""))
	_, err := f.b.SearchRecords(ctx(t), agent, ten, broker.SearchInput{Object: "widget"})
	wantCode(t, err, host.CodeInvalid, "object")
	_, err = f.b.CreateRecord(ctx(t), agent, ten, broker.CreateInput{Object: "customer", Fields: map[string]any{"shoe_size": 44}, IdempotencyKey: "k"})
	wantCode(t, err, host.CodeInvalid, "fields.shoe_size")
	_, err = f.b.UpdateRecord(ctx(t), agent, ten, broker.UpdateInput{Object: "lead", ExternalID: "x", Fields: map[string]any{"a": 1}})
	wantCode(t, err, host.CodeInvalid, "object")
	_, err = f.b.DeleteRecord(ctx(t), agent, ten, broker.DeleteInput{Object: "widget", ExternalID: "x"})
	wantCode(t, err, host.CodeInvalid, "object")
	if n := len(f.audit(ten, "")); n != before {
		t.Errorf("refused input wrote %d audit rows", n-before)
	}
	// The driver's own validation needs the secret, and is audited.
	_, err = f.b.CreateRecord(ctx(t), agent, ten, broker.CreateInput{Object: "customer", Fields: map[string]any{"phone": "not a phone"}})
	wantCode(t, err, host.CodeInvalid, "fields.phone")
	rows := f.audit(ten, "credential.decrypt")
	if len(rows) == 0 || rows[0].RequestID != agent.RequestID || rows[0].ConversationID != agent.ConversationID || rows[0].ActorType != host.ActorTool {
		t.Errorf("decrypt rows %+v", rows)
	}
}

func TestConcurrentRefreshIsSingleFlight(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten := f.connected("acme")
	planted := f.plant(ten, map[string]string{"api_key": memdriver.ExpiredKey, "refresh_token": memdriver.RefreshToken})
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "x@example.com"})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if c, _ := f.secret(ten); c.Version != planted.Version+1 {
		t.Errorf("credential version %d, want %d: exactly one refresh", c.Version, planted.Version+1)
	}
	if rows := f.audit(ten, "credential.refresh"); len(rows) != 1 {
		t.Errorf("%d credential.refresh rows, want 1", len(rows))
	}
	if n := f.driverCalls("refresh"); n != 1 {
		t.Errorf("%v refresh calls to the driver, want 1", n)
	}
}

func TestIdempotentCreateReplaysWithoutDriver(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten := f.connected("acme")
	in := broker.CreateInput{Object: "deal", Fields: map[string]any{"name": "Engine", "amount": 10.0}, IdempotencyKey: "k1"}
	first, err := f.b.CreateRecord(ctx(t), agent, ten, in)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.driverCalls("create_record")
	again, err := f.b.CreateRecord(ctx(t), agent, ten, in)
	if err != nil || again != first {
		t.Errorf("replay = %+v, %v; want %+v", again, err, first)
	}
	if got := f.driverCalls("create_record"); got != calls {
		t.Errorf("a replay called the driver")
	}
	in.Fields["amount"] = 11.0
	_, err = f.b.CreateRecord(ctx(t), agent, ten, in)
	wantCode(t, err, host.CodeIdempotencyReused, "")

	// A failed create releases its key: the retry runs.
	bad := broker.CreateInput{Object: "deal", Fields: map[string]any{"amount": "lots"}, IdempotencyKey: "k2"}
	_, err = f.b.CreateRecord(ctx(t), agent, ten, bad)
	wantCode(t, err, host.CodeInvalid, "fields.amount")
	bad.Fields["amount"] = 5.0
	if _, err := f.b.CreateRecord(ctx(t), agent, ten, bad); err != nil {
		t.Errorf("retry after a failed create: %v", err)
	}
}

type downAudit struct{}

func (downAudit) AppendAudit(context.Context, host.AuditEntry) (host.AuditEntry, error) {
	return host.AuditEntry{}, errors.New("down")
}

func (downAudit) AppendAudits(context.Context, []host.AuditEntry) error { return errors.New("down") }

func (downAudit) ListAudit(context.Context, host.AuditFilter) ([]host.AuditEntry, error) {
	return nil, errors.New("down")
}

func (downAudit) PruneAudit(context.Context, time.Time, int) (int64, error) {
	return 0, errors.New("down")
}

func TestAuditFailureIsCountedNotFatal(t *testing.T) {
	t.Parallel()
	var hook atomic.Uint64
	f := newFixture(t, broker.Options{Audit: downAudit{}, OnAuditFailure: func() { hook.Add(1) }})
	ten := f.connected("acme")
	before := f.b.AuditFailures()
	if _, err := f.b.LookupCustomer(ctx(t), agent, ten, broker.LookupInput{Email: "x@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got := f.b.AuditFailures(); got != before+1 {
		t.Errorf("AuditFailures %d, want %d", got, before+1)
	}
	if hook.Load() != f.b.AuditFailures() {
		t.Errorf("OnAuditFailure called %d times, AuditFailures %d", hook.Load(), f.b.AuditFailures())
	}
}

func TestNotConnected(t *testing.T) {
	t.Parallel()
	f := newFixture(t, broker.Options{})
	ten, err := f.store.CreateTenant(ctx(t), host.Tenant{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.b.LookupCustomer(ctx(t), agent, ten.ID, broker.LookupInput{Email: "x@example.com"})
	wantCode(t, err, host.CodeNotConnected, "")
	_, err = f.b.LookupCustomer(ctx(t), agent, "ten_nosuch", broker.LookupInput{Email: "x@example.com"})
	wantCode(t, err, host.CodeNotFound, "")
	_, _, err = f.b.Test(ctx(t), operator, ten.ID)
	wantCode(t, err, host.CodeNotConnected, "")
}
