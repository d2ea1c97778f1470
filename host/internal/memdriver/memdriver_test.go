package memdriver_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
	"github.com/hashicorp/go-hclog"
)

var accounts atomic.Int64

// provider is a fresh account on a shared in-process driver.
type provider struct {
	d       *memdriver.Driver
	account string
}

// partnerKey is the app credential deliveries are signed with.
const partnerKey = "mem-partner-key-123"

// Connection can be refreshed, so the kit's refresh check runs; it
// carries the partner key and names its account, as the host sends it.
func (p provider) Connection() sdk.Connection {
	return sdk.Connection{Config: map[string]string{"account": p.account},
		Secret:    map[string]string{"api_key": memdriver.GoodKey, "refresh_token": memdriver.RefreshToken},
		App:       map[string]string{"partner_key": partnerKey},
		AccountID: p.account}
}

// Webhook is a delivery as the in-memory CRM sends it: one updated event
// for the record of conn's account, signed with the partner key (the
// body only: no timestamp, so Options.UntimedWebhooks).
func (p provider) Webhook(t *testing.T, conn sdk.Connection, externalID string, now time.Time) sdk.WebhookRequest {
	body, err := json.Marshal(map[string]any{"events": []memdriver.WebhookEvent{{ID: fmt.Sprintf("evt-%d", events.Add(1)),
		Account: conn.Config["account"], Type: "updated", Object: memdriver.ObjectPeople, Record: externalID, At: now.UnixMilli()}}})
	if err != nil {
		t.Fatal(err)
	}
	return sdk.WebhookRequest{Method: "POST", URL: "https://crmhost.test/webhooks/mem", Body: body,
		Headers: map[string][]string{memdriver.SignatureHeader: {memdriver.SignWebhook(partnerKey, body)}}}
}

var events atomic.Int64

// Grant is a sign-in to the provider's account: its config without a
// secret, and the one code the in-memory CRM accepts, with a verifier.
func (p provider) Grant(*testing.T) (sdk.Connection, sdk.Grant) {
	c := p.Connection()
	c.Secret = map[string]string{}
	return c, sdk.Grant{Code: memdriver.AuthCode + "-" + strings.ToLower(rand.Text()), RedirectURI: "https://host.example/oauth/callback", CodeVerifier: "verifier-0123456789"}
}

func (p provider) BadConnection() sdk.Connection {
	c := p.Connection()
	c.Secret = map[string]string{"api_key": "wrong-key-123"}
	return c
}

func (p provider) OtherConnection() sdk.Connection {
	return provider{d: p.d, account: p.account + "-other"}.Connection()
}

func (p provider) Abandoned() int { return p.d.Abandoned(p.account) }

func (p provider) Inject(f drivertest.Fault) {
	kinds := map[drivertest.FaultKind]memdriver.FaultKind{
		drivertest.RateLimit:    memdriver.FaultRateLimit,
		drivertest.ServerError:  memdriver.FaultServerError,
		drivertest.LoseResponse: memdriver.FaultLoseResponse,
		drivertest.Latency:      memdriver.FaultLatency,
		drivertest.Unauthorized: memdriver.FaultUnauthorized,
	}
	p.d.Inject(p.account, memdriver.Fault{Kind: kinds[f.Kind], Count: f.Count, RetryAfter: f.RetryAfter, Latency: f.Latency})
}

func quiet() memdriver.Option { return memdriver.WithLogger(hclog.NewNullLogger()) }

func TestConformance(t *testing.T) {
	d := memdriver.New(quiet())
	drivertest.Run(t, d, drivertest.Options{
		NewProvider: func(t *testing.T) drivertest.Provider {
			return provider{d: d, account: fmt.Sprintf("acct-%d", accounts.Add(1))}
		},
		Object: memdriver.ObjectPeople,
		NewFields: func(n int) map[string]any {
			return map[string]any{"first": fmt.Sprintf("Person%d", n), "last": "Tester",
				"email": fmt.Sprintf("Person.%d@Example.com", n), "phone": fmt.Sprintf("+1 415 555 %04d", 1000+n)}
		},
		PhoneField: "phone", EmailField: "email", UpdateField: "notes",
		UntimedWebhooks: true,
	})
}

func conn(account, key string) sdk.Connection {
	return sdk.Connection{Config: map[string]string{"account": account}, Secret: map[string]string{"api_key": key, "refresh_token": memdriver.RefreshToken}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestAccountsAreIsolated(t *testing.T) {
	c := drivertest.Serve(t, memdriver.New(quiet()))
	a, b := conn("a", memdriver.GoodKey), conn("b", memdriver.GoodKey)
	if _, err := c.CreateRecord(ctx(t), a, sdk.CreateInput{Object: "people", Fields: map[string]any{"email": "x@example.com"}}); err != nil {
		t.Fatal(err)
	}
	r, err := c.LookupCustomer(ctx(t), b, sdk.LookupQuery{Email: "x@example.com"})
	if err != nil || r.Customer != nil || r.MatchCount != 0 {
		t.Fatalf("account b sees account a's record: %+v, %v", r, err)
	}
	r, err = c.LookupCustomer(ctx(t), a, sdk.LookupQuery{Email: "X@example.com"})
	if err != nil || r.MatchCount != 1 {
		t.Fatalf("account a lookup = %+v, %v", r, err)
	}
}

func TestCredentials(t *testing.T) {
	c := drivertest.Serve(t, memdriver.New(quiet()))
	for _, tc := range []struct {
		key    string
		ok     bool
		reason string
		code   sdk.Code
	}{
		{key: memdriver.GoodKey, ok: true},
		{key: memdriver.RefreshedKey, ok: true},
		{key: "bad", reason: "api key rejected", code: sdk.CodeAuth},
		{key: memdriver.ExpiredKey, code: sdk.CodeAuth},
	} {
		t.Run(tc.key, func(t *testing.T) {
			res, err := c.TestConnection(ctx(t), conn("acct", tc.key))
			switch {
			case tc.key == memdriver.ExpiredKey:
				if sdk.CodeOf(err) != sdk.CodeAuth {
					t.Errorf("TestConnection = %+v, %v; want auth_error", res, err)
				}
			case err != nil || res.OK != tc.ok || res.Reason != tc.reason:
				t.Errorf("TestConnection = %+v, %v; want ok %v reason %q", res, err, tc.ok, tc.reason)
			}
			_, err = c.ListRecent(ctx(t), conn("acct", tc.key), sdk.ListQuery{Object: "deals"})
			if got := sdk.CodeOf(err); got != tc.code {
				t.Errorf("ListRecent code = %q, want %q", got, tc.code)
			}
		})
	}
	if _, err := c.TestConnection(ctx(t), sdk.Connection{Secret: map[string]string{"api_key": memdriver.GoodKey}}); sdk.CodeOf(err) != sdk.CodeInvalid {
		t.Errorf("no account: %v, want invalid", err)
	}
}

func TestRefresh(t *testing.T) {
	c := drivertest.Serve(t, memdriver.New(quiet()))
	auth, err := c.Refresh(ctx(t), conn("acct", memdriver.ExpiredKey))
	if err != nil {
		t.Fatal(err)
	}
	if auth.Secret["api_key"] != memdriver.RefreshedKey || auth.Secret["refresh_token"] != memdriver.RefreshToken || auth.ExpiresAt.IsZero() {
		t.Errorf("Refresh = %+v", auth)
	}
	bad := conn("acct", memdriver.ExpiredKey)
	bad.Secret["refresh_token"] = "stale"
	if _, err := c.Refresh(ctx(t), bad); sdk.CodeOf(err) != sdk.CodeAuth {
		t.Errorf("stale refresh token: %v, want auth_error", err)
	}
}

func TestMagicInputs(t *testing.T) {
	var exited atomic.Int32
	c := drivertest.Serve(t, memdriver.New(quiet(), memdriver.WithExit(func(code int) { exited.Store(int32(code)) })))
	good := conn("acct", memdriver.GoodKey)

	_, err := c.LookupCustomer(ctx(t), good, sdk.LookupQuery{Email: memdriver.PanicEmail})
	if sdk.CodeOf(err) != sdk.CodeInternal {
		t.Errorf("panic lookup: %v, want internal", err)
	}
	if _, err := c.LookupCustomer(ctx(t), good, sdk.LookupQuery{Email: "still@serving.com"}); err != nil {
		t.Errorf("after panic: %v", err)
	}

	if _, err := c.LookupCustomer(ctx(t), good, sdk.LookupQuery{Email: memdriver.ExitEmail}); err != nil {
		t.Errorf("exit lookup with exit stubbed: %v", err)
	}
	if exited.Load() != 3 {
		t.Errorf("exit code %d, want 3", exited.Load())
	}

	sctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.LookupCustomer(sctx, good, sdk.LookupQuery{Email: memdriver.SleepEmail})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("sleep lookup: %v after %v; want a prompt deadline error", err, time.Since(start))
	}
}

func TestRecords(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := base
	c := drivertest.Serve(t, memdriver.New(quiet(), memdriver.WithClock(func() time.Time { return now })))
	good := conn("acct", memdriver.GoodKey)
	create := func(fields map[string]any, key string) string {
		t.Helper()
		r, err := c.CreateRecord(ctx(t), good, sdk.CreateInput{Object: "people", Fields: fields, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return r.ExternalID
	}
	a := create(map[string]any{"first": "Ada", "phone": "(415) 555-0100"}, "k1")
	if again := create(map[string]any{"first": "Ada", "phone": "(415) 555-0100"}, "k1"); again != a {
		t.Errorf("idempotent create gave %s then %s", a, again)
	}
	b := create(map[string]any{"first": "Bob", "phone": "+14155550100"}, "")

	// Same clock reading: stamps still increase, so b is the most recent.
	r, err := c.LookupCustomer(ctx(t), good, sdk.LookupQuery{Phone: "415-555-0100"})
	if err != nil || r.MatchCount != 2 || r.Customer.ExternalID != b {
		t.Fatalf("lookup = %+v, %v; want %s of 2", r, err, b)
	}
	now = base.Add(time.Minute)
	if _, err := c.UpdateRecord(ctx(t), good, sdk.UpdateInput{Object: "people", ExternalID: a, Fields: map[string]any{"notes": "x"}}); err != nil {
		t.Fatal(err)
	}
	r, _ = c.LookupCustomer(ctx(t), good, sdk.LookupQuery{Phone: "415-555-0100"})
	if r.Customer.ExternalID != a || r.Customer.Fields["first"] != "Ada" || r.Customer.Fields["notes"] != "x" {
		t.Errorf("after partial update: %+v", r.Customer)
	}
	lr, err := c.ListRecent(ctx(t), good, sdk.ListQuery{Object: "people", Since: now})
	rs := lr.Records
	if err != nil || len(rs) != 1 || rs[0].ExternalID != a {
		t.Errorf("ListRecent since update = %v, %v", rs, err)
	}

	for _, tc := range []struct {
		fields map[string]any
		field  string
	}{
		{map[string]any{"nickname": "x"}, "fields.nickname"},
		{map[string]any{"phone": "not a phone"}, "fields.phone"},
		{map[string]any{"id": "p-9"}, "fields.id"},
	} {
		_, err := c.CreateRecord(ctx(t), good, sdk.CreateInput{Object: "people", Fields: tc.fields})
		var e *sdk.Error
		if !errors.As(err, &e) || e.Code != sdk.CodeInvalid || e.Field != tc.field {
			t.Errorf("create %v: %v, want invalid naming %s", tc.fields, err, tc.field)
		}
	}
	_, err = c.CreateRecord(ctx(t), good, sdk.CreateInput{Object: "deals", Fields: map[string]any{"title": "Big", "amount": "lots"}})
	if sdk.CodeOf(err) != sdk.CodeInvalid {
		t.Errorf("string amount: %v, want invalid", err)
	}
	sch, err := c.DescribeObject(ctx(t), good, "deals")
	if err != nil || len(sch.Fields) == 0 {
		t.Errorf("DescribeObject = %+v, %v", sch, err)
	}
}

var (
	_ drivertest.Provider       = provider{}
	_ drivertest.WebhookSending = provider{}
)
